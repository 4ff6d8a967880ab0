"""The candidate's home: their exams and what they can do with each."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Attempt, ExamSession, Role
from webapp.security import now, require_role
from webapp.services import attempts, timing

bp = Blueprint("candidate", __name__, url_prefix="/candidate")
require_role(bp, Role.CANDIDATE)


@bp.get("/")
def home() -> str:
    rows = db.session.scalars(
        select(Attempt)
        .join(ExamSession, Attempt.exam_session_id == ExamSession.id)
        .where(Attempt.candidate_id == current_user.id)
        .order_by(ExamSession.starts_at.desc())
    ).all()
    moment = now()
    return render_template(
        "candidate/home.html", attempts=rows, remaining=lambda a: timing.remaining(a, moment),
        fmt=timing.format_hms, ended=attempts.ENDED,
    )
