"""The basic path works with JavaScript switched off: plain form posts all the way."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from e2e.conftest import (
    Candidate,
    ExamDatabase,
    button,
    options,
    question_heading,
    sign_in,
    start_exam,
)

pytestmark = pytest.mark.e2e

PICKS = {1: 2, 2: 0, 3: 1}  # position -> option index


def test_sitting_without_javascript(
    new_context: Callable[..., BrowserContext], candidate: Candidate, exam_db: ExamDatabase
) -> None:
    attempt_id = candidate.attempt_id
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, candidate.email, candidate.password)
    start_exam(page)
    for position, index in PICKS.items():
        expect(question_heading(page, position)).to_be_visible()
        expect(page).to_have_url(re.compile(rf"/exam/{attempt_id}/q/{position}$"))
        options(page).nth(index).check()
        button(page, "Next").click()
    expect(question_heading(page, 4)).to_be_visible()
    # Each Next was a full page load carrying the answer: the server renders it back.
    button(page, "Previous").click()
    expect(question_heading(page, 3)).to_be_visible()
    expect(options(page).nth(PICKS[3])).to_be_checked()

    button(page, "Review").click()
    expect(page).to_have_url(re.compile(rf"/exam/{attempt_id}/review$"))
    expect(page.get_by_text(re.compile(r"^Answered: \d+$"))).to_have_text("Answered: 3")
    page.get_by_role("link", name=re.compile(r"^Submit exam", re.I)).click()
    expect(page.get_by_text(re.compile(r"You have 177 unanswered questions"))).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Confirm submit", re.I)).click()
    expect(page.get_by_role("heading", name=re.compile(r"submitted", re.I))).to_be_visible()

    attempt = exam_db.attempt(attempt_id)
    assert attempt.state.value == "submitted"
    stored = exam_db.responses(attempt_id)
    answered = {item: r.choice for item, r in stored.items() if r.choice is not None}
    assert answered == {
        exam_db.item_at(attempt_id, position): exam_db.shown_options(attempt_id, position)[index]
        for position, index in PICKS.items()
    }
