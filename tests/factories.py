"""Factories: each builds one model through the services and returns it."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy.orm import Session

from item_bank.model import ItemKind
from webapp.models import (
    Attempt,
    AttemptState,
    ContentDomain,
    ExamSession,
    Form,
    FormItem,
    ItemVersion,
    LoginSession,
    Programme,
    Role,
    Scenario,
    TestCentre,
    User,
    utcnow,
)
from webapp.services import attempts, auth

PASSWORD = "correct horse battery"
_ids = itertools.count(1)
DOMAINS = ("dom-a", "dom-b")


def make_user(session: Session, role: Role = Role.CANDIDATE, *, email: str | None = None,
              password: str = PASSWORD, name: str | None = None) -> User:
    n = next(_ids)
    return auth.create_user(session, email or f"{role.value}{n}@example.test", password, role,
                            name or f"{role.value.title()} {n}")


def make_form(session: Session, *, n_items: int = 6, scenario_size: int = 2,
              n_pretest: int = 1, duration_minutes: int = 180, shuffle: bool = True,
              keys: list[str] | None = None) -> Form:
    """A published form of ``n_items`` 4-option items; the first ``scenario_size`` form a
    scenario set; the last ``n_pretest`` are unscored; domains alternate dom-a, dom-b."""
    n = next(_ids)
    programme = Programme(code=f"P{n}", name=f"Programme {n}", warning_minutes=[15, 5])
    session.add(programme)
    session.flush()
    for i, code in enumerate(DOMAINS):
        session.add(ContentDomain(programme_id=programme.id, code=code, name=code.upper(),
                                  position=i))
    scenario = None
    if scenario_size:
        scenario = Scenario(code=f"S{n}", vignette=f"Vignette {n}: a client case.")
        session.add(scenario)
        session.flush()
    form = Form(programme_id=programme.id, code=f"F{n}", title=f"Form {n}", published=True,
                duration_minutes=duration_minutes, shuffle_items=shuffle,
                shuffle_options=shuffle)
    session.add(form)
    session.flush()
    for position in range(1, n_items + 1):
        in_set = position <= scenario_size
        item = ItemVersion(
            code=f"I{n}-{position}", version=1, programme_id=programme.id,
            domain_code=DOMAINS[(position - 1) % 2],
            kind=ItemKind.SCENARIO if in_set else ItemKind.MCQ,
            stem=f"Stem of item {position}?",
            options=[{"id": o, "text": f"Option {o} of item {position}"} for o in "ABCD"],
            key=(keys[position - 1] if keys else "ABCD"[(position - 1) % 4]),
            scenario_id=scenario.id if in_set and scenario else None,
        )
        session.add(item)
        session.flush()
        session.add(FormItem(form_id=form.id, position=position, item_version_id=item.id,
                             scored=position <= n_items - n_pretest))
    session.flush()
    session.refresh(form)
    return form


def make_exam_session(session: Session, form: Form, starts_at: datetime | None = None
                      ) -> ExamSession:
    n = next(_ids)
    centre = TestCentre(code=f"C{n}", name=f"Centre {n}")
    session.add(centre)
    session.flush()
    exam_session = ExamSession(centre_id=centre.id, form_id=form.id,
                               starts_at=starts_at or utcnow())
    session.add(exam_session)
    session.flush()
    return exam_session


def make_attempt(session: Session, candidate: User, exam_session: ExamSession, *,
                 state: AttemptState = AttemptState.SCHEDULED, now: datetime | None = None,
                 lock_session_id: str | None = None, seed: int = 12345) -> Attempt:
    """An attempt moved through the real state machine up to ``state``."""
    moment = now or utcnow()
    attempt = attempts.create_attempt(session, candidate.id, exam_session, seed=seed)
    path = {
        AttemptState.SCHEDULED: [],
        AttemptState.ADMITTED: [AttemptState.ADMITTED],
        AttemptState.IN_PROGRESS: [AttemptState.ADMITTED, AttemptState.IN_PROGRESS],
        AttemptState.PAUSED: [AttemptState.ADMITTED, AttemptState.IN_PROGRESS,
                              AttemptState.PAUSED],
        AttemptState.SUBMITTED: [AttemptState.ADMITTED, AttemptState.IN_PROGRESS,
                                 AttemptState.SUBMITTED],
        AttemptState.EXPIRED: [AttemptState.ADMITTED, AttemptState.IN_PROGRESS,
                               AttemptState.EXPIRED],
        AttemptState.VOIDED: [AttemptState.VOIDED],
    }[state]
    for target in path:
        attempts.transition(session, attempt, target, moment)
    if lock_session_id is not None and session.get(LoginSession, lock_session_id) is None:
        # A lock names a real login session of the candidate (saves check it is live).
        session.add(LoginSession(id=lock_session_id, user_id=candidate.id))
    attempt.lock_session_id = lock_session_id
    session.flush()
    return attempt


def reload_attempt(session: Session, attempt_id: int) -> Attempt:
    """The attempt as stored: ends the test's transaction (requests commit in their own)."""
    session.commit()
    session.expire_all()
    attempt = session.get(Attempt, attempt_id)
    assert attempt is not None
    return attempt
