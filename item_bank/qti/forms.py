"""A form as a QTI package carries it: the pure counterpart of webapp's Form rows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FormSlot:
    """One position of a form: an item (by id) and whether it is scored (not pretest)."""

    item: str
    scored: bool = True


@dataclass(frozen=True)
class FormSpec:
    """A fixed form: its items in delivery order (before any shuffling)."""

    code: str
    title: str
    programme: str | None
    duration_minutes: int
    shuffle_items: bool
    shuffle_options: bool
    slots: tuple[FormSlot, ...]

    def __post_init__(self) -> None:
        if not self.code:
            raise ValueError("a form needs a code")
        if self.duration_minutes < 1:
            raise ValueError(f"form {self.code}: bad duration {self.duration_minutes} minute(s)")
        codes = [s.item for s in self.slots]
        if len(set(codes)) != len(codes):
            raise ValueError(f"form {self.code}: an item is on the form twice")
