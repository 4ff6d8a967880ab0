"""A minute without network: the candidate keeps answering; nothing is lost."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from e2e.conftest import (
    Candidate,
    ExamDatabase,
    button,
    expect_saved,
    options,
    question_heading,
    signed_in_exam,
)

pytestmark = pytest.mark.e2e

OFFLINE_SECONDS = 60
ANSWERED_OFFLINE = 10


def test_answers_given_offline_are_saved_when_the_network_returns(
    new_context: Callable[..., BrowserContext], candidate: Candidate, exam_db: ExamDatabase
) -> None:
    attempt_id = candidate.attempt_id
    page = signed_in_exam(new_context, candidate)
    options(page).first.check()
    expect_saved(page)
    first = exam_db.item_at(attempt_id, 1)
    assert exam_db.responses(attempt_id)[first].choice == exam_db.shown_options(attempt_id, 1)[0]

    page.context.set_offline(True)
    cut_at = time.monotonic()
    expected: dict[int, str] = {}
    for position in range(2, 2 + ANSWERED_OFFLINE):
        button(page, "Next").click()
        expect(question_heading(page, position)).to_be_visible()
        expect(page).to_have_url(re.compile(rf"/exam/{attempt_id}/q/{position}$"))
        pick = position % 4
        options(page).nth(pick).check()
        expected[exam_db.item_at(attempt_id, position)] = (
            exam_db.shown_options(attempt_id, position)[pick]
        )
        # Each answer is kept in the page and in the workstation's queue while offline.
        expect(options(page).nth(pick)).to_be_checked()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Not saved, retrying", re.I))
    stored = exam_db.responses(attempt_id)
    assert not set(expected) & set(stored), "nothing can reach the server while offline"

    # The scenario is a minute-long cut: wall time is the point here.
    time.sleep(max(0.0, OFFLINE_SECONDS - (time.monotonic() - cut_at)))
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Not saved, retrying", re.I))
    page.context.set_offline(False)

    def all_stored() -> bool:
        stored = exam_db.responses(attempt_id)
        return all(item in stored and stored[item].choice == choice
                   for item, choice in expected.items())

    assert exam_db.wait_for(all_stored, timeout=10), (
        f"after 10 s back online the server has {exam_db.responses(attempt_id)}, "
        f"expected {expected}"
    )
    expect_saved(page)
    assert len(exam_db.responses(attempt_id)) == 1 + ANSWERED_OFFLINE
    assert exam_db.attempt(attempt_id).current_position == 1 + ANSWERED_OFFLINE
