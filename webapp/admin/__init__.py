"""Administrators' pages: the overview here; each area in its own module, registering its
views on this blueprint (imported at the end of this file):

- ``items``: the item bank (browser, preview, review workflow).
- ``forms``: forms (list, blueprint coverage, assembly, publishing).

A new area (e.g. form assembly and publishing) adds ``webapp/admin/<area>.py`` with
``from webapp.admin import bp`` and one import line below; its links go in
templates/admin/_nav.html, and each rule in tests/webapp/test_security.py's samples.
"""

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


# Areas of the admin pages (each registers its views on ``bp``).
from webapp.admin import forms as forms_area  # noqa: E402, F401
from webapp.admin import items  # noqa: E402, F401
