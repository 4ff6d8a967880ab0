"""Forms for administrators: the list, one form (blueprint coverage from the stored assembly
report and its test information curve), assembling new forms and publishing one.

Registered on the admin blueprint (admin-only, see webapp/admin/__init__.py). Assembly and
publishing are webapp/services/forms.py; publishing asks for confirmation on its own page.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from webapp import dialect
from webapp.admin import bp
from webapp.errors import Conflict, Invalid, NotFound
from webapp.extensions import db
from webapp.models import Form, Programme
from webapp.sanitize import plain_text
from webapp.services import forms as form_service

Page = WerkzeugResponse | str | tuple[str, int]

# Seconds the solver may spend in a web request (the command line allows more).
WEB_TIME_LIMIT = 30.0
MAX_SEED = 1_000_000
CURVE_THETAS = (-4.0, 4.0)


def _form(code: str) -> Form:
    try:
        return form_service.form_by_code(db.session, code)
    except NotFound:
        raise NotFound(_("No form %(code)s.", code=plain_text(code, 60))) from None


@bp.get("/forms")
def forms() -> str:
    rows = list(db.session.scalars(select(Form).order_by(Form.code)))
    page = render_template("admin/forms.html", forms=rows)
    db.session.commit()
    return page


def _programmes() -> list[Programme]:
    """Programmes that have a blueprint to assemble with."""
    rows = db.session.scalars(select(Programme).order_by(Programme.code))
    return [p for p in rows if form_service.blueprint_path(p.code).is_file()]


def _whole(name: str, low: int, high: int) -> int:
    value = request.form.get(name, "").strip()
    if not value.isdigit() or not low <= int(value) <= high:
        raise Invalid(_("%(field)s must be a whole number from %(low)s to %(high)s.",
                        field=name, low=low, high=high))
    return int(value)


@bp.route("/forms/assemble", methods=["GET", "POST"])
def forms_assemble() -> Page:
    """The assembly form; a POST assembles and stores the forms, then shows the first."""
    programmes = _programmes()
    values = {"programme": request.form.get("programme", ""),
              "count": request.form.get("count", "2"), "seed": request.form.get("seed", "1")}
    if request.method == "GET":
        page = render_template("admin/forms_assemble.html", programmes=programmes,
                               values=values, error=None)
        db.session.commit()
        return page
    try:
        if values["programme"] not in {p.code for p in programmes}:
            raise Invalid(_("Choose a programme that has a blueprint."))
        count = _whole("count", 1, form_service.MAX_FORMS)
        seed = _whole("seed", 0, MAX_SEED)
        # The service takes the write lock itself, once the solver is done.
        _result, stored = form_service.assemble_forms(db.session, values["programme"], count, seed,
                                                WEB_TIME_LIMIT)
    except (Invalid, Conflict, NotFound) as err:
        db.session.rollback()
        page = render_template("admin/forms_assemble.html", programmes=programmes,
                               values=values, error=err.message)
        return page, err.status
    codes = [f.code for f in stored]
    db.session.commit()
    flash(_("Assembled %(n)s unpublished form(s): %(codes)s.", n=len(codes),
            codes=", ".join(codes)))
    return redirect(url_for("admin.form_view", form_code=codes[0]), 303)


def _information(thetas: Sequence[float], difficulties: Sequence[float]) -> list[float]:
    """Rasch test information at each theta: the sum of P(1 - P)."""
    out = []
    for t in thetas:
        total = 0.0
        for b in difficulties:
            p = 1.0 / (1.0 + math.exp(b - t))
            total += p * (1.0 - p)
        out.append(total)
    return out


def information_svg(form: Form) -> tuple[str, int]:
    """The scored items' test information curve with the blueprint's target points, as an
    SVG data URI; and how many scored items have no banked difficulty (left out)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure  # Agg-backed, no pyplot state: safe in threads

    scored = [fi.item.difficulty for fi in form.items if fi.scored]
    known = [b for b in scored if b is not None]
    low, high = CURVE_THETAS
    grid = [low + (high - low) * i / 160 for i in range(161)]
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    ax.plot(grid, _information(grid, known), label=_("Test information"))
    report = form.assembly or {}
    if report.get("thetas"):
        ax.errorbar(report["thetas"], report["targets"], yerr=report.get("tolerance", 0),
                    fmt="o", color="black", capsize=4, label=_("Target (with tolerance)"))
        ax.axvline(report.get("cut", 0.0), color="grey", linestyle=":", label=_("Cut score"))
    ax.set_xlabel(_("Ability θ (logits)"))
    ax.set_ylabel(_("Information"))
    ax.set_xlim(low, high)
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    buf = io.BytesIO()
    # Text as <text> elements, not glyph paths: a smaller file, and selectable labels.
    with rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"data:image/svg+xml;base64,{data}", len(scored) - len(known)


def _groups(checks: Sequence[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for check in checks:
        groups.setdefault(check["kind"], []).append(check)
    return list(groups.items())


@bp.get("/forms/<string(maxlength=60):form_code>")
def form_view(form_code: str) -> str:
    form = _form(form_code)
    curve, unknown = information_svg(form)
    report = form.assembly or {}
    page = render_template(
        "admin/form.html", form=form, report=report,
        coverage=_groups(report.get("checks", [])), across=report.get("across", []),
        curve=curve, unknown=unknown, n_scored=sum(1 for fi in form.items if fi.scored),
        n_anchor=sum(1 for fi in form.items if fi.anchor),
    )
    db.session.commit()
    return page


@bp.route("/forms/<string(maxlength=60):form_code>/publish", methods=["GET", "POST"])
def form_publish(form_code: str) -> Page:
    """GET: the confirmation page naming the form; POST (with the form's code typed back
    as ``confirm``): publish it."""
    form = _form(form_code)
    if form.published:
        flash(_("Form %(code)s is already published.", code=form.code))
        db.session.commit()
        return redirect(url_for("admin.form_view", form_code=form.code), 303)
    if request.method == "GET":
        page = render_template("admin/form_publish.html", form=form, error=None)
        db.session.commit()
        return page
    try:
        if request.form.get("confirm", "") != form.code:
            raise Invalid(_("Confirm by publishing form %(code)s from this page.",
                            code=form.code))
        dialect.begin_write(db.session)
        form = _form(form_code)
        form_service.publish_form(db.session, form, current_user)
    except (Invalid, Conflict) as err:
        db.session.rollback()
        page = render_template("admin/form_publish.html", form=_form(form_code),
                               error=err.message)
        return page, err.status
    n = len(form.items)
    db.session.commit()
    flash(_("Published form %(code)s (%(n)s items).", code=form_code, n=n))
    return redirect(url_for("admin.form_view", form_code=form_code), 303)

