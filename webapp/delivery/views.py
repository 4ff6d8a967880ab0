"""Thin views over services.attempts and services.saves."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from webapp import dialect
from webapp.errors import Invalid, NotFound
from webapp.extensions import db, limiter
from webapp.media import image_response
from webapp.models import Attempt, AttemptState, Role
from webapp.security import (
    check_role,
    checks_sign_in_itself,
    current_session_id,
    now,
    require_role,
    signed_in_ids,
)
from webapp.services import attempts, delivery, saves, timing

bp = Blueprint("delivery", __name__, url_prefix="/exam")
require_role(bp, Role.CANDIDATE)

S = AttemptState
Page = WerkzeugResponse | str | tuple[str, int]


def _grace() -> float:
    return float(current_app.config["SAVE_GRACE_SECONDS"])


def _open(attempt_id: int) -> Attempt:
    """The candidate's attempt in a write transaction, ended first if its time ran out."""
    dialect.begin_write(db.session)
    attempt = attempts.get_for_candidate(db.session, attempt_id, current_user.id, for_update=True)
    attempts.settle(db.session, attempt, now(), _grace())
    return attempt


def _elsewhere(attempt: Attempt) -> Page | None:
    """Where to send a request for an attempt that is not in progress, if anywhere."""
    if attempt.state in attempts.ENDED:
        return redirect(url_for("delivery.done", attempt_id=attempt.id), 303)
    if attempt.state is S.ADMITTED:
        return redirect(url_for("delivery.intro", attempt_id=attempt.id), 303)
    if attempt.state is S.SCHEDULED:
        return redirect(url_for("candidate.home"), 303)
    if attempt.state is S.PAUSED:
        return render_template("exam/paused.html", attempt=attempt), 409
    return None


def _claimed(attempt: Attempt) -> Page | None:
    try:
        attempts.claim(db.session, attempt, current_session_id(), now())
    except attempts.AttemptLocked as err:
        return render_template("exam/locked.html", attempt=attempt, message=err.message), 409
    return None


def _image_url(attempt: Attempt) -> delivery.ImageUrl:
    return lambda sha256: url_for("delivery.image", attempt_id=attempt.id, sha256=sha256)


def _shell(attempt: Attempt, view: str, **context: Any) -> str:
    paper = delivery.build_paper(db.session, attempt, _image_url(attempt))
    rows = saves.responses_by_item(db.session, attempt.id)
    responses = {item: delivery.ResponseView.of(row) for item, row in rows.items()}
    moment = now()
    left = timing.remaining(attempt, moment)
    return render_template(
        "exam/shell.html", attempt=attempt, view=view, paper=paper, responses=responses,
        empty=delivery.ResponseView(), summary=delivery.review(paper, responses),
        paper_json=delivery.paper_json(paper, responses), remaining=left,
        remaining_hms=timing.format_hms(left),
        warnings=sorted(attempt.form.programme.warning_minutes, reverse=True),
        programme=attempt.form.programme, **context,
    )


@bp.get("/<id:attempt_id>/start")
def intro(attempt_id: int) -> Page:
    attempt = _open(attempt_id)
    db.session.commit()
    if attempt.state is not S.ADMITTED:
        return _elsewhere(attempt) or redirect(
            url_for("delivery.question", attempt_id=attempt.id,
                    position=attempt.current_position), 303)
    return render_template("exam/intro.html", attempt=attempt, total=len(attempt.item_order))


@bp.post("/<id:attempt_id>/start")
def begin(attempt_id: int) -> Page:
    attempt = _open(attempt_id)
    accepted = request.form.get("accept") == "yes"
    try:
        attempts.start(db.session, attempt, current_session_id(), now(), accepted=accepted)
    except Invalid as err:
        db.session.rollback()
        return render_template(
            "exam/intro.html", attempt=attempt, total=len(attempt.item_order), error=err.message
        ), 422
    db.session.commit()
    return redirect(url_for(
        "delivery.question", attempt_id=attempt.id, position=attempt.current_position), 303)


@bp.get("/<id:attempt_id>/q/<int(max=100000):position>")
def question(attempt_id: int, position: int) -> Page:
    attempt = _open(attempt_id)
    page = _elsewhere(attempt) or _claimed(attempt)
    if page is None:
        attempts.move_to(db.session, attempt, position)
    db.session.commit()
    if page is not None:
        return page
    return _shell(attempt, "question", position=position)


@bp.get("/<id:attempt_id>/review")
def review(attempt_id: int) -> Page:
    attempt = _open(attempt_id)
    page = _elsewhere(attempt) or _claimed(attempt)
    db.session.commit()
    if page is not None:
        return page
    wanted = request.args.get("filter", "all")
    if wanted not in ("all", "unanswered", "flagged"):
        raise Invalid(_("Unknown review filter."))
    return _shell(attempt, "review", filter=wanted, position=attempt.current_position)


_ACTIONS = ("previous", "next", "flag", "review", "stay")


@bp.post("/<id:attempt_id>/q/<int(max=100000):position>")
def answer(attempt_id: int, position: int) -> Page:
    """The no-JavaScript path: save this question, then move as the button said."""
    action = request.form.get("action", "stay")
    strike = request.form.get("strike")
    if action not in _ACTIONS:
        raise Invalid(_("Unknown action."))
    attempt = _open(attempt_id)
    if (page := _elsewhere(attempt)) is not None:
        db.session.commit()
        return page
    if not 1 <= position <= len(attempt.item_order):
        raise NotFound(_("There is no question %(n)s on this exam.", n=position))
    slot = attempts.form_slots(db.session, attempt)[position - 1]
    current = delivery.ResponseView.of(
        saves.responses_by_item(db.session, attempt.id).get(slot.item_version_id)
    )
    choice = request.form.get("choice") or current.choice
    struck = set(current.struck)
    if strike:
        struck ^= {strike}
    flagged = (not current.flagged) if action == "flag" else current.flagged
    db.session.commit()
    result_req = saves.SaveRequest(
        item_id=slot.item_version_id, choice=choice, flagged=flagged, struck=tuple(struck),
        position=position,
    )
    saves.apply_save(
        db.session, attempt.id, current_user.id, current_session_id(), result_req, now(),
        _grace(),
    )
    db.session.commit()
    total = len(attempt.item_order)
    if action == "review" or (action == "next" and position == total):
        return redirect(url_for("delivery.review", attempt_id=attempt.id), 303)
    target = {"previous": max(1, position - 1), "next": position + 1}.get(action, position)
    return redirect(url_for("delivery.question", attempt_id=attempt.id, position=target), 303)


def _parse_save(body: Any) -> saves.SaveRequest:
    if not isinstance(body, dict):
        raise Invalid(_("The save must be a JSON object."))
    try:
        seq, item = body["seq"], body["item"]
        choice, flagged = body.get("choice"), body.get("flagged", False)
        struck, position = body.get("struck", []), body.get("position")
        client_time = body.get("client_time")
    except KeyError as err:
        raise Invalid(_("The save is missing the field %(f)s.", f=err.args[0])) from None
    for name, value, kind in (("seq", seq, int), ("item", item, int), ("flagged", flagged, bool)):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise Invalid(_("The field %(f)s has the wrong type.", f=name))
    if choice is not None and not isinstance(choice, str):
        raise Invalid(_("The field %(f)s has the wrong type.", f="choice"))
    if not isinstance(struck, list) or not all(isinstance(s, str) for s in struck):
        raise Invalid(_("The field %(f)s has the wrong type.", f="struck"))
    if position is not None and (not isinstance(position, int) or isinstance(position, bool)):
        raise Invalid(_("The field %(f)s has the wrong type.", f="position"))
    return saves.SaveRequest(
        item_id=item, choice=choice, flagged=flagged, struck=tuple(struck), seq=seq,
        client_time=_client_time(client_time), position=position,
    )


def _client_time(value: Any) -> datetime | None:
    """The browser's clock, kept for the record only; never trusted for timing."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _refuse_save() -> WerkzeugResponse:
    """The save's own sign-in check failed: answer as the blueprint's check would (401, 403),
    or 404 for a signed-in candidate's save to an attempt that is not theirs."""
    db.session.rollback()
    g.pop("_login_user", None)  # the save's statement is newer than any user loaded before
    refused = check_role(Role.CANDIDATE)
    if refused is not None:
        return refused
    raise NotFound()


# The hot path (every answer, flag and strike): no separate sign-in lookup, no rate-limit
# bookkeeping; the save's statement checks the login session (`saves.apply_save`).
@bp.post("/<id:attempt_id>/save")
@checks_sign_in_itself
@limiter.exempt
def save(attempt_id: int) -> WerkzeugResponse:
    ids = signed_in_ids()
    if ids is None:
        return _refuse_save()
    try:
        req = _parse_save(request.get_json(silent=True))
    except Invalid:
        if (refused := check_role(Role.CANDIDATE)) is not None:
            return refused  # sign-in comes first, as on every other route
        raise
    try:
        result = saves.apply_save(db.session, attempt_id, *ids, req, now(), _grace())
    except saves.NotSignedIn:
        return _refuse_save()
    except attempts.AttemptEnded:
        db.session.commit()  # keep the expiry the save may just have recorded; nothing else
        raise
    db.session.commit()  # acknowledged only once durable
    return jsonify(
        ok=True, applied=result.applied, duplicate=result.duplicate, seq=result.seq,
        remaining_s=round(result.remaining_s, 3), state=result.state.value,
    )


@bp.post("/<id:attempt_id>/position")
def position(attempt_id: int) -> WerkzeugResponse:
    """Where "Resume exam" reopens; sent by the exam script when the candidate navigates."""
    body = request.get_json(silent=True)
    target = body.get("position") if isinstance(body, dict) else None
    if not isinstance(target, int) or isinstance(target, bool):
        raise Invalid(_("The field %(f)s has the wrong type.", f="position"))
    attempt = _open(attempt_id)
    attempts.require_in_progress(attempt)
    attempts.check_lock(attempt, current_session_id())
    attempts.move_to(db.session, attempt, target)
    db.session.commit()
    return jsonify(ok=True, position=target)


@bp.get("/<id:attempt_id>/status")
def status(attempt_id: int) -> WerkzeugResponse:
    """Polled by every exam page: a read, unless the attempt's time has run out."""
    moment = now()
    attempt = attempts.get_for_candidate(db.session, attempt_id, current_user.id)
    if timing.is_due(attempt, moment, _grace()):
        attempt = _open(attempt_id)
    db.session.commit()
    sid = current_session_id()
    return jsonify(
        state=attempt.state.value,
        remaining_s=round(timing.remaining(attempt, moment), 3),
        locked_elsewhere=attempt.lock_session_id not in (None, sid),
        last_seq=attempt.last_seq,
        done_url=url_for("delivery.done", attempt_id=attempt.id),
    )


@bp.get("/<id:attempt_id>/images/<string(length=64):sha256>")
def image(attempt_id: int, sha256: str) -> WerkzeugResponse:
    """An image of a question on the candidate's own running attempt (and no other)."""
    attempt = attempts.get_for_candidate(db.session, attempt_id, current_user.id)
    resp = image_response(delivery.image_of_attempt(db.session, attempt, sha256, now(),
                                                    _grace()))
    db.session.commit()
    return resp


@bp.get("/<id:attempt_id>/submit")
def confirm(attempt_id: int) -> Page:
    attempt = _open(attempt_id)
    page = _elsewhere(attempt) or _claimed(attempt)
    db.session.commit()
    if page is not None:
        return page
    paper = delivery.build_paper(db.session, attempt)
    rows = saves.responses_by_item(db.session, attempt.id)
    summary = delivery.review(
        paper, {i: delivery.ResponseView.of(r) for i, r in rows.items()}
    )
    return render_template("exam/confirm.html", attempt=attempt, summary=summary)


@bp.post("/<id:attempt_id>/submit")
def submit(attempt_id: int) -> Page:
    attempt = _open(attempt_id)
    if attempt.state in attempts.ENDED:
        db.session.commit()
        return redirect(url_for("delivery.done", attempt_id=attempt.id), 303)
    attempts.submit(db.session, attempt, current_session_id(), now())
    db.session.commit()
    return redirect(url_for("delivery.done", attempt_id=attempt.id), 303)


@bp.get("/<id:attempt_id>/done")
def done(attempt_id: int) -> Page:
    attempt = _open(attempt_id)
    db.session.commit()
    if attempt.state not in attempts.ENDED:
        return _elsewhere(attempt) or redirect(url_for(
            "delivery.question", attempt_id=attempt.id, position=attempt.current_position), 303)
    return render_template("exam/done.html", attempt=attempt)
