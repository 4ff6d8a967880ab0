"""Raw scores at the end of an attempt, computed by scoring/ (pure numpy)."""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session

from scoring.raw import raw_scores, score_choices
from webapp.models import Attempt
from webapp.services.saves import responses_by_item


def score_attempt(session: Session, attempt: Attempt) -> None:
    """Number right on scored items (pretest excluded), overall and per domain."""
    slots = list(attempt.form.items)
    responses = responses_by_item(session, attempt.id)
    choices = np.array(
        [[getattr(responses.get(s.item_version_id), "choice", None) for s in slots]],
        dtype=object,
    )
    matrix = score_choices(choices, [s.item.key for s in slots])
    result = raw_scores(
        matrix,
        scored=np.array([s.scored for s in slots], dtype=bool),
        domains=[s.item.domain_code for s in slots],
    )
    attempt.raw_score = int(result.total[0])
    attempt.domain_raw = {
        label: int(result.by_domain[0, j]) for j, label in enumerate(result.domain_labels)
    }
