"""Security properties of the whole URL map: roles, CSRF, the key, headers, escaping."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from itsdangerous.timed import TimestampSigner
from sqlalchemy import delete, select, update
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from tests.conftest import FakeClock, csrf_token
from tests.factories import PASSWORD
from tests.webapp.conftest import (
    World,
    assert_unchanged,
    build_world,
    db_rows,
    login,
    new_audit_actions,
)
from webapp.extensions import db
from webapp.models import (
    Attempt,
    AttemptState,
    AuditLog,
    Form,
    FormItem,
    ItemVersion,
    Response,
    Role,
)

ALL_ROLES = frozenset(Role)
# Blueprint -> (URL prefix of all its rules, roles allowed). A blueprint missing here fails
# test_every_rule_is_covered_by_the_role_table: add it, with its roles, deliberately.
ROLE_TABLE: dict[str, tuple[str, frozenset[Role]]] = {
    "auth": ("/", ALL_ROLES),  # /logout needs a signed-in user of any role
    "candidate": ("/candidate/", frozenset({Role.CANDIDATE})),
    "delivery": ("/exam/", frozenset({Role.CANDIDATE})),
    "proctor": ("/proctor/", frozenset({Role.PROCTOR, Role.ADMIN})),
    "admin": ("/admin/", frozenset({Role.ADMIN})),
}
# Views open to anonymous users; a new public view must be added here deliberately.
PUBLIC_ENDPOINTS = frozenset({"auth.index", "auth.login"})
JSON_ENDPOINTS = frozenset({"delivery.save", "delivery.position", "delivery.status"})


def _rules(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"),
                  key=lambda r: (r.rule, r.endpoint))


def _calls(app: Flask) -> Iterator[tuple[Rule, str]]:
    for rule in _rules(app):
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            yield rule, method


def _blueprint(rule: Rule) -> str:
    return rule.endpoint.partition(".")[0]


def _form_code(world: World) -> str:
    """The code of the world's first form (the one its attempts sit)."""
    with world.app.app_context():
        code = db.session.scalar(select(Form.code).order_by(Form.id))
        db.session.rollback()
    assert code is not None
    return code


def _url(world: World, rule: Rule) -> str:
    samples = {"attempt_id": world.attempt_id, "position": 2, "code": world.item_code,
               "version": 1, "sha256": world.image_sha, "form_code": _form_code(world)}
    missing = set(rule.arguments) - samples.keys()
    assert not missing, f"no sample value for {missing} of {rule.rule}: add one to the test"
    with world.app.test_request_context():
        return url_for(rule.endpoint, **{name: samples[name] for name in rule.arguments})


def _body(world: World, endpoint: str) -> dict[str, Any]:
    """A plausible request body: were the request let through, it would change something."""
    json_bodies = {
        "delivery.save": {"seq": 50, "item": world.items[0], "choice": "A", "position": 2},
        "delivery.position": {"position": 3},
    }
    forms = {
        "auth.login": {"email": world.candidate, "password": PASSWORD},
        "delivery.begin": {"accept": "yes"},
        "delivery.answer": {"choice": "B", "action": "next"},
        "proctor.unlock": {"reason": "workstation change"},
        "admin.change_status": {"to": "retired", "from": "operational", "version": "1",
                                "comment": "no longer current"},
        "admin.forms_assemble": {"programme": "CCM", "count": "1", "seed": "1"},
        "admin.form_publish": {"confirm": _form_code(world)},
    }
    if endpoint in json_bodies:
        return {"json": json_bodies[endpoint]}
    return {"data": forms.get(endpoint, {})}


def _send(client: FlaskClient, world: World, rule: Rule, method: str,
          **kwargs: Any) -> TestResponse:
    url = _url(world, rule)
    if method == "GET":
        return client.get(url, **kwargs)
    return client.post(url, **_body(world, rule.endpoint), **kwargs)


# --- roles over the URL map ------------------------------------------------------------


def test_every_rule_is_covered_by_the_role_table(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    public = set()
    for rule in _rules(app):
        blueprint = _blueprint(rule)
        assert blueprint in ROLE_TABLE, f"{rule.rule} ({rule.endpoint}) has no role entry"
        prefix, roles = ROLE_TABLE[blueprint]
        assert rule.rule.startswith(prefix), f"{rule.rule} is outside {prefix}"
        assert roles, blueprint
        if getattr(app.view_functions[rule.endpoint], "is_public", False):
            public.add(rule.endpoint)
    assert public == PUBLIC_ENDPOINTS
    assert {_blueprint(r) for r in _rules(app)} == ROLE_TABLE.keys()


def test_anonymous_users_are_refused_everywhere_but_public_views(world: World) -> None:
    client = world.app.test_client()
    before = db_rows(world.app)
    checked = []
    for rule, method in _calls(world.app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        resp = _send(client, world, rule, method)
        where = f"{method} {rule.rule}"
        if method == "GET":
            assert resp.status_code == 302, where
            location = urlsplit(resp.headers["Location"])
            assert location.path == "/login", where
            assert "next=" in location.query, where
            as_json = _send(client, world, rule, method,
                            headers={"Accept": "application/json"})
            assert as_json.status_code == 401, where
            assert as_json.json == {"error": "unauthorized", "message": "Please sign in."}
        else:
            assert resp.status_code == 401, where
            assert "Please sign in." in resp.get_data(as_text=True), where
        checked.append(where)
    assert len(checked) >= 15
    assert_unchanged(before, db_rows(world.app))


def test_wrong_roles_are_refused_with_403_and_change_nothing(world: World) -> None:
    clients = {role: login(world.app, email) for role, email in world.emails.items()}
    before = db_rows(world.app)
    refused = 0
    for rule, method in _calls(world.app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        _, allowed = ROLE_TABLE[_blueprint(rule)]
        for role in sorted(ALL_ROLES - allowed):
            resp = _send(clients[role], world, rule, method)
            where = f"{role} {method} {rule.rule}"
            assert resp.status_code == 403, where
            assert "You do not have access to this page." in resp.get_data(as_text=True)
            refused += 1
    assert refused >= 25
    after = db_rows(world.app)
    assert_unchanged(before, after, ignore=("audit_log",))
    assert new_audit_actions(before, after) == ["security.wrong_role"] * refused


def test_allowed_roles_reach_every_page(world: World) -> None:
    """The role table is not stricter than the app: each allowed role gets its GET pages."""
    clients = {role: login(world.app, email) for role, email in world.emails.items()}
    for rule, method in _calls(world.app):
        if method != "GET" or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for role in ROLE_TABLE[_blueprint(rule)][1]:
            resp = _send(clients[role], world, rule, method)
            assert resp.status_code in (200, 303), f"{role} GET {rule.rule}"
            assert urlsplit(resp.headers.get("Location", "")).path != "/login"


# --- CSRF ------------------------------------------------------------------------------


@pytest.fixture
def csrf_world(make_app: Callable[..., Flask], clock: FakeClock) -> World:
    return build_world(make_app(WTF_CSRF_ENABLED=True), clock)


def _post(client: FlaskClient, world: World, rule: Rule, token: str | None) -> TestResponse:
    body = _body(world, rule.endpoint)
    if token is not None and "json" in body:
        return client.post(_url(world, rule), headers={"X-CSRFToken": token}, **body)
    if token is not None:
        body["data"] = {**body["data"], "csrf_token": token}
    return client.post(_url(world, rule), **body)


def test_every_post_refuses_a_missing_or_wrong_csrf_token(csrf_world: World) -> None:
    world = csrf_world
    clients: dict[Role | None, FlaskClient] = {
        role: login(world.app, email) for role, email in world.emails.items()
    }
    clients[None] = world.app.test_client()
    foreign = csrf_token(world.app.test_client())  # well signed, but another browser's
    before = db_rows(world.app)
    refused = 0
    for rule, method in _calls(world.app):
        if method != "POST":
            continue
        allowed = ROLE_TABLE[_blueprint(rule)][1]
        role = None if rule.endpoint in PUBLIC_ENDPOINTS else min(allowed)
        for token in (None, "not-a-token", foreign):
            resp = _post(clients[role], world, rule, token)
            where = f"POST {rule.rule} with token {token!r:.20}"
            assert resp.status_code == 400, where
            if rule.endpoint in JSON_ENDPOINTS:
                assert resp.is_json, where
                assert resp.json["error"] == "csrf", where
                assert "security token" in resp.json["message"], where
            else:
                assert resp.mimetype == "text/html", where
                assert "security token is missing or invalid" in resp.get_data(as_text=True)
            refused += 1
    assert refused == 3 * sum(1 for _, m in _calls(world.app) if m == "POST")
    after = db_rows(world.app)
    assert_unchanged(before, after, ignore=("audit_log",))
    assert new_audit_actions(before, after) == ["security.csrf_failed"] * refused

    # The same requests with the browser's own token go through.
    candidate = clients[Role.CANDIDATE]
    token = csrf_token(candidate, f"/exam/{world.attempt_id}/q/1")
    saved = candidate.post(f"/exam/{world.attempt_id}/save", headers={"X-CSRFToken": token},
                           json={"seq": 1, "item": world.items[0], "choice": "A"})
    assert saved.status_code == 200 and saved.json["applied"] is True
    fresh = world.app.test_client()
    signed_in = fresh.post("/login", data={"email": world.proctor, "password": PASSWORD,
                                           "csrf_token": csrf_token(fresh)})
    assert signed_in.status_code == 303


def test_csrf_token_lasts_a_whole_sitting(make_app: Callable[..., Flask], clock: FakeClock,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = make_app()
    limit = defaults.config["WTF_CSRF_TIME_LIMIT"]
    assert limit >= 6 * 3600
    assert defaults.config["PERMANENT_SESSION_LIFETIME"] >= timedelta(seconds=limit)
    # The login session counts from sign-in and, by default, ends with the token; give it
    # two more hours here so that the control below sees the token itself expire.
    app = make_app(WTF_CSRF_ENABLED=True,
                   PERMANENT_SESSION_LIFETIME=timedelta(seconds=limit + 7200))
    world = build_world(app, clock, duration_minutes=300)
    client = login(app, world.candidate)
    token = csrf_token(client, f"/exam/{world.attempt_id}/q/1")
    signed_at = int(time.time())

    def later(hours: float) -> None:
        monkeypatch.setattr(TimestampSigner, "get_timestamp",
                            lambda self: signed_at + int(hours * 3600))

    later(4)
    clock.advance(4 * 3600)
    saved = client.post(f"/exam/{world.attempt_id}/save", headers={"X-CSRFToken": token},
                        json={"seq": 1, "item": world.items[0], "choice": "C"})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.json["applied"] is True and saved.json["state"] == "in_progress"

    # Control: once the configured limit has passed, the same token is refused.
    later(limit / 3600 + 0.1)
    refused = client.post(f"/exam/{world.attempt_id}/save", headers={"X-CSRFToken": token},
                          json={"seq": 2, "item": world.items[0], "choice": "D"})
    assert refused.status_code == 400 and refused.json["error"] == "csrf"
    with app.app_context():
        event = db.session.scalars(select(AuditLog).where(
            AuditLog.action == "security.csrf_failed")).one()
        assert event.data["detail"] == "The CSRF token has expired."  # still signed in
        db.session.rollback()


# --- the key never reaches the candidate -----------------------------------------------

FORBIDDEN_WORDS = ("key", "correct", "rationale", "scored", "pretest", "dom-a", "dom-b")


def _candidate_session(client: FlaskClient, world: World) -> list[tuple[str, bytes]]:
    """Every page and JSON answer a candidate sees, from the intro to the end."""
    aid = world.attempt_id
    seen: list[tuple[str, bytes]] = []
    n = len(world.items)

    def keep(label: str, resp: TestResponse, status: int = 200) -> None:
        assert resp.status_code == status, (label, resp.get_data(as_text=True))
        seen.append((label, resp.data + resp.headers.get("Location", "").encode()))

    keep("home", client.get("/candidate/"))
    keep("intro", client.get(f"/exam/{aid}/start"))
    keep("begin", client.post(f"/exam/{aid}/start", data={"accept": "yes"}), 303)
    for position in range(1, n + 1):
        keep(f"q{position}", client.get(f"/exam/{aid}/q/{position}"))
    for seq, item in enumerate(world.items, start=1):
        body = {"seq": seq, "item": item, "choice": "ABCD"[seq % 4], "flagged": seq % 2 == 0,
                "struck": ["ABCD"[(seq + 1) % 4]], "position": min(seq + 1, n)}
        keep(f"save{seq}", client.post(f"/exam/{aid}/save", json=body))
    keep("position", client.post(f"/exam/{aid}/position", json={"position": 2}))
    keep("answer", client.post(f"/exam/{aid}/q/2", data={"choice": "D", "action": "next"}),
         303)
    for position in range(1, n + 1):
        keep(f"q{position} answered", client.get(f"/exam/{aid}/q/{position}"))
    for wanted in ("all", "unanswered", "flagged"):
        keep(f"review {wanted}", client.get(f"/exam/{aid}/review?filter={wanted}"))
    keep("confirm", client.get(f"/exam/{aid}/submit"))
    keep("status", client.get(f"/exam/{aid}/status"))
    keep("home in progress", client.get("/candidate/"))
    keep("submit", client.post(f"/exam/{aid}/submit"), 303)
    keep("done", client.get(f"/exam/{aid}/done"))
    keep("status ended", client.get(f"/exam/{aid}/status"))
    keep("home ended", client.get("/candidate/"))
    return seen


def test_the_key_never_reaches_the_candidate(make_app: Callable[..., Flask], clock: FakeClock,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # CSRF tokens embed the signing second: freeze it so that pages can be compared.
    frozen = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: frozen)
    app = make_app()
    world = build_world(app, clock, state=AttemptState.ADMITTED)
    with app.app_context():
        admitted = db.session.get(Attempt, world.attempt_id)
        assert admitted is not None
        columns = {c.key: getattr(admitted, c.key) for c in Attempt.__table__.columns}
        db.session.rollback()
    client = login(app, world.candidate)

    first = _candidate_session(client, world)

    with app.app_context():  # same attempt, same seed, back to admitted; every key changed
        session = db.session
        session.execute(delete(Response).where(Response.attempt_id == world.attempt_id))
        session.execute(update(Attempt).where(Attempt.id == world.attempt_id).values(**columns))
        items = session.scalars(select(ItemVersion).join(
            FormItem, FormItem.item_version_id == ItemVersion.id
        ).where(FormItem.form_id == columns["form_id"])).all()
        assert sorted(item.id for item in items) == sorted(world.items)
        for item in items:
            item.key = "BCDA"["ABCD".index(item.key)]
        session.commit()

    second = _candidate_session(client, world)

    with app.app_context():
        scored = db.session.get(Attempt, world.attempt_id)
        assert scored is not None and scored.state is AttemptState.SUBMITTED
    assert [label for label, _ in first] == [label for label, _ in second]
    for (label, one), (_, two) in zip(first, second, strict=True):
        assert one == two, f"{label} differs when only the key changed"
        text = one.decode().lower()
        for word in FORBIDDEN_WORDS:
            assert not re.search(rf"\b{re.escape(word)}\b", text), f"{word!r} in {label}"


# --- headers, error pages, escaping ----------------------------------------------------


def _assert_security_headers(resp: TestResponse, where: str) -> None:
    csp = resp.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert resp.headers.get("X-Frame-Options") == "DENY", where
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", where
    if resp.mimetype == "text/html":
        assert "HX-Request" in resp.vary, where


def test_security_headers_on_every_kind_of_page(world: World) -> None:
    anonymous = world.app.test_client()
    login_page = anonymous.get("/login")
    _assert_security_headers(login_page, "/login")
    assert "no-store" not in login_page.headers.get("Cache-Control", "")

    candidate = login(world.app, world.candidate)
    proctor = login(world.app, world.proctor)
    aid = world.attempt_id
    pages = [
        (candidate, "/candidate/"), (candidate, f"/exam/{aid}/q/1"),
        (candidate, f"/exam/{aid}/review"), (candidate, f"/exam/{aid}/submit"),
        (candidate, f"/exam/{aid}/status"), (proctor, "/proctor/"),
    ]
    for client, path in pages:
        resp = client.get(path)
        assert resp.status_code == 200, path
        _assert_security_headers(resp, path)
        assert "no-store" in resp.headers.get("Cache-Control", ""), path
    fragment = proctor.get("/proctor/", headers={"HX-Request": "true"})
    assert "HX-Request" in fragment.vary
    assert "<html" not in fragment.get_data(as_text=True)
    saved = candidate.post(f"/exam/{aid}/save", json={"seq": 1, "item": world.items[0]})
    _assert_security_headers(saved, "save")
    assert "no-store" in saved.headers.get("Cache-Control", "")


def _assert_generic(resp: TestResponse, status: int, message: str) -> None:
    body = resp.get_data(as_text=True)
    assert resp.status_code == status
    assert message in body
    for leak in ("Traceback", "File \"", ".py", "/work/", "site-packages", "werkzeug",
                 "Exception", "Error:"):
        assert leak not in body, leak
    _assert_security_headers(resp, str(status))


def test_error_pages_are_generic(world: World) -> None:
    anonymous = world.app.test_client()
    _assert_generic(anonymous.get("/no/such/page"), 404, "Page not found.")
    _assert_generic(anonymous.get("/logout"), 405, "That action is not allowed here.")
    candidate = login(world.app, world.candidate)
    _assert_generic(candidate.get("/no/such/page"), 404, "Page not found.")
    _assert_generic(candidate.put(f"/exam/{world.attempt_id}/save"), 405,
                    "That action is not allowed here.")
    as_json = candidate.get("/no/such/page", headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    assert as_json.json == {"error": "not_found", "message": "Page not found."}


def test_an_unexpected_error_shows_a_generic_page(
    make_app: Callable[..., Flask], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(TESTING=False)
    world = build_world(app, clock)
    candidate = login(app, world.candidate)

    def broken(*args: Any) -> None:
        raise RuntimeError(f"internal detail from {__file__}")

    monkeypatch.setattr("webapp.services.delivery.build_paper", broken)
    resp = candidate.get(f"/exam/{world.attempt_id}/q/1")
    _assert_generic(resp, 500, "Something went wrong on our side.")
    assert "internal detail" not in resp.get_data(as_text=True)


def test_names_are_escaped_on_the_proctor_roster(make_app: Callable[..., Flask],
                                                 clock: FakeClock) -> None:
    name = "<script>alert(1)</script>"
    world = build_world(make_app(), clock, candidate_name=name)
    proctor = login(world.app, world.proctor)
    candidate = login(world.app, world.candidate)
    for client, path, headers in [
        (proctor, "/proctor/", {}), (proctor, "/proctor/", {"HX-Request": "true"}),
        (candidate, "/candidate/", {}),
    ]:
        body = client.get(path, headers=headers).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, path
        assert name not in body, path
