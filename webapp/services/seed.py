"""Demo data for `flask --app webapp seed-demo` (dev/test only; run by `make run`).

Idempotent: the programme, bank, form and accounts are created once; the demo
candidates' exams are reset on every run, so the demo always starts clean with
candidate1 admitted to a session today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from item_bank.demo import load_demo_bank
from item_bank.model import Bank
from webapp.models import (
    Attempt,
    AttemptEvent,
    ContentDomain,
    ExamSession,
    Form,
    FormItem,
    ItemVersion,
    LoginSession,
    Programme,
    Response,
    Role,
    Scenario,
    TestCentre,
    User,
)
from webapp.services import attempts, auth

PROGRAMME_CODE = "CCM-DEMO"
FORM_CODE = "CCM-DEMO-A"
CENTRE_CODE = "DEMO-C1"
# Unscored pretest slots per domain (30 of 180), taken from each domain's standalone items.
PRETEST_PER_DOMAIN = {
    "care-coordination": 8, "assessment-planning": 7, "implementation-monitoring": 6,
    "evaluation": 5, "professional-practice": 4,
}


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    role: Role
    name: str


DEMO_ACCOUNTS = (
    DemoAccount("admin@example.org", "demo-admin-pass", Role.ADMIN, "Ada Admin"),
    DemoAccount("proctor@example.org", "demo-proctor-pass", Role.PROCTOR, "Paul Proctor"),
    *(
        DemoAccount(f"candidate{i}@example.org", "demo-candidate-pass", Role.CANDIDATE, name)
        for i, name in enumerate(
            ["Camille Candidate", "Radu Popescu", "Aisha Bello", "Mihai Ionescu", "Jeanne Roy"],
            start=1,
        )
    ),
)


def _programme(session: Session, bank: Bank) -> Programme:
    programme = session.scalar(select(Programme).where(Programme.code == PROGRAMME_CODE))
    if programme is None:
        programme = Programme(code=PROGRAMME_CODE, name="Certified Case Manager (demo)",
                              warning_minutes=[15, 5])
        session.add(programme)
        session.flush()
        for position, domain in enumerate(bank.domains, start=1):
            session.add(ContentDomain(programme_id=programme.id, code=domain.code,
                                      name=domain.name, position=position))
    return programme


def _form(session: Session, programme: Programme, bank: Bank) -> Form:
    form = session.scalar(select(Form).where(Form.code == FORM_CODE))
    if form is not None:
        return form
    scenarios = {}
    for s in bank.scenarios:
        row = Scenario(code=s.code, vignette=s.vignette)
        session.add(row)
        scenarios[s.code] = row
    session.flush()
    pretest: set[str] = set()
    for domain, count in PRETEST_PER_DOMAIN.items():
        standalone = [i.code for i in bank.items if i.domain == domain and i.scenario is None]
        pretest.update(standalone[-count:])
    form = Form(programme_id=programme.id, code=FORM_CODE, title="Demo form A",
                published=True, duration_minutes=180)
    session.add(form)
    session.flush()
    for position, item in enumerate(bank.items, start=1):
        row = ItemVersion(
            code=item.code, version=item.version, programme_id=programme.id,
            domain_code=item.domain, kind=item.kind, stem=item.stem,
            options=[{"id": o.id, "text": o.text} for o in item.options], key=item.key,
            scenario_id=scenarios[item.scenario].id if item.scenario else None,
        )
        session.add(row)
        session.flush()
        session.add(FormItem(form_id=form.id, position=position, item_version_id=row.id,
                             scored=item.code not in pretest))
    session.flush()
    return form


def _accounts(session: Session) -> dict[str, User]:
    users = {}
    for account in DEMO_ACCOUNTS:
        user = session.scalar(select(User).where(User.email == account.email))
        if user is None:
            user = auth.create_user(session, account.email, account.password, account.role,
                                    account.name)
        users[account.email] = user
    return users


def _reset_candidates(session: Session, candidates: list[User]) -> None:
    ids = [c.id for c in candidates]
    attempt_ids = select(Attempt.id).where(Attempt.candidate_id.in_(ids))
    session.execute(delete(Response).where(Response.attempt_id.in_(attempt_ids)))
    session.execute(delete(AttemptEvent).where(AttemptEvent.attempt_id.in_(attempt_ids)))
    session.execute(delete(Attempt).where(Attempt.candidate_id.in_(ids)))
    session.execute(delete(LoginSession).where(LoginSession.user_id.in_(ids)))


def seed_demo(session: Session, now: datetime) -> list[DemoAccount]:
    """Create the demo (once) and reset its candidates to a clean session today."""
    bank = load_demo_bank()
    programme = _programme(session, bank)
    form = _form(session, programme, bank)
    centre = session.scalar(select(TestCentre).where(TestCentre.code == CENTRE_CODE))
    if centre is None:
        centre = TestCentre(code=CENTRE_CODE, name="Demo Test Centre",
                            address="1 Example Street, Exampleton")
        session.add(centre)
        session.flush()
    users = _accounts(session)
    candidates = [u for u in users.values() if u.role is Role.CANDIDATE]
    _reset_candidates(session, candidates)
    starts = now.replace(minute=0, second=0, microsecond=0)
    exam_session = session.scalar(select(ExamSession).where(
        ExamSession.centre_id == centre.id, ExamSession.form_id == form.id,
        ExamSession.starts_at >= starts - timedelta(hours=starts.hour),
        ExamSession.starts_at < starts - timedelta(hours=starts.hour) + timedelta(days=1),
    ))
    if exam_session is None:
        exam_session = ExamSession(centre_id=centre.id, form_id=form.id, starts_at=starts)
        session.add(exam_session)
        session.flush()
    proctor = users["proctor@example.org"]
    for number, candidate in enumerate(sorted(candidates, key=lambda u: u.email), start=1):
        attempt = attempts.create_attempt(session, candidate.id, exam_session)
        if number == 1:
            attempts.transition(session, attempt, attempts.S.ADMITTED, now,
                                actor_id=proctor.id, reason="demo: checked in")
    session.flush()
    return list(DEMO_ACCOUNTS)
