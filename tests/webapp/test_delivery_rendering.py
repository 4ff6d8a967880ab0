"""The candidate's exam shows item markup as safe HTML (Markdown subset rendered, anything
else escaped), in the page and in the embedded paper, and serves the images of the
candidate's own running attempt only."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from item_bank.authoring import render
from tests.conftest import FakeClock
from tests.factories import make_attempt, make_exam_session, make_form, make_user
from tests.webapp.conftest import PNG_1X1, World, add_image, build_world, login
from webapp.extensions import db
from webapp.models import Attempt, AttemptState, ImageAsset, ItemVersion, Role
from webapp.services import attempts

ROOT = Path(__file__).resolve().parents[2]


def _paper(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="paper-data">(.*?)</script>', html,
                      re.S)
    assert match
    return json.loads(match.group(1))


def _sitting(app: Flask, clock: FakeClock, texts: dict[str, str]) -> tuple[str, int]:
    """A candidate in progress on a 3-item form in authored order (no shuffling): position 1
    and 2 are a scenario set; ``texts`` sets the first item's stem and option A and the
    vignette."""
    with app.app_context():
        session = db.session
        form = make_form(session, n_items=3, scenario_size=2, shuffle=False)
        first = form.items[0].item
        first.stem = texts["stem"]
        first.options = [{"id": "A", "text": texts["option"]}, *first.options[1:]]
        assert first.scenario is not None
        first.scenario.vignette = texts["vignette"]
        candidate = make_user(session, Role.CANDIDATE)
        attempt = make_attempt(session, candidate, make_exam_session(session, form, clock.now),
                               state=AttemptState.IN_PROGRESS, now=clock.now)
        session.commit()
        return candidate.email, attempt.id


def test_markdown_in_stems_options_and_vignettes_renders_for_candidates(
    make_app: Callable[..., Flask], clock: FakeClock
) -> None:
    app = make_app()
    texts = {"stem": "Which step is **best**?\n\n- one\n- two",
             "option": "*Teach-back* first",
             "vignette": "Mr A, 70.\n\n| drug | dose |\n|------|-----:|\n| x    | 2 mg |"}
    email, attempt_id = _sitting(app, clock, texts)
    page = login(app, email).get(f"/exam/{attempt_id}/q/1").get_data(as_text=True)

    assert "<p>Which step is <strong>best</strong>?</p>\n<ul>\n<li>one</li>" in page
    assert '<span class="text rich"><em>Teach-back</em> first</span>' in page
    assert '<td class="align-right">2 mg</td>' in page
    assert '<fieldset class="options" aria-labelledby="question-stem">' in page
    # The embedded paper carries the same safe HTML for the exam script.
    paper = _paper(page)
    first = paper["questions"][0]
    assert first["stem"] == render(texts["stem"])
    assert first["options"][0] == ["A", "<em>Teach-back</em> first"]
    assert paper["vignettes"][first["scenario"]] == render(texts["vignette"])
    assert paper["images"] == []


def test_raw_html_and_outside_images_in_item_text_are_escaped_or_dropped(
    make_app: Callable[..., Flask], clock: FakeClock
) -> None:
    app = make_app()
    texts = {"stem": "<script>alert(1)</script> and <img src=x onerror=alert(2)> **ok**\n\n"
                     "![](https://tracker.example/pixel.png)",
             "option": "<b onclick=alert(3)>bold</b>",
             "vignette": "<iframe src=//evil.example></iframe>\n\n[link](javascript:alert(4))"}
    email, attempt_id = _sitting(app, clock, texts)
    page = login(app, email).get(f"/exam/{attempt_id}/q/1").get_data(as_text=True)

    assert "&lt;script&gt;alert(1)&lt;/script&gt; and &lt;img src=x onerror=alert(2)&gt; " \
           "<strong>ok</strong>" in page
    assert "&lt;b onclick=alert(3)&gt;bold&lt;/b&gt;" in page
    assert "&lt;iframe src=//evil.example&gt;&lt;/iframe&gt;" in page
    rest = page.replace("&lt;img src=x onerror=alert(2)&gt;", "")
    for unsafe in ("<script>alert", "<img src=x", "<b onclick", "<iframe", "tracker.example",
                   "onerror=alert(2)>"):
        assert unsafe not in rest, unsafe
    vignette = re.search(r'data-slot="vignette">(.*?)</div>', page, re.S)
    assert vignette is not None
    assert vignette.group(1).endswith("<p>[link](javascript:alert(4))</p>")  # text, no link
    assert "<a" not in vignette.group(1) and "href" not in vignette.group(1)
    first = _paper(page)["questions"][0]
    assert "&lt;script&gt;" in first["stem"] and "<script" not in first["stem"]
    assert "tracker.example" not in first["stem"]
    assert first["options"][0][1] == "&lt;b onclick=alert(3)&gt;bold&lt;/b&gt;"


def _image_position(app: Flask, world: World) -> int:
    with app.app_context():
        item_id = db.session.scalars(select(ItemVersion.id).where(
            ItemVersion.code == world.item_code)).one()
        db.session.rollback()
    return world.items.index(item_id) + 1


def test_exam_pages_show_the_images_of_the_candidates_own_attempt(
    make_app: Callable[..., Flask], clock: FakeClock
) -> None:
    app = make_app()
    world = build_world(app, clock)
    url = f"/exam/{world.attempt_id}/images/{world.image_sha}"
    candidate = login(app, world.candidate)
    position = _image_position(app, world)

    page = candidate.get(f"/exam/{world.attempt_id}/q/{position}").get_data(as_text=True)
    assert f'<img src="{url}" alt="A bar chart of weekly visits">' in page
    paper = _paper(page)
    assert paper["images"] == [url]
    assert url in paper["questions"][position - 1]["stem"]

    resp = candidate.get(url)
    assert resp.status_code == 200 and resp.data == PNG_1X1
    assert resp.mimetype == "image/png" and "no-store" in resp.headers["Cache-Control"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_a_candidate_gets_no_other_image(make_app: Callable[..., Flask],
                                         clock: FakeClock) -> None:
    app = make_app()
    world = build_world(app, clock)
    with app.app_context():  # an image of the bank that is on no form of this world
        other_item = db.session.get(ItemVersion, world.foreign_item)
        assert other_item is not None
        elsewhere = add_image(db.session, other_item, "other.png", "Other",
                              data=PNG_1X1 + b"\x00")
        db.session.commit()
        elsewhere_sha = elsewhere.sha256
    own = f"/exam/{world.attempt_id}/images"
    candidate = login(app, world.candidate)
    other = login(app, world.other_candidate)

    assert candidate.get(f"{own}/{elsewhere_sha}").status_code == 404  # not on the form
    assert candidate.get(f"{own}/{'0' * 64}").status_code == 404  # no such image
    assert candidate.get(f"{own}/{world.image_sha[:20]}").status_code == 404  # bad name
    # Another candidate on the same form, through the first candidate's attempt: 404.
    assert other.get(f"{own}/{world.image_sha}").status_code == 404
    assert other.get(f"/exam/{world.other_attempt_id}/images/{world.image_sha}"
                     ).status_code == 200  # their own attempt shows the same item


def test_images_stop_when_the_attempt_is_not_running(make_app: Callable[..., Flask],
                                                     clock: FakeClock) -> None:
    app = make_app()
    world = build_world(app, clock)
    url = f"/exam/{world.attempt_id}/images/{world.image_sha}"
    candidate = login(app, world.candidate)
    assert candidate.get(url).status_code == 200

    def move(state: AttemptState) -> None:
        with app.app_context():
            attempt = db.session.get(Attempt, world.attempt_id)
            assert attempt is not None
            attempts.transition(db.session, attempt, state, clock.now)
            db.session.commit()

    move(AttemptState.PAUSED)
    paused = candidate.get(url, headers={"Accept": "application/json"})
    assert paused.status_code == 409 and paused.json["error"] == "attempt_paused"
    move(AttemptState.IN_PROGRESS)
    clock.advance(180 * 60 + 1)  # past the deadline, before anyone noticed
    late = candidate.get(url, headers={"Accept": "application/json"})
    assert late.status_code == 409 and late.json["error"] == "attempt_ended"


def test_the_exam_script_inserts_html_only_through_one_function() -> None:
    script = (ROOT / "webapp" / "static" / "exam.js").read_text(encoding="utf-8")
    assert script.count("innerHTML") == 1 and "function setRich(el, html)" in script
    assert "outerHTML" not in script and "insertAdjacentHTML" not in script
    assert len(re.findall(r"setRich\(", script)) == 4  # its definition and 3 fields


def test_stored_images_of_an_unsafe_type_are_never_served(make_app: Callable[..., Flask],
                                                          clock: FakeClock) -> None:
    app = make_app()
    world = build_world(app, clock)
    with app.app_context():
        image = db.session.get(ImageAsset, world.image_sha)
        assert image is not None
        image.media_type = "image/svg+xml"  # the loader refuses SVG; a forged row is not sent
        db.session.commit()
    assert login(app, world.candidate).get(
        f"/exam/{world.attempt_id}/images/{world.image_sha}").status_code == 404
    assert login(app, world.admin).get(f"/admin/images/{world.image_sha}").status_code == 404
