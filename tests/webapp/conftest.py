"""Helpers shared by test_security.py, test_auth.py and test_bad_input.py.

These tests hold no application context while requests run (unlike the ``client`` fixture
of tests/conftest.py, whose requests share the test's session): every request gets its own
database session, as in production, so the work of a refused request is rolled back at the
end of that request and cannot be committed by the next one. The database is read back in
a fresh session by :func:`db_rows`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import FakeClock, sign_in
from tests.factories import PASSWORD, make_attempt, make_exam_session, make_form, make_user
from webapp.extensions import db
from webapp.models import Attempt, AttemptState, Base, ImageAsset, ItemVersion, Role

# Everything a request could change; audit_log is where security events are allowed.
WATCHED_TABLES = (
    "users", "login_sessions", "attempts", "responses", "attempt_events", "audit_log",
    "item_versions", "item_reviews",
)
# A tiny valid PNG (1x1, transparent): the image of the world's first item.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082")

Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class World:
    """A small exam: one form, a candidate's attempt, another candidate's, staff."""

    app: Flask
    clock: FakeClock
    attempt_id: int
    candidate: str
    other_attempt_id: int
    other_candidate: str
    proctor: str
    admin: str
    items: tuple[int, ...]  # item version ids of the attempt, in delivery order
    foreign_item: int  # an item of another form
    emails: dict[Role, str]
    item_code: str = ""  # the code of the form's first item, which shows an image:
    image_sha: str = ""  # the sha256 of that image (stored in image_assets)


def build_world(app: Flask, clock: FakeClock, *,
                state: AttemptState = AttemptState.IN_PROGRESS, n_items: int = 6,
                duration_minutes: int = 180, candidate_name: str | None = None) -> World:
    with app.app_context():
        session = db.session
        form = make_form(session, n_items=n_items, duration_minutes=duration_minutes)
        other_form = make_form(session, n_items=4)
        exam_session = make_exam_session(session, form, starts_at=clock.now)
        candidate = make_user(session, Role.CANDIDATE, name=candidate_name)
        other = make_user(session, Role.CANDIDATE)
        proctor = make_user(session, Role.PROCTOR)
        admin = make_user(session, Role.ADMIN)
        attempt = make_attempt(session, candidate, exam_session, state=state, now=clock.now)
        other_attempt = make_attempt(session, other, exam_session,
                                     state=AttemptState.IN_PROGRESS, now=clock.now)
        by_position = {slot.position: slot.item_version_id for slot in form.items}
        first = form.items[0].item
        image = add_image(session, first, "chart.png", "A bar chart of weekly visits")
        world = World(
            app=app, clock=clock, attempt_id=attempt.id, candidate=candidate.email,
            other_attempt_id=other_attempt.id, other_candidate=other.email,
            proctor=proctor.email, admin=admin.email,
            items=tuple(by_position[p] for p in attempt.item_order),
            foreign_item=other_form.items[0].item_version_id,
            emails={Role.CANDIDATE: candidate.email, Role.PROCTOR: proctor.email,
                    Role.ADMIN: admin.email},
            item_code=first.code, image_sha=image.sha256,
        )
        session.commit()
    return world


def add_image(session: Any, item: ItemVersion, name: str, alt: str,
              data: bytes = PNG_1X1) -> ImageAsset:
    """Store ``data`` as an image asset of ``item`` and show it at the end of its stem."""
    sha = hashlib.sha256(data).hexdigest()
    image = session.get(ImageAsset, sha)
    if image is None:
        image = ImageAsset(sha256=sha, media_type="image/png", size=len(data), data=data)
        session.add(image)
    item.assets = [*item.assets, {"file": name, "alt": alt, "media_type": "image/png",
                                  "sha256": sha, "size": len(data)}]
    item.stem = f"{item.stem}\n\n![]({name})"
    session.flush()
    return image


@pytest.fixture
def world(make_app: Callable[..., Flask], clock: FakeClock) -> World:
    """The default world: CSRF and rate limits off, the candidate's attempt in progress."""
    return build_world(make_app(), clock)


def login(app: Flask, email: str, password: str = PASSWORD) -> FlaskClient:
    """A new browser signed in as ``email`` (fails the test if the sign-in fails)."""
    client = app.test_client()
    resp = sign_in(client, email, password)
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return client


def db_rows(app: Flask, tables: tuple[str, ...] = WATCHED_TABLES) -> Rows:
    """Every row of ``tables`` (ordered by primary key), read in a fresh session."""
    with app.app_context():
        out: Rows = {}
        for name in tables:
            table = Base.metadata.tables[name]
            out[name] = [dict(row._mapping) for row in db.session.execute(
                select(table).order_by(*table.primary_key.columns))]
        db.session.rollback()
    return out


def assert_unchanged(before: Rows, after: Rows, *, ignore: tuple[str, ...] = ()) -> None:
    """Every watched table (but ``ignore``) holds the same rows; names what changed."""
    for name in before:
        if name in ignore or before[name] == after[name]:
            continue
        added = len(after[name]) - len(before[name])
        assert added == 0, f"{name}: {added:+d} rows, e.g. {after[name][-1]}"
        changed = {
            col: (old[col], new[col])
            for old, new in zip(before[name], after[name], strict=True)
            for col in old if old[col] != new[col]
        }
        raise AssertionError(f"{name} changed (column: (before, after)): {changed}")


def new_audit_actions(before: Rows, after: Rows) -> list[str]:
    """The ``action`` of every audit_log row added between two snapshots."""
    old = before["audit_log"]
    assert after["audit_log"][:len(old)] == old, "audit_log rows changed or vanished"
    return [row["action"] for row in after["audit_log"][len(old):]]


def load_attempt(app: Flask, attempt_id: int) -> Attempt:
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt is not None
        db.session.expunge(attempt)
        db.session.rollback()
    return attempt
