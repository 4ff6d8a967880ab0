"""Fixtures for the e2e suite: one live server and one chromium per test session.

The server is tests/live_server.py's LiveServer: a real gunicorn on a file SQLite database,
migrated and seeded with the demo. Each test gets its own candidate and admitted attempt,
created directly in that database through the services, so tests never share an attempt.
Browser contexts are closed and the server stopped in fixture finalizers.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.live_server import LiveServer
from webapp import dialect
from webapp.models import Attempt, AttemptState, ExamSession, FormItem, Response, Role, User, utcnow
from webapp.services import attempts, auth

CHROMIUM = "/usr/bin/chromium"
CANDIDATE_PASSWORD = "e2e-candidate-pass"
PROCTOR_EMAIL = "proctor@example.org"
PROCTOR_PASSWORD = "demo-proctor-pass"
DEMO_CANDIDATE = ("candidate1@example.org", "demo-candidate-pass")
TOTAL = 180
TIME_RE = re.compile(r"^\d:\d\d:\d\d$")

expect.set_options(timeout=10_000)
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Candidate:
    """A candidate account with one admitted attempt in the demo's session today."""

    user_id: int
    email: str
    password: str
    name: str
    attempt_id: int


class ExamDatabase:
    """Direct access to the live server's database: set-up and checks of what it stored."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = dialect.make_engine(url)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def attempt_of(self, email: str) -> int:
        with self.session() as s:
            user = s.scalars(select(User).where(User.email == email)).one()
            return s.scalars(select(Attempt.id).where(Attempt.candidate_id == user.id)).one()

    def new_candidate(self, *, time_allowed_s: int | None = None) -> Candidate:
        """A fresh candidate, booked into the demo session and admitted by the proctor."""
        n = next(_numbers)
        email, name = f"e2e{n}@example.test", f"E2E Candidate {n}"
        with self.session() as s:
            dialect.begin_write(s)
            exam_session = s.scalars(select(ExamSession).order_by(ExamSession.id)).first()
            assert exam_session is not None, "the demo seed made no exam session"
            proctor = s.scalars(select(User).where(User.email == PROCTOR_EMAIL)).one()
            user = auth.create_user(s, email, CANDIDATE_PASSWORD, Role.CANDIDATE, name)
            attempt = attempts.create_attempt(s, user.id, exam_session)
            if time_allowed_s is not None:
                attempt.time_allowed_s = time_allowed_s
            attempts.transition(s, attempt, AttemptState.ADMITTED, utcnow(),
                                actor_id=proctor.id, reason="e2e: checked in")
            s.commit()
            return Candidate(user.id, email, CANDIDATE_PASSWORD, name, attempt.id)

    def attempt(self, attempt_id: int) -> Attempt:
        with self.session() as s:
            attempt = s.get(Attempt, attempt_id)
            assert attempt is not None
            return attempt

    def responses(self, attempt_id: int) -> dict[int, Response]:
        """The stored responses, by item version id."""
        with self.session() as s:
            rows = s.scalars(select(Response).where(Response.attempt_id == attempt_id)).all()
            return {r.item_version_id: r for r in rows}

    def item_at(self, attempt_id: int, position: int) -> int:
        """The item version shown at ``position`` (1-based) of this attempt."""
        with self.session() as s:
            attempt = s.get(Attempt, attempt_id)
            assert attempt is not None
            form_position = attempt.item_order[position - 1]
            return s.scalars(select(FormItem.item_version_id).where(
                FormItem.form_id == attempt.form_id, FormItem.position == form_position,
            )).one()

    def shown_options(self, attempt_id: int, position: int) -> list[str]:
        """The option ids of the question at ``position``, in the order shown (A, B, ...)."""
        item = self.item_at(attempt_id, position)
        return list(self.attempt(attempt_id).option_order[str(item)])

    def wait_for(self, check: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Poll the database until ``check()`` holds; the result of the last try."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(0.2)
        return check()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("e2e")
    server = LiveServer(f"sqlite:///{root / 'exam.db'}")
    server.prepare()
    try:
        server.start(log_path=root / "server.log")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def exam_db(live_server: LiveServer) -> Iterator[ExamDatabase]:
    database = ExamDatabase(live_server.database_url)
    yield database
    database.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(
    browser: Browser, live_server: LiveServer
) -> Iterator[Callable[..., BrowserContext]]:
    """Open browser contexts on the live server; all are closed after the test."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def candidate(exam_db: ExamDatabase) -> Candidate:
    return exam_db.new_candidate()


# ---------- the candidate's steps, by role and accessible name ----------


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label(re.compile(r"^Email", re.I)).fill(email)
    page.get_by_label(re.compile(r"^Password", re.I)).fill(password)
    page.get_by_role("button", name=re.compile(r"^Sign in", re.I)).click()
    expect(page.get_by_role("button", name=re.compile(r"^Sign out", re.I))).to_be_visible()


def question_heading(page: Page, n: int) -> Locator:
    return page.get_by_role("heading", name=re.compile(rf"^Question {n} of {TOTAL}\b", re.I))


def start_exam(page: Page) -> None:
    """From the candidate's home: Start exam, accept the rules, Begin exam."""
    page.get_by_role("link", name=re.compile(r"^Start exam", re.I)).click()
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name=re.compile(r"^Begin exam", re.I)).click()
    expect(question_heading(page, 1)).to_be_visible()


def button(page: Page, name: str) -> Locator:
    return page.get_by_role("button", name=re.compile(rf"^{re.escape(name)}", re.I))


def flag_button(page: Page) -> Locator:
    """The "Flag for review" toggle, found whatever its pressed state adds to its name.

    app.css draws a flag glyph in ::before when pressed, which Chromium puts in front of
    the accessible name; test_navigation checks the name itself.
    """
    return page.get_by_role("button", name=re.compile(r"Flag for review", re.I))


def options(page: Page) -> Locator:
    return page.get_by_role("radio")


def expect_saved(page: Page, timeout: float = 10_000) -> None:
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Saved", re.I), timeout=timeout)


def nav_link(page: Page, n: int) -> Locator:
    """Question ``n`` in the navigator or review list ("Question 5, answered, flagged")."""
    return page.get_by_role("link", name=re.compile(rf"^Question {n}\b", re.I))


def go_to_question(page: Page, n: int) -> None:
    """Through the navigator: open the "Go to a question" disclosure, follow the link."""
    page.get_by_text(re.compile(r"^Go to a question", re.I)).click()
    nav_link(page, n).click()
    expect(question_heading(page, n)).to_be_visible()


def signed_in_exam(
    new_context: Callable[..., BrowserContext], candidate: Candidate, **context_options: Any
) -> Page:
    """A new context signed in as ``candidate``, on question 1 of the started exam."""
    page = new_context(**context_options).new_page()
    sign_in(page, candidate.email, candidate.password)
    start_exam(page)
    return page
