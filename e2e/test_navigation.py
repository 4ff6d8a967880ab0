"""A sitting in the browser: answer, flag, strike, move around, reload, resume."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import (
    DEMO_CANDIDATE,
    TIME_RE,
    ExamDatabase,
    button,
    expect_saved,
    flag_button,
    go_to_question,
    nav_link,
    options,
    question_heading,
    sign_in,
    start_exam,
)

pytestmark = pytest.mark.e2e


def _expect_kept(page: Page) -> None:
    """On question 3: its answer, question 1's answer and flag, question 2's strike."""
    expect(question_heading(page, 3)).to_be_visible()
    expect(options(page).nth(2)).to_be_checked()
    page.get_by_text(re.compile(r"^Go to a question", re.I)).click()
    expect(nav_link(page, 1)).to_have_accessible_name(
        re.compile(r"^Question 1\s*, answered, flagged", re.I))
    expect(nav_link(page, 3)).to_have_accessible_name(
        re.compile(r"^Question 3\s*, answered$", re.I))
    nav_link(page, 1).click()
    expect(question_heading(page, 1)).to_be_visible()
    expect(options(page).nth(1)).to_be_checked()
    expect(flag_button(page)).to_have_attribute("aria-pressed", "true")
    button(page, "Next").click()
    expect(question_heading(page, 2)).to_be_visible()
    expect(button(page, "Strike out A")).to_have_attribute("aria-pressed", "true")
    expect(button(page, "Strike out B")).to_have_attribute("aria-pressed", "false")
    for option in options(page).all():
        expect(option).not_to_be_checked()
    button(page, "Next").click()
    expect(question_heading(page, 3)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/exam/\d+/q/3$"))


def test_answer_flag_strike_navigate_reload_and_resume(
    new_context: Callable[..., BrowserContext], exam_db: ExamDatabase
) -> None:
    email, password = DEMO_CANDIDATE
    attempt_id = exam_db.attempt_of(email)
    context = new_context()
    page = context.new_page()
    sign_in(page, email, password)
    start_exam(page)

    expect(page).to_have_url(re.compile(rf"/exam/{attempt_id}/q/1$"))
    expect(page.get_by_text(TIME_RE)).to_have_text(re.compile(r"^(3:00:00|2:59:\d\d)$"))
    shown = exam_db.shown_options(attempt_id, 1)
    expect(options(page)).to_have_count(len(shown))
    for letter, option in zip("ABCDE", options(page).all(), strict=False):
        expect(option).to_have_accessible_name(re.compile(rf"^{letter} \S"))
    expect(button(page, "Previous")).to_be_disabled()

    # Question 1: answer B and flag it.
    options(page).nth(1).check()
    expect_saved(page)
    flag = flag_button(page)
    expect(flag).to_have_attribute("aria-pressed", "false")
    flag.click()
    expect(flag).to_have_attribute("aria-pressed", "true")

    # Question 2: strike out A.
    button(page, "Next").click()
    expect(question_heading(page, 2)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/exam/{attempt_id}/q/2$"))
    expect(flag_button(page)).to_have_attribute("aria-pressed", "false")
    strike = button(page, "Strike out A")
    strike.click()
    expect(strike).to_have_attribute("aria-pressed", "true")

    button(page, "Previous").click()
    expect(question_heading(page, 1)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/exam/{attempt_id}/q/1$"))
    expect(options(page).nth(1)).to_be_checked()
    expect(flag_button(page)).to_have_attribute("aria-pressed", "true")

    # Question 3 through the navigator: answer C.
    go_to_question(page, 3)
    expect(page).to_have_url(re.compile(rf"/exam/{attempt_id}/q/3$"))
    options(page).nth(2).check()
    expect_saved(page)

    page.reload()
    _expect_kept(page)

    # Without the workstation's copy: everything comes back from the server.
    expect_saved(page)
    page.evaluate("localStorage.clear()")
    page.reload()
    _expect_kept(page)

    item1, item2, item3 = (exam_db.item_at(attempt_id, n) for n in (1, 2, 3))
    stored = exam_db.responses(attempt_id)
    assert stored[item1].choice == exam_db.shown_options(attempt_id, 1)[1]
    assert stored[item1].flagged is True
    assert stored[item2].choice is None
    assert stored[item2].struck == [exam_db.shown_options(attempt_id, 2)[0]]
    assert stored[item2].flagged is False
    assert stored[item3].choice == exam_db.shown_options(attempt_id, 3)[2]
    assert stored[item3].flagged is False and stored[item3].struck == []

    # The browser closes; the same workstation (same cookies) resumes where it was.
    cookies = context.storage_state()
    context.close()
    page = new_context(storage_state=cookies).new_page()
    page.goto("/candidate/")
    page.get_by_role("link", name=re.compile(r"^Resume exam", re.I)).click()
    expect(question_heading(page, 3)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/exam/{attempt_id}/q/3$"))
    expect(options(page).nth(2)).to_be_checked()
    expect(page.get_by_text(TIME_RE)).to_be_visible()
    attempt = exam_db.attempt(attempt_id)
    assert attempt.state.value == "in_progress"
    assert attempt.current_position == 3

    # A toggle keeps its name whatever its state (WAI-ARIA APG, button pattern): the
    # pressed state is announced from aria-pressed, the name stays "Flag for review".
    go_to_question(page, 1)
    expect(flag_button(page)).to_have_attribute("aria-pressed", "true")
    expect(flag_button(page)).to_have_accessible_name(re.compile(r"^Flag for review$", re.I))
    page.get_by_text(re.compile(r"^Go to a question", re.I)).click()
    expect(nav_link(page, 1)).to_have_accessible_name(
        re.compile(r"^Question 1\s*, answered, flagged$", re.I))

