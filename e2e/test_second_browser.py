"""One exam, one workstation: a second browser waits for the proctor to unlock it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from e2e.conftest import (
    PROCTOR_EMAIL,
    PROCTOR_PASSWORD,
    Candidate,
    ExamDatabase,
    button,
    expect_saved,
    options,
    question_heading,
    sign_in,
    signed_in_exam,
)

pytestmark = pytest.mark.e2e


def test_second_browser_waits_for_the_proctor_and_the_first_is_signed_out(
    new_context: Callable[..., BrowserContext], candidate: Candidate, exam_db: ExamDatabase
) -> None:
    attempt_id = candidate.attempt_id
    first_item = exam_db.item_at(attempt_id, 1)
    shown = exam_db.shown_options(attempt_id, 1)
    a = signed_in_exam(new_context, candidate)
    lock_a = exam_db.attempt(attempt_id).lock_session_id
    assert lock_a is not None

    b = new_context().new_page()
    sign_in(b, candidate.email, candidate.password)
    b.goto(a.url)
    expect(b.get_by_role("heading", name=re.compile(r"^Exam open on another workstation", re.I))
           ).to_be_visible()
    expect(b.get_by_role("alert")).to_have_text(re.compile(r"proctor must unlock", re.I))
    expect(b.get_by_role("radio")).to_have_count(0)

    # A is not disturbed by B.
    options(a).nth(1).check()
    expect_saved(a)
    assert exam_db.responses(attempt_id)[first_item].choice == shown[1]
    assert exam_db.attempt(attempt_id).lock_session_id == lock_a

    proctor = new_context().new_page()
    sign_in(proctor, PROCTOR_EMAIL, PROCTOR_PASSWORD)
    expect(proctor).to_have_url(re.compile(r"/proctor/$"))
    proctor.get_by_role("button", name=re.compile(rf"^Unlock {candidate.name}$", re.I)).click()
    expect(proctor.get_by_role("status")).to_have_text(re.compile(r"unlocked", re.I))
    expect(proctor.get_by_role("button", name=re.compile(rf"^Unlock {candidate.name}$", re.I))
           ).to_have_count(0)

    # B continues by itself (it polls every 3 s) and now drives the attempt.
    expect(question_heading(b, 1)).to_be_visible(timeout=10_000)
    expect(b.get_by_role("radio").nth(1)).to_be_checked()
    lock_b = exam_db.attempt(attempt_id).lock_session_id
    assert lock_b is not None and lock_b != lock_a
    options(b).nth(3).check()
    expect_saved(b)
    assert exam_db.responses(attempt_id)[first_item].choice == shown[3]

    # A's session was revoked: its next save is refused and it says so.
    options(a).nth(2).check()
    expect(a.get_by_role("status")).to_have_text(re.compile(r"signed out", re.I))
    button(b, "Next").click()
    expect(question_heading(b, 2)).to_be_visible()
    stored = exam_db.responses(attempt_id)
    assert stored[first_item].choice == shown[3], "the revoked browser must not overwrite B"
    assert exam_db.attempt(attempt_id).lock_session_id == lock_b
