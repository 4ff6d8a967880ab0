"""The review workflow of items: draft -> review -> approved -> pretest | operational, and
any of them -> retired; a reviewer may also send an item in review back to draft.

A status change is not a new content version (docs/item-format.md, Status and reviews): it
updates the status of the item's latest version in place, records an :class:`ItemReview`
(reviewer, comment, time) and an audit entry, and refreshes the version's content hash so
that `items export` followed by `items import` still adds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from item_bank import authoring
from item_bank.model import Status
from webapp.errors import Conflict, Invalid, NotFound
from webapp.models import ItemReview, ItemVersion, Programme
from webapp.sanitize import has_control, plain_text
from webapp.services.audit import audit
from webapp.services.items import item_of

S = Status
# Where an item may go from each status, in the order the page offers the actions.
TRANSITIONS: Mapping[Status, tuple[Status, ...]] = {
    S.DRAFT: (S.REVIEW, S.RETIRED),
    S.REVIEW: (S.APPROVED, S.DRAFT, S.RETIRED),
    S.APPROVED: (S.PRETEST, S.OPERATIONAL, S.RETIRED),
    S.PRETEST: (S.OPERATIONAL, S.RETIRED),
    S.OPERATIONAL: (S.RETIRED,),
    S.RETIRED: (),  # final: a retired item comes back only as a new version (an import)
}
MAX_COMMENT = 2000


def needs_comment(current: Status, target: Status) -> bool:
    """Sending an item back to draft, or retiring it, needs a reason."""
    return target is S.RETIRED or (current is S.REVIEW and target is S.DRAFT)


class IllegalStatusChange(Conflict):
    code = "illegal_transition"


class StaleItem(Conflict):
    """The page the reviewer acted on no longer shows the item as it is."""

    code = "stale_item"


def latest_version(session: Session, code: str, *, for_update: bool = False) -> ItemVersion:
    stmt = (select(ItemVersion).where(ItemVersion.code == code)
            .order_by(ItemVersion.version.desc()).limit(1))
    if for_update:
        # OF item_versions: PostgreSQL refuses FOR UPDATE on the scenario's outer join.
        stmt = stmt.with_for_update(of=ItemVersion)
    row = session.scalar(stmt)
    if row is None:
        raise NotFound(str(_l("There is no item %(code)s in the bank.", code=code)))
    return row


def _check_comment(comment: str, current: Status, target: Status) -> str:
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid(str(_l("The comment is too long: %(n)s characters, at most %(max)s.",
                             n=len(comment), max=MAX_COMMENT)))
    if has_control(comment):
        raise Invalid(str(_l("The comment contains control characters; remove them.")))
    if not comment and needs_comment(current, target):
        raise Invalid(str(_l("Give a comment: returning an item to draft or retiring it "
                             "needs a reason.")))
    return comment


def change_status(
    session: Session, code: str, *, version: int, expected: Status, target: Status,
    reviewer_id: int, comment: str, now: datetime, ip: str | None = None,
) -> ItemReview:
    """Move item ``code`` from ``expected`` to ``target`` on behalf of a reviewer.

    ``version`` and ``expected`` are what the reviewer's page showed: if the item has a
    newer version, or its status changed meanwhile, :class:`StaleItem` (409) is raised
    rather than acting on something the reviewer has not seen. A move the workflow does not
    allow raises :class:`IllegalStatusChange` (409); a missing or bad comment
    :class:`Invalid` (422). Nothing is changed when anything is raised. Flushes; the caller
    commits.
    """
    row = latest_version(session, code, for_update=True)
    if row.version != version:
        raise StaleItem(str(_l(
            "Item %(code)s is at version %(latest)s, not the version %(version)s you "
            "reviewed. Review the latest version.",
            code=code, latest=row.version, version=version)))
    current = row.status
    if current is not expected:
        raise StaleItem(str(_l(
            "The status of item %(code)s changed to %(now)s while you were reviewing it. "
            "Reload the page.", code=code, now=current.value)))
    allowed = TRANSITIONS[current]
    if target not in allowed:
        if not allowed:
            message = _l("Item %(code)s is retired: its status cannot change. Import a new "
                         "version to bring it back.", code=code)
        else:
            message = _l("An item in status %(current)s cannot move to %(target)s; from "
                         "%(current)s it can move to %(allowed)s.", current=current.value,
                         target=target.value, allowed=", ".join(s.value for s in allowed))
        raise IllegalStatusChange(str(message))
    comment = _check_comment(comment, current, target)

    row.status = target
    if row.content_hash is not None:
        # Authored versions: the hash covers the status (item_bank/authoring/hashing.py), so
        # that an export of the reviewed bank imports as unchanged.
        programme = session.get(Programme, row.programme_id)
        assert programme is not None
        scenario_hash = row.scenario.content_hash if row.scenario else None
        row.content_hash = authoring.item_hash(item_of(row, programme.code), scenario_hash)
    review = ItemReview(item_version_id=row.id, item_code=row.code, from_status=current,
                        to_status=target, reviewer_id=reviewer_id, comment=comment,
                        created_at=now)
    session.add(review)
    session.flush()
    audit(session, "item.status", reviewer_id, target=f"item:{row.code} v{row.version}",
          reason=plain_text(comment, 500) or None, ip=ip, from_status=current.value,
          to_status=target.value, version=row.version, review_id=review.id)
    return review


def history(session: Session, code: str) -> list[ItemReview]:
    """Every review of item ``code`` (all its versions), newest first."""
    return list(session.scalars(select(ItemReview).where(ItemReview.item_code == code)
                                .order_by(ItemReview.created_at.desc(),
                                          ItemReview.id.desc())))


__all__ = [
    "MAX_COMMENT", "TRANSITIONS", "IllegalStatusChange", "StaleItem", "change_status",
    "history", "latest_version", "needs_comment",
]
