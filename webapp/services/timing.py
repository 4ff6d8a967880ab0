"""Server-authoritative exam time.

Time used accrues only while the attempt is in progress: a running segment has a server
start time, and closing it adds its length to ``time_used_s``. The browser's clock plays no
part; it only draws the countdown between server answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from webapp.models import Attempt


class Clocked(Protocol):
    """What the time rules read: an Attempt, or a row of just these columns."""

    @property
    def time_allowed_s(self) -> int: ...
    @property
    def extra_time_s(self) -> int: ...
    @property
    def time_used_s(self) -> float: ...
    @property
    def segment_started_at(self) -> datetime | None: ...


def time_limit(attempt: Clocked) -> float:
    return float(attempt.time_allowed_s + attempt.extra_time_s)


def time_used(attempt: Clocked, now: datetime) -> float:
    used = attempt.time_used_s
    if attempt.segment_started_at is not None:
        used += max(0.0, (now - attempt.segment_started_at).total_seconds())
    return min(used, time_limit(attempt))


def remaining(attempt: Clocked, now: datetime) -> float:
    return max(0.0, time_limit(attempt) - time_used(attempt, now))


def deadline(attempt: Clocked) -> datetime | None:
    """When the running segment uses up the time; None while the clock is stopped."""
    if attempt.segment_started_at is None:
        return None
    left = time_limit(attempt) - attempt.time_used_s
    return attempt.segment_started_at + timedelta(seconds=max(0.0, left))


def is_due(attempt: Clocked, now: datetime, grace_s: float = 0.0) -> bool:
    end = deadline(attempt)
    return end is not None and now >= end + timedelta(seconds=grace_s)


def start_segment(attempt: Attempt, now: datetime) -> None:
    if attempt.segment_started_at is None:
        attempt.segment_started_at = now


def stop_segment(attempt: Attempt, now: datetime) -> None:
    if attempt.segment_started_at is not None:
        attempt.time_used_s = time_used(attempt, now)
        attempt.segment_started_at = None


def format_hms(seconds: float) -> str:
    """H:MM:SS, rounding up so that 0:00:00 shows only when time is really up."""
    whole = int(-(-max(0.0, seconds) // 1))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def format_duration(seconds: float) -> str:
    """A duration for people, e.g. "3 h" or "2 h 30 min"."""
    from flask_babel import gettext as _

    minutes = int(round(seconds / 60))
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return _("%(h)s h %(m)s min", h=hours, m=mins)
    if hours:
        return _("%(h)s h", h=hours)
    return _("%(m)s min", m=mins)
