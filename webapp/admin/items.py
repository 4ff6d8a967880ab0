"""The item bank for administrators: browse and search, preview an item as candidates see
it (with the key, rationales, metadata and history for staff), and the review workflow.

Registered on the admin blueprint (admin-only, see webapp/admin/__init__.py).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from item_bank.model import CognitiveLevel, QuestionType, Status
from webapp import dialect
from webapp.admin import bp
from webapp.errors import Conflict, Invalid, NotFound
from webapp.extensions import db
from webapp.media import image_response
from webapp.models import ImageAsset
from webapp.sanitize import plain_text
from webapp.security import now
from webapp.services import delivery, item_browser, reviews

Page = WerkzeugResponse | str | tuple[str, int]

STATUS_LABELS = {
    Status.DRAFT: _l("Draft"), Status.REVIEW: _l("In review"), Status.APPROVED: _l("Approved"),
    Status.PRETEST: _l("Pretest"), Status.OPERATIONAL: _l("Operational"),
    Status.RETIRED: _l("Retired"),
}
# The button that moves an item to each status.
ACTION_LABELS = {
    Status.DRAFT: _l("Return to draft"), Status.REVIEW: _l("Submit for review"),
    Status.APPROVED: _l("Approve"), Status.PRETEST: _l("Release for pretest"),
    Status.OPERATIONAL: _l("Make operational"), Status.RETIRED: _l("Retire"),
}
TYPE_LABELS = {
    QuestionType.DIRECT: _l("Direct"), QuestionType.SCENARIO_BASED: _l("Scenario-based"),
    QuestionType.BEST_PRACTICE: _l("Best practice"),
}
LEVEL_LABELS = {
    CognitiveLevel.RECALL: _l("Recall"), CognitiveLevel.APPLICATION: _l("Application"),
    CognitiveLevel.ANALYSIS: _l("Analysis"),
}


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"status_labels": STATUS_LABELS, "action_labels": ACTION_LABELS,
            "type_labels": TYPE_LABELS, "level_labels": LEVEL_LABELS}


def _fragment() -> bool:
    """An htmx swap of the results (not a boosted page, not htmx restoring history, which
    needs the whole page)."""
    headers = request.headers
    return bool(headers.get("HX-Request") and not headers.get("HX-Boosted")
                and not headers.get("HX-History-Restore-Request"))


@bp.get("/items")
def items() -> str:
    choices = item_browser.filter_choices(db.session)
    filters = item_browser.parse_filters(request.args, choices)
    page = item_browser.parse_page(request.args.get("page"))
    result = item_browser.search(db.session, filters, page)
    db.session.commit()
    template = "admin/_item_results.html" if _fragment() else "admin/items.html"
    return render_template(template, result=result, choices=choices, filters=filters,
                           statuses=list(Status), types=list(QuestionType))


def _staff_image_url(sha256: str) -> str:
    return url_for("admin.image", sha256=sha256)


def _preview(code: str, version: int | None, *, status: int = 200, error: str | None = None,
             comment: str = "") -> tuple[str, int]:
    detail = item_browser.item_detail(db.session, code, version)
    item = detail.item
    # The candidate's markup, from the candidate's own code path: options in authored order.
    question = delivery.question_view(item, 1, item.option_ids, _staff_image_url)
    images = item_browser.image_assets(item)
    rationales = {oid: delivery.rendered(item.rationales.get(oid, ""), images,
                                         _staff_image_url)
                  for oid in item.option_ids}
    page = render_template(
        "admin/item.html", detail=detail, item=item, question=question,
        empty=delivery.ResponseView(), rationales=rationales, error=error, comment=comment,
        needs_comment={s: reviews.needs_comment(detail.latest.status, s)
                       for s in detail.transitions},
        max_comment=reviews.MAX_COMMENT,
    )
    db.session.commit()
    return page, status


@bp.get("/items/<string(maxlength=60):code>")
def item(code: str) -> Page:
    return _preview(code, None)


@bp.get("/items/<string(maxlength=60):code>/versions/<int(min=1, max=100000):version>")
def item_version(code: str, version: int) -> Page:
    return _preview(code, version)


def _status_field(name: str) -> Status:
    value = request.form.get(name, "")
    try:
        return Status(value)
    except ValueError:
        raise Invalid(_("Unknown status %(value)r in the field %(field)s.",
                        value=plain_text(value, 40), field=name)) from None


def _version_field() -> int:
    value = request.form.get("version", "")
    if not value.isdigit() or not 1 <= int(value) <= 100_000:
        raise Invalid(_("The field %(f)s has the wrong type.", f="version"))
    return int(value)


@bp.post("/items/<string(maxlength=60):code>/status")
def change_status(code: str) -> Page:
    """One step of the review workflow, on the latest version; 303 back to the item."""
    comment = request.form.get("comment", "")
    try:
        target, expected = _status_field("to"), _status_field("from")
        version = _version_field()
        dialect.begin_write(db.session)
        review = reviews.change_status(
            db.session, code, version=version, expected=expected, target=target,
            reviewer_id=current_user.id, comment=comment, now=now(),
            ip=plain_text(request.remote_addr or "", 64),
        )
    except (Invalid, Conflict) as err:
        db.session.rollback()
        # The item page again, with the message beside the review form (422 or 409).
        return _preview(code, None, status=err.status, error=err.message, comment=comment)
    db.session.commit()
    flash(_("Item %(code)s: %(before)s → %(after)s.", code=code,
            before=STATUS_LABELS[review.from_status], after=STATUS_LABELS[review.to_status]))
    return redirect(url_for("admin.item", code=code), 303)


@bp.get("/images/<string(length=64):sha256>")
def image(sha256: str) -> WerkzeugResponse:
    """A stored image of the bank (item previews and rationales); staff only."""
    found = db.session.get(ImageAsset, sha256)
    if found is None or found.media_type not in delivery.IMAGE_TYPES:
        raise NotFound()
    resp = image_response(found)
    db.session.commit()
    return resp

