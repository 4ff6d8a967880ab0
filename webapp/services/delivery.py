"""What a candidate's browser receives: the paper in delivery order, without the key.

Only the fields listed in :class:`QuestionView` ever leave the server for a candidate;
the key, the domain and whether an item is scored stay behind.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from webapp.models import Attempt, Response
from webapp.services import attempts


@dataclass(frozen=True)
class OptionView:
    id: str
    letter: str
    text: str


@dataclass(frozen=True)
class QuestionView:
    position: int
    item_id: int
    stem: str
    options: tuple[OptionView, ...]
    scenario: str | None
    vignette: str | None


@dataclass(frozen=True)
class ResponseView:
    choice: str | None = None
    flagged: bool = False
    struck: tuple[str, ...] = ()
    seq: int = 0

    @classmethod
    def of(cls, row: Response | None) -> ResponseView:
        if row is None:
            return cls()
        return cls(row.choice, row.flagged, tuple(row.struck or ()), row.seq)

    @property
    def answered(self) -> bool:
        return self.choice is not None


def build_paper(session: Session, attempt: Attempt) -> list[QuestionView]:
    paper = []
    for position, slot in enumerate(attempts.form_slots(session, attempt), start=1):
        item = slot.item
        texts = {o["id"]: o["text"] for o in item.options}
        shown = attempt.option_order[str(item.id)]
        paper.append(QuestionView(
            position=position,
            item_id=item.id,
            stem=item.stem,
            options=tuple(
                OptionView(oid, string.ascii_uppercase[i], texts[oid])
                for i, oid in enumerate(shown)
            ),
            scenario=item.scenario.code if item.scenario else None,
            vignette=item.scenario.vignette if item.scenario else None,
        ))
    return paper


def paper_json(
    paper: list[QuestionView], responses: Mapping[int, ResponseView]
) -> dict[str, Any]:
    """The compact JSON the exam script navigates with (works offline once loaded)."""
    vignettes = {q.scenario: q.vignette for q in paper if q.scenario}
    return {
        "questions": [
            {
                "item": q.item_id, "stem": q.stem, "scenario": q.scenario,
                "options": [[o.id, o.text] for o in q.options],
            }
            for q in paper
        ],
        "vignettes": vignettes,
        "responses": {
            str(item): {
                "choice": r.choice, "flagged": r.flagged, "struck": list(r.struck), "seq": r.seq,
            }
            for item, r in responses.items()
        },
    }


@dataclass(frozen=True)
class ReviewRow:
    position: int
    answered: bool
    flagged: bool


@dataclass(frozen=True)
class ReviewSummary:
    rows: tuple[ReviewRow, ...]

    @property
    def answered(self) -> int:
        return sum(r.answered for r in self.rows)

    @property
    def unanswered(self) -> int:
        return len(self.rows) - self.answered

    @property
    def flagged(self) -> int:
        return sum(r.flagged for r in self.rows)


def review(paper: list[QuestionView], responses: Mapping[int, ResponseView]) -> ReviewSummary:
    empty = ResponseView()
    return ReviewSummary(tuple(
        ReviewRow(
            q.position,
            responses.get(q.item_id, empty).answered,
            responses.get(q.item_id, empty).flagged,
        )
        for q in paper
    ))
