"""Review the answers, filter, submit; afterwards the exam is closed."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import (
    TOTAL,
    Candidate,
    ExamDatabase,
    button,
    expect_saved,
    flag_button,
    options,
    question_heading,
    signed_in_exam,
)

pytestmark = pytest.mark.e2e

ANSWERED = {1: 0, 2: 3, 4: 1}  # position -> option index
FLAGGED = {2, 3}


def _review_rows(page: Page) -> list[str]:
    """The text of the links in the review rows that are shown (hidden rows are not)."""
    links = page.get_by_role("list").get_by_role("link", name=re.compile(r"^Question \d+$"))
    return [name.strip() for name in links.all_inner_texts()]


def test_review_filters_and_submit(
    new_context: Callable[..., BrowserContext], candidate: Candidate, exam_db: ExamDatabase
) -> None:
    attempt_id = candidate.attempt_id
    page = signed_in_exam(new_context, candidate)
    for position in range(1, 5):
        expect(question_heading(page, position)).to_be_visible()
        if position in ANSWERED:
            options(page).nth(ANSWERED[position]).check()
        if position in FLAGGED:
            flag_button(page).click()
            expect(flag_button(page)).to_have_attribute("aria-pressed", "true")
        button(page, "Next").click()
    expect(question_heading(page, 5)).to_be_visible()
    expect_saved(page)

    button(page, "Review").click()
    expect(page).to_have_url(re.compile(rf"/exam/{attempt_id}/review$"))
    expect(page.get_by_role("heading", name=re.compile(r"^Review", re.I))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Answered: \d+$"))).to_have_text(
        f"Answered: {len(ANSWERED)}")
    expect(page.get_by_text(re.compile(r"^Flagged: \d+$"))).to_have_text(
        f"Flagged: {len(FLAGGED)}")
    expect(page.get_by_text(re.compile(r"^Unanswered: \d+$"))).to_have_text(
        f"Unanswered: {TOTAL - len(ANSWERED)}")

    page.get_by_role("link", name=re.compile(r"^Flagged only", re.I)).click()
    expect(page).to_have_url(re.compile(r"/review\?filter=flagged$"))
    assert _review_rows(page) == [f"Question {n}" for n in sorted(FLAGGED)]

    page.get_by_role("link", name=re.compile(r"^Unanswered only", re.I)).click()
    expect(page).to_have_url(re.compile(r"/review\?filter=unanswered$"))
    unanswered = [f"Question {n}" for n in range(1, TOTAL + 1) if n not in ANSWERED]
    assert _review_rows(page) == unanswered

    # The same filter rendered by the server (a reload) shows the same rows.
    page.reload()
    expect(page.get_by_text(re.compile(r"^Answered: \d+$"))).to_have_text(
        f"Answered: {len(ANSWERED)}")
    assert _review_rows(page) == unanswered

    page.get_by_role("link", name=re.compile(r"^All questions", re.I)).click()
    assert len(_review_rows(page)) == TOTAL

    page.get_by_role("link", name=re.compile(r"^Submit exam", re.I)).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Submit exam", re.I))).to_be_visible()
    missing = TOTAL - len(ANSWERED)
    expect(page.get_by_text(re.compile(rf"You have {missing} unanswered questions"))
           ).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Confirm submit", re.I)).click()
    expect(page.get_by_role("heading", name=re.compile(r"submitted", re.I))).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"has been submitted", re.I))

    attempt = exam_db.attempt(attempt_id)
    assert attempt.state.value == "submitted"
    assert attempt.raw_score is not None
    stored = exam_db.responses(attempt_id)
    for position, index in ANSWERED.items():
        item = exam_db.item_at(attempt_id, position)
        assert stored[item].choice == exam_db.shown_options(attempt_id, position)[index]
    items = {p: exam_db.item_at(attempt_id, p) for p in range(1, 6)}
    assert {p for p, item in items.items() if item in stored and stored[item].flagged} == FLAGGED

    # The exam is over: a question URL shows the ended page, a save is refused.
    page.goto(f"/exam/{attempt_id}/q/1")
    expect(page).to_have_url(re.compile(rf"/exam/{attempt_id}/done$"))
    expect(page.get_by_role("heading", name=re.compile(r"submitted", re.I))).to_be_visible()
    expect(page.get_by_role("radio")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.input_value()
    status, body = page.evaluate(
        """async ([url, token, item]) => {
            const r = await fetch(url, {method: "POST", credentials: "same-origin",
              headers: {"Content-Type": "application/json", "Accept": "application/json",
                        "X-CSRFToken": token},
              body: JSON.stringify({seq: 100000, item: item, choice: null})});
            return [r.status, await r.json()];
        }""",
        [f"/exam/{attempt_id}/save", token, items[3]],
    )
    assert (status, body["error"]) == (409, "attempt_ended")
    after = exam_db.responses(attempt_id)[items[3]]
    assert (after.seq, after.flagged) == (stored[items[3]].seq, True)
