"""Bad input against an exam in progress: always a 4xx with a helpful message, never a 500,
and nothing stored (responses, events, audit log and the attempt row stay as they were)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import FakeClock, csrf_token
from tests.webapp.conftest import (
    World,
    assert_unchanged,
    build_world,
    db_rows,
    load_attempt,
    login,
    new_audit_actions,
)
from webapp.extensions import db
from webapp.models import Attempt, AttemptState
from webapp.services import attempts, timing

MISSING_ATTEMPT = 987654
TOKEN = re.compile(rb'(?<=csrf_token" value=")[^"]+|(?<="X-CSRFToken": ")[^"]+')
Body = Callable[[World], Any]


@dataclass(frozen=True)
class Sitting:
    world: World
    client: FlaskClient

    @property
    def app(self) -> Flask:
        return self.world.app


def _start(world: World) -> Sitting:
    """The candidate holds the attempt in one browser and has saved once (seq 5)."""
    client = login(world.app, world.candidate)
    assert client.get(f"/exam/{world.attempt_id}/q/1").status_code == 200
    saved = client.post(f"/exam/{world.attempt_id}/save", json={
        "seq": 5, "item": world.items[0], "choice": "A", "struck": ["B"], "position": 1})
    assert saved.status_code == 200 and saved.json["applied"] is True
    return Sitting(world, client)


@pytest.fixture
def sitting(world: World) -> Sitting:
    return _start(world)


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {aid}: the candidate's attempt
    status: int
    error: str | None  # the JSON error code; None: an HTML page is expected
    message: str
    json: Body | None = None
    data: Body | None = None
    raw: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _send(client: FlaskClient, world: World, case: Case) -> TestResponse:
    kwargs: dict[str, Any] = {"headers": dict(case.headers)}
    if case.json is not None:
        kwargs["json"] = case.json(world)
    if case.data is not None:
        kwargs["data"] = case.data(world)
    if case.raw is not None:
        kwargs["data"] = case.raw
    if case.content_type is not None:
        kwargs["content_type"] = case.content_type
    path = case.path.format(aid=world.attempt_id)
    return client.open(path, method=case.method, **kwargs)


def _assert_refused(resp: TestResponse, status: int, error: str | None, message: str) -> None:
    body = resp.get_data(as_text=True)
    assert resp.status_code == status, body
    if error is None:
        assert resp.mimetype == "text/html"
        assert message in body
        return
    assert resp.is_json, body
    assert set(resp.json) == {"error", "message"}
    assert resp.json["error"] == error
    assert message in resp.json["message"]


def _save(status: int, error: str, message: str, body: Body) -> Case:
    return Case("POST", "/exam/{aid}/save", status, error, message, json=body)


def _item(world: World) -> int:
    return world.items[0]


WRONG_OPTION = "Option Z is not an option of this question."
NOT_ON_EXAM = "is not on your exam"
OUT_OF_RANGE = "The save's sequence number is out of range."
NOT_OBJECT = "The save must be a JSON object."


def _wrong_type(name: str) -> str:
    return f"The field {name} has the wrong type."


def _seq(value: Any) -> Body:
    return lambda w: {"seq": value, "item": _item(w), "choice": "C"}


JSON = {"Accept": "application/json"}
CASES = [
    # the question does not exist
    pytest.param(Case("GET", "/exam/{aid}/q/0", 404, None, "There is no question 0 on this exam."),
                 id="page-q0"),
    pytest.param(Case("GET", "/exam/{aid}/q/999", 404, None,
                      "There is no question 999 on this exam."), id="page-q999"),
    pytest.param(Case("GET", "/exam/{aid}/q/999", 404, "not_found",
                      "There is no question 999 on this exam.", headers=JSON), id="page-q999-json"),
    pytest.param(Case("GET", "/exam/{aid}/q/100001", 404, "not_found", "Page not found.",
                      headers=JSON), id="page-q-huge"),
    pytest.param(Case("POST", f"/exam/{2**31}/save", 404, "not_found", "Page not found.",
                      json=lambda w: {"seq": 6, "item": _item(w), "choice": "C"}),
                 id="attempt-id-past-31-bits"),
    pytest.param(Case("GET", f"/exam/{10**30}/q/1", 404, None, "Page not found."),
                 id="attempt-id-huge"),
    pytest.param(Case("POST", "/exam/-1/save", 404, "not_found", "Page not found.",
                      json=lambda w: {"seq": 6, "item": _item(w), "choice": "C"}),
                 id="attempt-id-negative"),
    # the answer is not a legal state of a question on this exam
    pytest.param(_save(422, "invalid", WRONG_OPTION,
                       lambda w: {"seq": 6, "item": _item(w), "choice": "Z"}), id="unknown-option"),
    pytest.param(_save(422, "invalid", NOT_ON_EXAM,
                       lambda w: {"seq": 6, "item": w.foreign_item, "choice": "A"}),
                 id="item-of-another-form"),
    pytest.param(_save(422, "invalid", NOT_ON_EXAM,
                       lambda w: {"seq": 6, "item": 10**6, "choice": "A"}), id="unknown-item"),
    pytest.param(_save(422, "invalid", WRONG_OPTION,
                       lambda w: {"seq": 6, "item": _item(w), "struck": ["A", "Z"]}),
                 id="struck-unknown-option"),
    pytest.param(_save(422, "invalid", "An option is struck out twice.",
                       lambda w: {"seq": 6, "item": _item(w), "struck": ["C", "C"]}),
                 id="struck-duplicate"),
    pytest.param(_save(422, "invalid", _wrong_type("struck"),
                       lambda w: {"seq": 6, "item": _item(w), "struck": "C"}), id="struck-string"),
    pytest.param(_save(422, "invalid", _wrong_type("struck"),
                       lambda w: {"seq": 6, "item": _item(w), "struck": [3]}), id="struck-number"),
    pytest.param(_save(422, "invalid", "There is no question 0 on this exam.",
                       lambda w: {"seq": 6, "item": _item(w), "choice": "C", "position": 0}),
                 id="save-position-0"),
    pytest.param(_save(422, "invalid", "There is no question 7 on this exam.",
                       lambda w: {"seq": 6, "item": _item(w), "choice": "C", "position": 7}),
                 id="save-position-past-end"),
    pytest.param(_save(422, "invalid", _wrong_type("position"),
                       lambda w: {"seq": 6, "item": _item(w), "choice": "C", "position": "2"}),
                 id="save-position-string"),
    # the sequence number
    pytest.param(_save(409, "stale_save", "A newer answer to this question is already saved.",
                       _seq(4)), id="stale-seq"),
    pytest.param(_save(422, "invalid", OUT_OF_RANGE, _seq(0)), id="seq-0"),
    pytest.param(_save(422, "invalid", OUT_OF_RANGE, _seq(-6)), id="seq-negative"),
    pytest.param(_save(422, "invalid", OUT_OF_RANGE, _seq(2**31)), id="seq-2**31"),
    pytest.param(_save(422, "invalid", OUT_OF_RANGE, _seq(10**30)), id="seq-10**30"),
    pytest.param(_save(422, "invalid", _wrong_type("seq"), _seq("6")), id="seq-string"),
    pytest.param(_save(422, "invalid", _wrong_type("seq"), _seq(True)), id="seq-bool"),
    pytest.param(_save(422, "invalid", _wrong_type("seq"), _seq(6.0)), id="seq-float"),
    pytest.param(_save(422, "invalid", _wrong_type("seq"), _seq(None)), id="seq-null"),
    # other fields
    pytest.param(_save(422, "invalid", _wrong_type("item"),
                       lambda w: {"seq": 6, "item": str(_item(w)), "choice": "C"}),
                 id="item-string"),
    pytest.param(_save(422, "invalid", _wrong_type("choice"),
                       lambda w: {"seq": 6, "item": _item(w), "choice": 2}), id="choice-number"),
    pytest.param(_save(422, "invalid", _wrong_type("flagged"),
                       lambda w: {"seq": 6, "item": _item(w), "flagged": "yes"}),
                 id="flagged-string"),
    pytest.param(_save(422, "invalid", "The save is missing the field seq.",
                       lambda w: {"item": _item(w), "choice": "C"}), id="missing-seq"),
    pytest.param(_save(422, "invalid", "The save is missing the field item.",
                       lambda w: {"seq": 6, "choice": "C"}), id="missing-item"),
    pytest.param(_save(422, "invalid", "The save is missing the field", lambda w: {}),
                 id="empty-object"),
    # not a JSON object
    pytest.param(_save(422, "invalid", NOT_OBJECT,
                       lambda w: [{"seq": 6, "item": _item(w), "choice": "C"}]), id="json-list"),
    pytest.param(_save(422, "invalid", NOT_OBJECT, lambda w: 6), id="json-number"),
    pytest.param(_save(422, "invalid", NOT_OBJECT, lambda w: "save"), id="json-string"),
    pytest.param(Case("POST", "/exam/{aid}/save", 422, "invalid", NOT_OBJECT, raw=b"null",
                      content_type="application/json"), id="json-null"),
    pytest.param(Case("POST", "/exam/{aid}/save", 422, "invalid", NOT_OBJECT,
                      raw=b'{"seq": 6, "item": ', content_type="application/json"),
                 id="invalid-json"),
    pytest.param(Case("POST", "/exam/{aid}/save", 422, "invalid", NOT_OBJECT,
                      raw=b'{"seq": 6, "item": 1}', content_type="text/plain", headers=JSON),
                 id="text-plain"),
    pytest.param(Case("POST", "/exam/{aid}/save", 422, None, NOT_OBJECT,
                      raw=b'{"seq": 6, "item": 1}', content_type="text/plain"),
                 id="text-plain-html"),
    pytest.param(Case("POST", "/exam/{aid}/save", 422, "invalid", NOT_OBJECT, headers=JSON,
                      data=lambda w: {"seq": "6", "item": str(_item(w)), "choice": "C"}),
                 id="form-encoded"),
    # where "Resume exam" reopens
    pytest.param(Case("POST", "/exam/{aid}/position", 404, "not_found",
                      "There is no question 0 on this exam.", json=lambda w: {"position": 0}),
                 id="position-0"),
    pytest.param(Case("POST", "/exam/{aid}/position", 404, "not_found",
                      "There is no question 7 on this exam.", json=lambda w: {"position": 7}),
                 id="position-past-end"),
    pytest.param(Case("POST", "/exam/{aid}/position", 422, "invalid", _wrong_type("position"),
                      json=lambda w: {"position": "2"}), id="position-string"),
    pytest.param(Case("POST", "/exam/{aid}/position", 422, "invalid", _wrong_type("position"),
                      json=lambda w: {"position": True}), id="position-bool"),
    pytest.param(Case("POST", "/exam/{aid}/position", 422, "invalid", _wrong_type("position"),
                      json=lambda w: {}), id="position-missing"),
    pytest.param(Case("POST", "/exam/{aid}/position", 422, "invalid", _wrong_type("position"),
                      json=lambda w: [2]), id="position-list"),
    # the no-JavaScript pages
    pytest.param(Case("GET", "/exam/{aid}/review?filter=everything", 422, None,
                      "Unknown review filter."), id="unknown-filter"),
    pytest.param(Case("POST", "/exam/{aid}/q/1", 422, None, "Unknown action.",
                      data=lambda w: {"choice": "C", "action": "explode"}), id="unknown-action"),
    pytest.param(Case("POST", "/exam/{aid}/q/2", 422, None, WRONG_OPTION,
                      data=lambda w: {"choice": "Z", "action": "next"}),
                 id="form-unknown-choice"),
    pytest.param(Case("POST", "/exam/{aid}/q/1", 422, None, WRONG_OPTION,
                      data=lambda w: {"strike": "Z", "action": "stay"}),
                 id="form-unknown-strike"),
    pytest.param(Case("POST", "/exam/{aid}/q/0", 404, None,
                      "There is no question 0 on this exam.",
                      data=lambda w: {"choice": "C", "action": "next"}), id="form-q0"),
    pytest.param(Case("POST", "/exam/{aid}/q/999", 404, None,
                      "There is no question 999 on this exam.",
                      data=lambda w: {"choice": "C", "action": "next"}), id="form-q999"),
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_and_stores_nothing(sitting: Sitting, case: Case) -> None:
    before = db_rows(sitting.app)
    resp = _send(sitting.client, sitting.world, case)
    _assert_refused(resp, case.status, case.error, case.message)
    assert_unchanged(before, db_rows(sitting.app))


@pytest.mark.parametrize("path, method", [
    ("/exam/{aid}/save", "POST"), ("/exam/{aid}/position", "POST"),
    ("/exam/{aid}/q/1", "GET"), ("/exam/{aid}/q/1", "POST"), ("/exam/{aid}/review", "GET"),
    ("/exam/{aid}/status", "GET"), ("/exam/{aid}/start", "GET"), ("/exam/{aid}/start", "POST"),
    ("/exam/{aid}/submit", "GET"), ("/exam/{aid}/submit", "POST"), ("/exam/{aid}/done", "GET"),
])
def test_another_candidates_attempt_looks_like_no_attempt(
    sitting: Sitting, path: str, method: str
) -> None:
    world = sitting.world
    bodies: dict[str, Any] = {"data": {"choice": "C", "action": "next", "accept": "yes"}}
    if path.endswith("/save"):
        bodies = {"json": {"seq": 6, "item": _item(world), "choice": "C", "position": 2}}
    elif path.endswith("/position"):
        bodies = {"json": {"position": 2}}
    before = db_rows(sitting.app)
    for accept in ("application/json", "text/html"):
        wants_json = accept == "application/json" or "json" in bodies
        answers = []
        for attempt_id in (world.other_attempt_id, MISSING_ATTEMPT):
            resp = sitting.client.open(path.format(aid=attempt_id), method=method,
                                       headers={"Accept": accept}, **bodies)
            _assert_refused(resp, 404, "not_found" if wants_json else None, "Not found.")
            answers.append(TOKEN.sub(b"TOKEN", resp.get_data()))
        assert answers[0] == answers[1], accept
    assert_unchanged(before, db_rows(sitting.app))


# --- an attempt that is not in progress ------------------------------------------------

ENDED = "This exam has ended and can no longer be changed."
PAUSED = "Your exam is paused by the proctor. Your answers are saved."


def _move(app: Flask, clock: FakeClock, attempt_id: int, target: AttemptState) -> None:
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt is not None
        attempts.transition(db.session, attempt, target, clock.now)
        db.session.commit()


@pytest.mark.parametrize("state, error, message", [
    (AttemptState.SUBMITTED, "attempt_ended", ENDED),
    (AttemptState.VOIDED, "attempt_ended", ENDED),
    (AttemptState.PAUSED, "attempt_paused", PAUSED),
])
def test_saves_to_an_attempt_not_in_progress_are_refused(
    sitting: Sitting, state: AttemptState, error: str, message: str
) -> None:
    world = sitting.world
    world.clock.advance(60)
    _move(sitting.app, world.clock, world.attempt_id, state)
    before = db_rows(sitting.app)
    for seq in (6, 5):  # a new save, and a replay of the acknowledged one
        resp = sitting.client.post(f"/exam/{world.attempt_id}/save", json={
            "seq": seq, "item": _item(world), "choice": "D"})
        _assert_refused(resp, 409, error, message)
    moved = sitting.client.post(f"/exam/{world.attempt_id}/position", json={"position": 2})
    _assert_refused(moved, 409, error, message)
    assert_unchanged(before, db_rows(sitting.app))


def test_a_save_after_the_deadline_is_refused(sitting: Sitting) -> None:
    world = sitting.world
    before = db_rows(sitting.app)
    deadline = timing.deadline(load_attempt(sitting.app, world.attempt_id))
    assert deadline is not None
    world.clock.advance(3 * 3600 + 1)
    resp = sitting.client.post(f"/exam/{world.attempt_id}/save", json={
        "seq": 6, "item": _item(world), "choice": "D"})
    _assert_refused(resp, 409, "attempt_ended", ENDED)
    # The attempt ended at its deadline (whether this request or the next one records it).
    status = sitting.client.get(f"/exam/{world.attempt_id}/status")
    assert status.json["state"] == "expired" and status.json["remaining_s"] == 0
    after = db_rows(sitting.app)
    assert_unchanged(before, after, ignore=("attempts", "attempt_events"))
    assert after["attempt_events"][:len(before["attempt_events"])] == before["attempt_events"]
    added = after["attempt_events"][len(before["attempt_events"]):]
    assert [row["kind"] for row in added] == ["transition"]  # the expiry, no save
    ended = load_attempt(sitting.app, world.attempt_id)
    assert ended.state is AttemptState.EXPIRED and ended.ended_at == deadline
    assert ended.last_seq == 5 and ended.current_position == 1


def test_the_no_js_form_on_a_paused_attempt_stores_nothing(sitting: Sitting) -> None:
    world = sitting.world
    _move(sitting.app, world.clock, world.attempt_id, AttemptState.PAUSED)
    before = db_rows(sitting.app)
    resp = sitting.client.post(f"/exam/{world.attempt_id}/q/2",
                               data={"choice": "D", "action": "next"})
    assert resp.status_code == 409
    assert "Your exam is paused by the proctor." in resp.get_data(as_text=True)
    assert_unchanged(before, db_rows(sitting.app))


def test_the_no_js_form_from_a_browser_without_the_lock_stores_nothing(
    sitting: Sitting,
) -> None:
    world = sitting.world
    second = login(sitting.app, world.candidate)
    before = db_rows(sitting.app)
    resp = second.post(f"/exam/{world.attempt_id}/q/3", data={"choice": "D", "action": "next"})
    assert resp.status_code == 409
    assert "A proctor must unlock it" in resp.get_data(as_text=True)
    moved = second.post(f"/exam/{world.attempt_id}/position", json={"position": 3})
    _assert_refused(moved, 409, "attempt_locked", "A proctor must unlock it")
    assert_unchanged(before, db_rows(sitting.app))


# --- CSRF on the save API --------------------------------------------------------------


@pytest.mark.parametrize("how", ["missing", "empty", "garbage", "truncated", "in-json-body"])
def test_a_save_without_a_valid_csrf_token_is_refused(
    make_app: Callable[..., Flask], clock: FakeClock, how: str
) -> None:
    sitting = _start_with_csrf(make_app(WTF_CSRF_ENABLED=True), clock)
    world = sitting.world
    token = csrf_token(sitting.client, f"/exam/{world.attempt_id}/q/1")
    body: dict[str, Any] = {"seq": 6, "item": _item(world), "choice": "D"}
    headers = {
        "missing": {}, "empty": {"X-CSRFToken": ""}, "garbage": {"X-CSRFToken": "x" * 40},
        "truncated": {"X-CSRFToken": token[:-4]}, "in-json-body": {},
    }[how]
    if how == "in-json-body":
        body["csrf_token"] = token
    before = db_rows(sitting.app)
    resp = sitting.client.post(f"/exam/{world.attempt_id}/save", json=body, headers=headers)
    _assert_refused(resp, 400, "csrf", "security token is missing or invalid")
    after = db_rows(sitting.app)
    assert_unchanged(before, after, ignore=("audit_log",))
    assert new_audit_actions(before, after) == ["security.csrf_failed"]


def _start_with_csrf(app: Flask, clock: FakeClock) -> Sitting:
    world = build_world(app, clock)
    client = login(app, world.candidate)
    token = csrf_token(client, f"/exam/{world.attempt_id}/q/1")
    saved = client.post(f"/exam/{world.attempt_id}/save", headers={"X-CSRFToken": token},
                        json={"seq": 5, "item": world.items[0], "choice": "A"})
    assert saved.status_code == 200 and saved.json["applied"] is True
    return Sitting(world, client)


# --- proctor actions -------------------------------------------------------------------


@pytest.mark.parametrize("action, target, form, status, error, message", [
    ("admit", "missing", {}, 404, "not_found", "Not found."),
    ("unlock", "missing", {"reason": "browser crash"}, 404, "not_found", "Not found."),
    ("pause", "missing", {}, 404, "not_found", "Not found."),
    ("resume", "missing", {}, 404, "not_found", "Not found."),
    ("admit", "mine", {}, 409, "illegal_transition",
     "This exam cannot go from in_progress to admitted."),
    ("resume", "mine", {}, 409, "illegal_transition",
     "This exam cannot go from in_progress to in_progress."),
    ("unlock", "mine", {"reason": "bored"}, 422, "invalid", "Choose a reason for unlocking."),
    ("unlock", "mine", {}, 422, "invalid", "Choose a reason for unlocking."),
    ("unlock", "unlocked", {"reason": "workstation change"}, 409, "conflict",
     "This exam is not locked to a workstation."),
])
def test_bad_proctor_actions_are_refused_and_change_nothing(
    sitting: Sitting, action: str, target: str, form: dict[str, str], status: int,
    error: str, message: str
) -> None:
    world = sitting.world
    attempt_id = {"missing": MISSING_ATTEMPT, "mine": world.attempt_id,
                  "unlocked": world.other_attempt_id}[target]
    proctor = login(sitting.app, world.proctor)
    url = f"/proctor/attempts/{attempt_id}/{action}"
    before = db_rows(sitting.app)
    as_json = proctor.post(url, data=form, headers={"Accept": "application/json"})
    _assert_refused(as_json, status, error, message)
    fragment = proctor.post(url, data=form, headers={"HX-Request": "true"})
    assert fragment.status_code == status
    assert fragment.get_data(as_text=True).strip() == (
        f'<p class="error" role="alert">{message}</p>')
    page = proctor.post(url, data=form)
    _assert_refused(page, status, None, message)
    assert "<!doctype html>" in page.get_data(as_text=True)
    assert_unchanged(before, db_rows(sitting.app))
