"""The proctor's roster: admit, unlock, pause and resume candidates in today's sessions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from webapp import dialect
from webapp.extensions import db
from webapp.models import Attempt, Role
from webapp.security import now, require_role
from webapp.services import attempts, proctoring

bp = Blueprint("proctor", __name__, url_prefix="/proctor")
require_role(bp, Role.PROCTOR, Role.ADMIN)


def _day(moment: datetime) -> tuple[datetime, datetime]:
    start = datetime.combine(moment.date(), time.min, tzinfo=moment.tzinfo)
    return start, start + timedelta(days=1)


def _render(status: int = 200, message: str | None = None) -> tuple[str, int]:
    moment = now()
    attempts.settle_due(db.session, moment, current_app.config["SAVE_GRACE_SECONDS"])
    sessions = proctoring.roster(db.session, moment, *_day(moment))
    fragment = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    template = "proctor/_roster.html" if fragment else "proctor/roster.html"
    return render_template(
        template, sessions=sessions, reasons=proctoring.UNLOCK_REASONS, message=message,
    ), status


@bp.get("/")
def roster() -> tuple[str, int]:
    return _render()


Action = Callable[[Session, Attempt], None]


def _act(attempt_id: int, action: Action, done: str) -> WerkzeugResponse | tuple[str, int]:
    dialect.begin_write(db.session)
    attempt = attempts.get_for_staff(db.session, attempt_id, for_update=True)
    if attempts.settle(db.session, attempt, now()):
        # Time that ran out before the proctor acted stays run out, even if the action
        # is then refused (a pause after the deadline must not move the end).
        db.session.commit()
        dialect.begin_write(db.session)
    action(db.session, attempt)
    db.session.commit()
    if request.headers.get("HX-Request"):
        return _render(message=done)
    return redirect(url_for("proctor.roster"), 303)


@bp.post("/attempts/<id:attempt_id>/admit")
def admit(attempt_id: int) -> WerkzeugResponse | tuple[str, int]:
    return _act(attempt_id, lambda s, a: proctoring.admit(
        s, a, current_user.id, now(), request.remote_addr), _("Candidate admitted."))


@bp.post("/attempts/<id:attempt_id>/unlock")
def unlock(attempt_id: int) -> WerkzeugResponse | tuple[str, int]:
    reason = request.form.get("reason", "")
    return _act(attempt_id, lambda s, a: proctoring.unlock(
        s, a, current_user.id, reason, now(), request.remote_addr), _("Exam unlocked."))


@bp.post("/attempts/<id:attempt_id>/pause")
def pause(attempt_id: int) -> WerkzeugResponse | tuple[str, int]:
    return _act(attempt_id, lambda s, a: proctoring.pause(
        s, a, current_user.id, now(), request.remote_addr), _("Exam paused."))


@bp.post("/attempts/<id:attempt_id>/resume")
def resume(attempt_id: int) -> WerkzeugResponse | tuple[str, int]:
    return _act(attempt_id, lambda s, a: proctoring.resume(
        s, a, current_user.id, now(), request.remote_addr), _("Exam resumed."))
