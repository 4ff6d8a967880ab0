"""What a candidate's browser receives: the paper in delivery order, without the key.

Only the fields listed in :class:`QuestionView` ever leave the server for a candidate;
the key, the domain and whether an item is scored stay behind. Stems, options and
vignettes are sent as safe HTML: the item's Markdown subset rendered by
:func:`item_bank.authoring.render` (markdown-it with HTML off, then the nh3 sanitizer), with
images pointing at a URL the caller chooses (the candidate's own image route on exam pages,
the staff route in the administrators' preview).
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from item_bank.authoring import ImageSource, render
from webapp.errors import NotFound
from webapp.models import Attempt, ImageAsset, ItemVersion, Response
from webapp.services import attempts, timing

# sha256 of a stored image -> the URL the browser fetches it from.
ImageUrl = Callable[[str], str]
# What the loader accepts (docs/item-format.md, Images); anything else is never served.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True)
class OptionView:
    id: str
    letter: str
    text: Markup  # safe HTML


@dataclass(frozen=True)
class QuestionView:
    position: int
    item_id: int
    stem: Markup  # safe HTML
    options: tuple[OptionView, ...]
    scenario: str | None
    vignette: Markup | None  # safe HTML
    images: tuple[str, ...] = ()  # URLs of the images it may show (the exam script preloads)


@functools.lru_cache(maxsize=16384)
def _render(text: str, images: tuple[tuple[str, ImageSource], ...], inline: bool) -> str:
    # Rendering costs ~0.1-0.4 ms a text, ~0.1 s for a 180-item paper; item versions are
    # immutable, so a page renders each text once per process (per attempt for texts with
    # images, whose URLs name the attempt).
    return render(text, dict(images), inline=inline)


def _images(assets: Iterable[Mapping[str, Any]], image_url: ImageUrl | None
            ) -> tuple[tuple[str, ImageSource], ...]:
    if image_url is None:
        return ()
    return tuple(sorted((a["file"], ImageSource(image_url(a["sha256"]), a["alt"]))
                        for a in assets))


def rendered(text: str, assets: Sequence[Mapping[str, Any]] = (),
             image_url: ImageUrl | None = None, *, inline: bool = False) -> Markup:
    """``text`` (stem, option, vignette or rationale markup) as safe HTML; without
    ``image_url`` its images are left out."""
    return Markup(_render(text, _images(assets, image_url), inline))


def question_view(item: ItemVersion, position: int, shown: Sequence[str],
                  image_url: ImageUrl | None) -> QuestionView:
    """One question as candidates see it, options in the order ``shown`` (lettered A, B..).

    A question of a scenario set may show its own images and the set's.
    """
    texts = {o["id"]: o["text"] for o in item.options}
    scenario = item.scenario
    assets = [*item.assets, *(scenario.assets if scenario else [])]
    return QuestionView(
        position=position,
        item_id=item.id,
        stem=rendered(item.stem, assets, image_url),
        options=tuple(
            OptionView(oid, string.ascii_uppercase[i],
                       rendered(texts[oid], assets, image_url, inline=True))
            for i, oid in enumerate(shown)
        ),
        scenario=scenario.code if scenario else None,
        vignette=rendered(scenario.vignette, scenario.assets, image_url) if scenario else None,
        images=tuple(source.url for _, source in _images(assets, image_url)),
    )


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


def build_paper(session: Session, attempt: Attempt, image_url: ImageUrl | None = None
                ) -> list[QuestionView]:
    """The attempt's questions in delivery order; ``image_url`` places the images (the
    candidate's image route, see :func:`image_of_attempt`)."""
    return [
        question_view(slot.item, position, attempt.option_order[str(slot.item.id)], image_url)
        for position, slot in enumerate(attempts.form_slots(session, attempt), start=1)
    ]


def image_of_attempt(session: Session, attempt: Attempt, sha256: str, now: datetime,
                     grace_s: float = 0.0) -> ImageAsset:
    """An image shown by a question of the candidate's own running attempt.

    Raises a 409 (:func:`attempts.require_in_progress`) unless the attempt is in progress and
    its time has not run out, and :class:`NotFound` for an image that no item or vignette
    of the attempt's form shows: a candidate cannot fetch any other image of the bank.
    """
    attempts.require_in_progress(attempt)
    if timing.is_due(attempt, now, grace_s):
        raise attempts.AttemptEnded()
    on_form = set()
    for slot in attempt.form.items:
        scenario = slot.item.scenario
        for asset in [*slot.item.assets, *(scenario.assets if scenario else [])]:
            on_form.add(asset["sha256"])
    image = session.get(ImageAsset, sha256) if sha256 in on_form else None
    if image is None or image.media_type not in IMAGE_TYPES:
        raise NotFound()
    return image


def paper_json(
    paper: list[QuestionView], responses: Mapping[int, ResponseView]
) -> dict[str, Any]:
    """The compact JSON the exam script navigates with (works offline once loaded)."""
    vignettes = {q.scenario: q.vignette for q in paper if q.scenario}
    # stem, options and vignettes are safe HTML (see the module docstring); the exam script
    # inserts these fields, and only these, as HTML.
    return {
        "questions": [
            {
                "item": q.item_id, "stem": q.stem, "scenario": q.scenario,
                "options": [[o.id, o.text] for o in q.options],
            }
            for q in paper
        ],
        "vignettes": vignettes,
        "images": sorted({url for q in paper for url in q.images}),
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
