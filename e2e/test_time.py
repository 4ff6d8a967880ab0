"""The countdown: warnings before the end, and the end itself, without any click."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from e2e.conftest import (
    TIME_RE,
    ExamDatabase,
    expect_saved,
    options,
    signed_in_exam,
)

pytestmark = pytest.mark.e2e

SHORT_EXAM_S = 20
GRACE_S = 3  # SAVE_GRACE_SECONDS: the server ends the attempt this long after zero


def test_time_runs_out_and_the_page_ends_by_itself(
    new_context: Callable[..., BrowserContext], exam_db: ExamDatabase
) -> None:
    candidate = exam_db.new_candidate(time_allowed_s=SHORT_EXAM_S)
    attempt_id = candidate.attempt_id
    page = signed_in_exam(new_context, candidate)
    expect(page.get_by_text(TIME_RE)).to_have_text(re.compile(r"^0:00:(1\d|20)$"))
    options(page).first.check()
    expect_saved(page)

    # Nobody clicks anything: at zero the page announces it, then shows the ended page.
    expect(page.locator("#time-warning")).to_have_text(
        re.compile(r"^Time is up", re.I), timeout=(SHORT_EXAM_S + 5) * 1000)
    expect(page.get_by_role("heading", name=re.compile(r"^Time is up", re.I))).to_be_visible(
        timeout=(GRACE_S + 10) * 1000)
    expect(page).to_have_url(re.compile(rf"/exam/{attempt_id}/done$"))

    attempt = exam_db.attempt(attempt_id)
    assert attempt.state.value == "expired"
    assert attempt.time_used_s == pytest.approx(SHORT_EXAM_S)
    item = exam_db.item_at(attempt_id, 1)
    choice = exam_db.shown_options(attempt_id, 1)[0]
    assert exam_db.responses(attempt_id)[item].choice == choice
    assert attempt.raw_score is not None and attempt.domain_raw is not None
    assert sum(attempt.domain_raw.values()) == attempt.raw_score
    assert attempt.raw_score in (0, 1)


@pytest.mark.parametrize("minutes", [15, 5])
def test_warning_before_the_end(
    new_context: Callable[..., BrowserContext], exam_db: ExamDatabase, minutes: int
) -> None:
    candidate = exam_db.new_candidate(time_allowed_s=minutes * 60 + 6)
    page = signed_in_exam(new_context, candidate)
    warning = page.locator("#time-warning")
    expect(warning).to_have_attribute("aria-live", "assertive")
    expect(warning).to_have_text("")  # more than the warning's minutes left at first
    expect(warning).to_have_text(re.compile(rf"^{minutes} minutes remaining", re.I),
                                 timeout=12_000)
    expect(page.get_by_text(TIME_RE)).to_have_text(re.compile(rf"^0:{minutes - 1:02d}:5\d$"))
