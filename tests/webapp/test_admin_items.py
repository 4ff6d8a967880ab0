"""The administrators' item bank: browser (search, filters, pages, htmx fragment), preview
as candidates see it with the staff-only key, rationales and history, staff images, and the
review workflow (transitions, reviewer and comment, audit, 409/422, CSRF)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from item_bank import authoring
from item_bank.model import ItemKind, QuestionType, Status
from tests.conftest import FakeClock, csrf_token, sign_in
from tests.factories import PASSWORD, make_attempt, make_exam_session, make_user
from tests.webapp.conftest import PNG_1X1, login
from webapp.models import (
    AttemptState,
    AuditLog,
    ContentDomain,
    Form,
    FormItem,
    ItemReview,
    ItemVersion,
    Programme,
    Role,
    User,
)
from webapp.services import items
from webapp.services.item_browser import PAGE_SIZE

# --- a bank of plain items: 31 in programme PB, 1 in QB --------------------------------------


def _programme(session: Session, code: str) -> Programme:
    programme = Programme(code=code, name=f"Bank {code}", warning_minutes=[15, 5])
    session.add(programme)
    session.flush()
    session.add_all([
        ContentDomain(programme_id=programme.id, code="dom-x", name="Domain X", position=1,
                      subdomains=[{"code": "sub-x1", "name": "Sub X1"},
                                  {"code": "sub-x2", "name": "Sub X2"}]),
        ContentDomain(programme_id=programme.id, code="dom-y", name="Domain Y", position=2,
                      subdomains=[{"code": "sub-y1", "name": "Sub Y1"}]),
    ])
    return programme


def _item(programme: Programme, code: str, *, domain: str, subdomain: str, status: Status,
          question_type: QuestionType, stem: str, version: int = 1) -> ItemVersion:
    return ItemVersion(
        code=code, version=version, programme_id=programme.id, domain_code=domain,
        subdomain_code=subdomain, kind=ItemKind.MCQ, question_type=question_type,
        status=status, stem=stem, key="C",
        options=[{"id": o, "text": f"Option {o} of {code}"} for o in "ABCD"],
        rationales={o: f"Why {o} of {code}" for o in "ABCD"},
    )


@pytest.fixture
def bank(session: Session) -> None:
    """PB-0001..PB-0031: dom-x (sub-x1 up to 12, sub-x2 13-20), dom-y (21-31, sub-y1);
    status by n % 3: draft (1, 4, ..), review (2, 5, ..), operational (3, 6, ..);
    best-practice up to 5, then direct; PB-0005 has two versions; QB-0001 in dom-x."""
    pb = _programme(session, "PB")
    for n in range(1, 32):
        domain = "dom-x" if n <= 20 else "dom-y"
        subdomain = "sub-x1" if n <= 12 else "sub-x2" if n <= 20 else "sub-y1"
        status = [Status.OPERATIONAL, Status.DRAFT, Status.REVIEW][n % 3]
        kind = QuestionType.BEST_PRACTICE if n <= 5 else QuestionType.DIRECT
        stem = {7: "A client with heart failure asks about salt.",
                24: "Which HEART FAILURE clinic fits?",
                9: "A 50% co-payment applies; what next?"}.get(n, f"Stem number {n}?")
        session.add(_item(pb, f"PB-{n:04d}", domain=domain, subdomain=subdomain,
                          status=status, question_type=kind, stem=stem))
    session.add(_item(pb, "PB-0005", domain="dom-x", subdomain="sub-x1", status=Status.REVIEW,
                      question_type=QuestionType.BEST_PRACTICE, version=2,
                      stem="Revised: a client with heart failure is discharged."))
    qb = _programme(session, "QB")
    session.add(_item(qb, "QB-0001", domain="dom-x", subdomain="sub-x1", status=Status.DRAFT,
                      question_type=QuestionType.DIRECT, stem="Another bank's stem?"))
    session.commit()


def _client(app: Flask, role: Role) -> FlaskClient:
    from webapp.extensions import db

    user = make_user(db.session, role)
    db.session.commit()
    client = app.test_client()
    assert sign_in(client, user.email, PASSWORD).status_code == 303
    return client


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return _client(app, Role.ADMIN)


_ROW = re.compile(r'<th scope="row"><a href="/admin/items/[^"]+">([^<]+)</a></th>\s*'
                  r"<td>(\d+)</td>")


def _rows(html: str) -> list[tuple[str, int]]:
    return [(code, int(version)) for code, version in _ROW.findall(html)]


def _browse(client: FlaskClient, **args: Any) -> tuple[int, str]:
    resp = client.get("/admin/items", query_string=args)
    return resp.status_code, resp.get_data(as_text=True)


# --- the browser ---------------------------------------------------------------------------


def test_browser_shows_the_latest_version_of_each_item_25_a_page(bank: None,
                                                                   admin: FlaskClient) -> None:
    status, page1 = _browse(admin)
    assert status == 200
    rows = _rows(page1)
    assert len(rows) == PAGE_SIZE == 25
    assert rows[0] == ("PB-0001", 1) and rows[-1] == ("PB-0025", 1)
    assert ("PB-0005", 2) in rows and ("PB-0005", 1) not in rows  # latest only, once
    assert "Items 1 to 25 of 32" in page1
    assert 'href="/admin/items?page=2"' in page1 and 'rel="next"' in page1

    _, page2 = _browse(admin, page=2)
    assert [code for code, _ in _rows(page2)] == [f"PB-{n:04d}" for n in range(26, 32)] + [
        "QB-0001"]
    assert "Items 26 to 32 of 32" in page2 and 'rel="prev"' in page2
    _, past_the_end = _browse(admin, page=9)
    assert _rows(past_the_end) == _rows(page2)  # a page past the end shows the last one


@pytest.mark.parametrize(("args", "expected"), [
    ({"q": "heart"}, ["PB-0005", "PB-0007", "PB-0024"]),  # stem, any case; PB-0005 by v2
    ({"q": "pb-0013"}, ["PB-0013"]),  # id, any case
    ({"q": "  HEART   failure "}, ["PB-0005", "PB-0007", "PB-0024"]),  # spaces folded
    ({"q": "50%"}, ["PB-0009"]),  # % and _ are text, not wildcards
    ({"q": "_"}, []),
    ({"domain": "dom-y", "status": "draft"}, ["PB-0022", "PB-0025", "PB-0028", "PB-0031"]),
    ({"subdomain": "sub-x2", "status": "operational"}, ["PB-0015", "PB-0018"]),
    ({"type": "best-practice", "status": "review"}, ["PB-0002", "PB-0005"]),
    ({"programme": "QB"}, ["QB-0001"]),
    ({"programme": "QB", "domain": "dom-y"}, []),
    ({"q": "stem", "domain": "dom-x", "type": "direct", "status": "operational"},
     ["PB-0006", "PB-0012", "PB-0015", "PB-0018"]),
])
def test_browser_searches_and_filters(bank: None, admin: FlaskClient, args: dict[str, str],
                                      expected: list[str]) -> None:
    status, html = _browse(admin, **args)
    assert status == 200
    assert [code for code, _ in _rows(html)] == expected
    if not expected:
        assert "No item matches these filters." in html
    # The form shows the filters it applied.
    for name, value in args.items():
        if name == "q":
            assert f'name="q" value="{" ".join(value.split())}"' in html
        else:
            assert f'<option value="{value}" selected>' in html


def test_page_links_keep_the_filters(bank: None, admin: FlaskClient) -> None:
    _, html = _browse(admin, q="pb", type="direct")
    assert "Items 1 to 25 of 26" in html
    assert 'href="/admin/items?page=2&amp;q=pb&amp;type=direct"' in html
    assert 'hx-get="/admin/items?page=2&amp;q=pb&amp;type=direct"' in html
    _, last = _browse(admin, q="pb", type="direct", page=2)
    assert [code for code, _ in _rows(last)] == ["PB-0031"]


def test_htmx_gets_the_results_fragment_and_history_gets_the_page(bank: None,
                                                                   admin: FlaskClient) -> None:
    fragment = admin.get("/admin/items?status=operational", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.vary
    assert "<html" not in html and 'role="search"' not in html
    assert "Items 1 to 10 of 10" in html and len(_rows(html)) == 10
    restore = admin.get("/admin/items?status=operational",
                        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)
    page = admin.get("/admin/items?status=operational").get_data(as_text=True)
    assert "<html" in page and 'hx-get="/admin/items"' in page and 'id="results"' in page
    assert '<option value="operational" selected>' in page


@pytest.mark.parametrize(("args", "message"), [
    ({"status": "approved-ish"}, "Unknown status &#39;approved-ish&#39;."),
    ({"type": "essay"}, "Unknown type &#39;essay&#39;."),
    ({"domain": "dom-z"}, "Unknown domain &#39;dom-z&#39;."),
    ({"subdomain": "sub-z"}, "Unknown sub-domain &#39;sub-z&#39;."),
    ({"programme": "ZZ"}, "Unknown programme &#39;ZZ&#39;."),
    ({"page": "two"}, "Bad page number &#39;two&#39;: a page is a whole number from 1."),
    ({"page": "0"}, "Bad page number &#39;0&#39;"),
    ({"page": "-1"}, "Bad page number &#39;-1&#39;"),
    ({"q": "x" * 201}, "The search text is too long: at most 200 characters."),
])
def test_browser_refuses_bad_filters_with_a_message(bank: None, admin: FlaskClient,
                                                    args: dict[str, str],
                                                    message: str) -> None:
    status, html = _browse(admin, **args)
    assert status == 422
    assert message in html


# --- authored items: preview, images, history -------------------------------------------------

PROGRAMME_YAML = """\
code: TST
name: Test programme
domains:
  - code: care-coordination
    name: Care Coordination
    subdomains:
      - code: transitions-of-care
        name: Transitions of care
  - code: evaluation
    name: Evaluation
    subdomains:
      - code: outcome-measures
        name: Outcome measures
"""

ITEM_YAML = """\
id: TST-CC-0001
version: 1
programme: TST
domain: care-coordination
subdomain: transitions-of-care
type: best-practice
level: application
status: draft
author: Item writing team T
references:
  - Coleman EA. The Care Transitions Intervention.
assets:
  - image: pathway.png
    alt: Discharge pathway from ward to home
stem: |
  The chart shows the **discharge pathway**.

  ![](pathway.png)

  | Step | When         |
  |------|-------------:|
  | 1    | On admission |

  Which step is the *medication reconciliation*?
options:
  A:
    text: Step 1, on admission
    rationale: Admission reconciliation exists, but **not** here.
  B:
    text: Step 3, on the day of *discharge*
    rationale: Correct. The discharge list is checked against the home list.
  C:
    text: Step 4, the telephone call
    rationale: The call checks understanding of the list.
  D:
    text: Step 5, the primary care visit
    rationale: Too late to prevent errors in the first days.
key: B
"""

SET_YAML = """\
id: TST-S-0001
version: 1
programme: TST
status: review
author: Item writing team S
references:
  - A scenario reference.
vignette: |
  Mrs Ada Lind, 81, lives alone.

  | Medicine   | How often |
  |------------|-----------|
  | Furosemide | Daily     |
questions:
  - id: TST-S-0001-1
    version: 1
    domain: evaluation
    subdomain: outcome-measures
    level: analysis
    stem: Which outcome measure fits *best*?
    options:
      A: {text: Readmissions in 30 days, rationale: Correct. The aim is fewer readmissions.}
      B: {text: Length of stay, rationale: Not the aim of this programme.}
      C: {text: Bed occupancy, rationale: A hospital measure.}
      D: {text: Staff overtime, rationale: Not about the client.}
    key: A
  - id: TST-S-0001-2
    version: 1
    domain: care-coordination
    subdomain: transitions-of-care
    level: application
    stem: Who should be told first about her discharge?
    options:
      A: {text: Her GP, rationale: Correct. Continuity of care.}
      B: {text: A neighbour, rationale: Not involved in her care.}
      C: {text: The pharmacy chain, rationale: Not first.}
      D: {text: The local paper, rationale: Confidentiality.}
    key: A
"""


def _write_bank(folder: Path, item_yaml: str = ITEM_YAML) -> Path:
    (folder / "cc" / "assets").mkdir(parents=True, exist_ok=True)
    (folder / "sets").mkdir(exist_ok=True)
    (folder / "programme.yaml").write_text(PROGRAMME_YAML, encoding="utf-8")
    (folder / "cc" / "TST-CC-0001.yaml").write_text(item_yaml, encoding="utf-8")
    (folder / "cc" / "assets" / "pathway.png").write_bytes(PNG_1X1)
    (folder / "sets" / "TST-S-0001.yaml").write_text(SET_YAML, encoding="utf-8")
    return folder


def _import(session: Session, folder: Path) -> items.ImportSummary:
    batch = authoring.load(folder)
    assert batch.ok, batch.problems
    summary = items.import_batch(session, batch)
    session.commit()
    return summary


@pytest.fixture
def authored(session: Session, tmp_path: Path) -> Path:
    folder = _write_bank(tmp_path / "tst")
    assert _import(session, folder).new_versions == 4  # the item, the set, its 2 questions
    return folder


def _fresh(session: Session) -> None:
    """End the test's read transaction: requests commit in their own sessions, which an
    open snapshot (SQLite WAL, PostgreSQL repeatable reads) would not see."""
    session.commit()
    session.expire_all()


def _latest(session: Session, code: str) -> ItemVersion:
    _fresh(session)
    row = session.scalars(select(ItemVersion).where(ItemVersion.code == code)
                          .order_by(ItemVersion.version.desc())).first()
    assert row is not None
    return row


_BLOCK = re.compile(r'<div class="question" data-item="\d+">.*?</fieldset>\s*</div>', re.S)


def test_preview_shows_the_candidates_markup_then_the_key_and_rationales(
    authored: Path, admin: FlaskClient, session: Session
) -> None:
    row = _latest(session, "TST-CC-0001")
    sha = row.assets[0]["sha256"]
    resp = admin.get("/admin/items/TST-CC-0001")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    # The candidate's view: rendered safe Markdown, the image from the staff route.
    block = _BLOCK.search(html)
    assert block is not None
    shown = block.group(0)
    assert "<strong>discharge pathway</strong>" in shown
    assert f'<img src="/admin/images/{sha}" alt="Discharge pathway from ward to home">' in shown
    assert '<th class="align-right">When</th>' in shown
    assert "<em>medication reconciliation</em>" in shown
    assert "Step 3, on the day of <em>discharge</em>" in shown
    assert "Why" not in shown and "Correct." not in shown and "rationale" not in shown.lower()
    # Staff only, after it: the key, each rationale (rendered), references, metadata, history.
    after = html[block.end():]
    assert 'Key: <strong class="key-label">B</strong>' in after
    assert "Admission reconciliation exists, but <strong>not</strong> here." in after
    assert "Correct. The discharge list is checked against the home list." in after
    assert "Coleman EA. The Care Transitions Intervention." in after
    assert "Item writing team T" in after and "Best practice" in after
    assert "Transitions of care" in after and "Application" in after
    assert "Version 1" in after and "first version" in after
    assert '<button type="submit" name="to" value="review" class="primary">Submit for review' \
        in after


def test_the_preview_is_the_markup_a_candidate_gets(make_app: Callable[..., Flask],
                                                     tmp_path: Path, clock: FakeClock) -> None:
    """Same macro, same rendering: the question block differs only in the image route."""
    from webapp.extensions import db

    app = make_app()  # no application context around the requests: two users, two browsers
    with app.app_context():
        session = db.session
        _import(session, _write_bank(tmp_path / "tst"))
        row = _latest(session, "TST-CC-0001")
        form = Form(programme_id=row.programme_id, code="TST-F1", title="Form",
                    published=True, shuffle_items=False, shuffle_options=False)
        session.add(form)
        session.flush()
        session.add(FormItem(form_id=form.id, position=1, item_version_id=row.id))
        session.flush()
        session.refresh(form)
        candidate = make_user(session, Role.CANDIDATE)
        staff = make_user(session, Role.ADMIN)
        attempt = make_attempt(session, candidate, make_exam_session(session, form, clock.now),
                               state=AttemptState.IN_PROGRESS, now=clock.now)
        session.commit()
        attempt_id = attempt.id
    exam = login(app, candidate.email).get(f"/exam/{attempt_id}/q/1").get_data(as_text=True)
    preview = login(app, staff.email).get("/admin/items/TST-CC-0001").get_data(as_text=True)

    def block(html: str) -> str:
        match = _BLOCK.search(html)
        assert match is not None
        return re.sub(r'src="/(admin|exam/\d+)/images/', 'src="/IMAGES/', match.group(0))

    assert block(exam) == block(preview)
    assert f'src="/exam/{attempt_id}/images/' in exam and "<strong>" in block(exam)


def test_staff_images_are_served_from_the_stored_bytes(authored: Path, admin: FlaskClient,
                                                       session: Session, app: Flask) -> None:
    sha = _latest(session, "TST-CC-0001").assets[0]["sha256"]
    resp = admin.get(f"/admin/images/{sha}")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.data == PNG_1X1
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in resp.headers["Cache-Control"]
    assert admin.get(f"/admin/images/{'0' * 64}").status_code == 404
    assert admin.get("/admin/images/short").status_code == 404
    for role in (Role.CANDIDATE, Role.PROCTOR):
        assert _client(app, role).get(f"/admin/images/{sha}").status_code == 403


def test_scenario_questions_show_the_vignette(authored: Path, admin: FlaskClient) -> None:
    html = admin.get("/admin/items/TST-S-0001-2").get_data(as_text=True)
    block = _BLOCK.search(html)
    assert block is not None
    assert '<section class="vignette" aria-labelledby="vignette-heading">' in block.group(0)
    assert "<p>Mrs Ada Lind, 81, lives alone.</p>" in block.group(0)
    assert "<td>Furosemide</td>" in block.group(0)
    assert "TST-S-0001, version 1" in html
    assert 'class="status status-review">In review' in html  # the set's default status


def test_versions_history_names_changed_fields_and_older_versions_open(
    authored: Path, admin: FlaskClient, session: Session, clock: FakeClock
) -> None:
    edited = ITEM_YAML.replace("Which step is the", "Which step of the chart is the").replace(
        "The call checks understanding of the list.", "The call checks the list.").replace(
        "key: B", "key: B\ndifficulty: 0.3")
    _write_bank(authored, edited)
    summary = _import(session, authored)
    assert [(c.code, c.version) for c in summary.items] == [("TST-CC-0001", 2)]

    html = admin.get("/admin/items/TST-CC-0001").get_data(as_text=True)
    assert "Item TST-CC-0001, version 2" in html and "earlier version" not in html
    history = html[html.index('id="versions-heading"'):]
    assert "difficulty, stem, options.C.rationale" in history
    assert "first version" in history
    assert 'href="/admin/items/TST-CC-0001/versions/1"' in history

    old = admin.get("/admin/items/TST-CC-0001/versions/1").get_data(as_text=True)
    assert "Item TST-CC-0001, version 1" in old
    assert "This is an earlier version; the latest is version 2." in old
    assert "Which step is the" in old and "Which step of the chart" not in old
    assert "Reviews act on the latest version, 2." in old
    assert 'name="version" value="2"' in old

    assert admin.get("/admin/items/TST-CC-0001/versions/3").status_code == 404
    missing = admin.get("/admin/items/NO-SUCH-ITEM")
    assert missing.status_code == 404
    assert "There is no item NO-SUCH-ITEM in the bank." in missing.get_data(as_text=True)


def test_candidates_and_proctors_cannot_open_the_bank(authored: Path, app: Flask) -> None:
    for role in (Role.CANDIDATE, Role.PROCTOR):
        client = _client(app, role)
        for path in ("/admin/items", "/admin/items/TST-CC-0001",
                     "/admin/items/TST-CC-0001/versions/1"):
            resp = client.get(path)
            body = resp.get_data(as_text=True)
            assert resp.status_code == 403, (role, path)
            assert "Correct." not in body and "TST-CC-0001" not in body
        refused = client.post("/admin/items/TST-CC-0001/status",
                              data={"to": "review", "from": "draft", "version": "1"})
        assert refused.status_code == 403


# --- the review workflow ---------------------------------------------------------------------


def _move(client: FlaskClient, code: str, to: str, *, version: int, current: str,
          comment: str = "", **extra: str) -> Any:
    return client.post(f"/admin/items/{code}/status", data={
        "to": to, "from": current, "version": str(version), "comment": comment, **extra})


def _reviews(session: Session) -> list[ItemReview]:
    _fresh(session)
    return list(session.scalars(select(ItemReview).order_by(ItemReview.id)))


def _audit(session: Session) -> list[AuditLog]:
    _fresh(session)
    return list(session.scalars(select(AuditLog).where(AuditLog.action == "item.status")
                                .order_by(AuditLog.id)))


def test_the_review_workflow_records_reviewer_comment_time_and_audit(
    authored: Path, admin: FlaskClient, session: Session, clock: FakeClock
) -> None:
    start = clock.now
    path = [("review", "draft", "Ready for review"), ("approved", "review", ""),
            ("pretest", "approved", "Pretest in the spring window"),
            ("operational", "pretest", "Pretest statistics are fine"),
            ("retired", "operational", "Superseded by the 2027 standards")]
    for to, current, comment in path:
        clock.advance(60)
        resp = _move(admin, "TST-CC-0001", to, version=1, current=current, comment=comment)
        assert resp.status_code == 303, resp.get_data(as_text=True)
        assert resp.headers["Location"] == "/admin/items/TST-CC-0001"
        assert _latest(session, "TST-CC-0001").status.value == to

    rows = _reviews(session)
    reviewer = session.scalars(select(User).where(User.role == Role.ADMIN)).one()
    assert [(r.from_status.value, r.to_status.value, r.comment) for r in rows] == [
        (current, to, comment) for to, current, comment in path]
    assert {r.reviewer_id for r in rows} == {reviewer.id}
    assert [r.created_at for r in rows] == [start + timedelta(minutes=n) for n in range(1, 6)]
    assert {r.item_code for r in rows} == {"TST-CC-0001"}

    entries = _audit(session)
    assert [(e.actor_id, e.target, e.reason, e.data["from_status"], e.data["to_status"])
            for e in entries] == [(reviewer.id, "item:TST-CC-0001 v1", comment or None,
                                   current, to) for to, current, comment in path]
    assert [e.data["review_id"] for e in entries] == [r.id for r in rows]

    # Not a new content version: one version, its hash matching its content.
    row = _latest(session, "TST-CC-0001")
    assert session.scalar(select(func.count()).select_from(ItemVersion).where(
        ItemVersion.code == "TST-CC-0001")) == 1
    programme = session.get(Programme, row.programme_id)
    assert programme is not None
    assert row.content_hash == authoring.item_hash(items.item_of(row, programme.code))

    page = admin.get("/admin/items/TST-CC-0001").get_data(as_text=True)
    assert "Item TST-CC-0001: Operational → Retired." in page  # the flashed message
    history = page[page.index("Review history"):]
    assert history.count("<tr><td>2026-11-23 09:0") == 5
    assert "Superseded by the 2027 standards" in history and "Retired" in history
    assert "A retired item cannot change status" in page


def test_a_reviewed_bank_exports_and_imports_as_unchanged(
    authored: Path, admin: FlaskClient, session: Session, tmp_path: Path
) -> None:
    for to, current in (("review", "draft"), ("approved", "review")):
        assert _move(admin, "TST-CC-0001", to, version=1, current=current).status_code == 303
    assert _move(admin, "TST-S-0001-2", "approved", version=1, current="review",
                 comment="Fine").status_code == 303

    written = items.export_bank(session, tmp_path / "out", ["TST"])
    assert written
    assert "status: approved" in (tmp_path / "out" / "tst" / "care-coordination" /
                                  "TST-CC-0001.yaml").read_text(encoding="utf-8")
    summary = _import(session, tmp_path / "out" / "tst")
    assert summary.new_versions == 0 and summary.unchanged_items == 3

    # The author's old file (status: draft) now differs from the bank: a new version.
    again = _import(session, authored)
    assert sorted((c.code, c.version) for c in again.items) == [("TST-CC-0001", 2),
                                                                 ("TST-S-0001-2", 2)]
    assert _latest(session, "TST-CC-0001").status is Status.DRAFT


@pytest.mark.parametrize(("to", "current", "message"), [
    ("approved", "draft", "An item in status draft cannot move to approved; from draft it can "
                          "move to review, retired."),
    ("operational", "draft", "cannot move to operational"),
    ("draft", "draft", "cannot move to draft"),
])
def test_an_illegal_transition_is_a_409_that_changes_nothing(
    authored: Path, admin: FlaskClient, session: Session, to: str, current: str,
    message: str
) -> None:
    before = _latest(session, "TST-CC-0001").content_hash
    resp = _move(admin, "TST-CC-0001", to, version=1, current=current, comment="why not")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert message in html and 'role="alert"' in html
    assert 'why not</textarea>' in html  # the comment is kept for another try
    assert _reviews(session) == [] and _audit(session) == []
    row = _latest(session, "TST-CC-0001")
    assert row.status is Status.DRAFT and row.content_hash == before


def test_a_retired_item_cannot_move(authored: Path, admin: FlaskClient,
                                    session: Session) -> None:
    assert _move(admin, "TST-CC-0001", "retired", version=1, current="draft",
                 comment="Duplicate of another item").status_code == 303
    resp = _move(admin, "TST-CC-0001", "draft", version=1, current="retired", comment="back")
    assert resp.status_code == 409
    assert ("Item TST-CC-0001 is retired: its status cannot change. Import a new version to "
            "bring it back.") in resp.get_data(as_text=True)
    assert len(_reviews(session)) == 1


def test_a_stale_page_gets_a_409(authored: Path, admin: FlaskClient, session: Session) -> None:
    assert _move(admin, "TST-CC-0001", "review", version=1, current="draft").status_code == 303
    # A second reviewer's page still says draft.
    stale = _move(admin, "TST-CC-0001", "retired", version=1, current="draft", comment="old")
    assert stale.status_code == 409
    assert "The status of item TST-CC-0001 changed to review while you were reviewing it." \
        in stale.get_data(as_text=True)
    # A version the page did not show.
    newer = _move(admin, "TST-CC-0001", "approved", version=2, current="review")
    assert newer.status_code == 409
    assert "Item TST-CC-0001 is at version 1, not the version 2 you reviewed." in \
        newer.get_data(as_text=True)
    assert len(_reviews(session)) == 1


@pytest.mark.parametrize(("fields", "message"), [
    ({"to": "draft", "from": "review", "version": "1", "comment": "  "},
     "Give a comment: returning an item to draft or retiring it needs a reason."),
    ({"to": "retired", "from": "review", "version": "1"}, "Give a comment"),
    ({"to": "approved", "from": "review", "version": "1", "comment": "x" * 2001},
     "The comment is too long: 2001 characters, at most 2000."),
    ({"to": "approved", "from": "review", "version": "1", "comment": "ok\x00"},
     "The comment contains control characters; remove them."),
    ({"to": "published", "from": "review", "version": "1"},
     "Unknown status &#39;published&#39; in the field to."),
    ({"to": "approved", "from": "", "version": "1"}, "Unknown status &#39;&#39; in the field"),
    ({"to": "approved", "from": "review", "version": "one"},
     "The field version has the wrong type."),
])
def test_bad_review_input_is_a_422_that_changes_nothing(
    authored: Path, admin: FlaskClient, session: Session, fields: dict[str, str],
    message: str
) -> None:
    # TST-S-0001-1 is in review (its set's status).
    resp = admin.post("/admin/items/TST-S-0001-1/status", data=fields)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert _reviews(session) == [] and _audit(session) == []
    assert _latest(session, "TST-S-0001-1").status is Status.REVIEW


def test_a_review_of_an_unknown_item_is_a_404(authored: Path, admin: FlaskClient) -> None:
    resp = _move(admin, "NO-SUCH-ITEM", "review", version=1, current="draft")
    assert resp.status_code == 404


def test_a_review_needs_the_csrf_token(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    from webapp.extensions import db

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        _import(db.session, _write_bank(tmp_path / "tst"))
        email = make_user(db.session, Role.ADMIN).email
        db.session.commit()
    client = login(app, email)  # requests outside any application context, as in production
    data = {"to": "review", "from": "draft", "version": "1", "comment": "go"}
    for token in (None, "forged"):
        sent = dict(data, **({"csrf_token": token} if token else {}))
        refused = client.post("/admin/items/TST-CC-0001/status", data=sent)
        assert refused.status_code == 400
        assert "security token is missing or invalid" in refused.get_data(as_text=True)
    with app.app_context():
        assert _reviews(db.session) == []
    token = csrf_token(client, "/admin/items/TST-CC-0001")
    done = client.post("/admin/items/TST-CC-0001/status", data=dict(data, csrf_token=token))
    assert done.status_code == 303
    with app.app_context():
        assert [r.to_status for r in _reviews(db.session)] == [Status.REVIEW]
