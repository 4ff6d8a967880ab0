"""Administrators' pages (forms and attempts overview; more arrives with later issues)."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import Integer, cast, func, select

from webapp.extensions import db
from webapp.models import Attempt, Form, FormItem, Role
from webapp.security import require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")
require_role(bp, Role.ADMIN)


@bp.get("/")
def home() -> str:
    forms = db.session.execute(
        select(Form, func.count(FormItem.position), func.sum(cast(FormItem.scored, Integer)))
        .join(FormItem, FormItem.form_id == Form.id)
        .group_by(Form.id)
        .order_by(Form.code)
    ).all()
    states = dict(db.session.execute(
        select(Attempt.state, func.count()).group_by(Attempt.state)
    ).all())
    return render_template("admin/home.html", forms=forms, states=states)
