"""Psychometric scoring for the exam-delivery platform.

``scoring`` is a pure numerical library: it depends only on numpy and scipy
(no web framework, no database layer) so that every function can be tested,
reused and audited in isolation.

Inputs are response matrices of shape ``(n_candidates, n_items)`` whose
entries are ``1`` (right, `RIGHT`), ``0`` (wrong, `WRONG`) or ``-1`` (not
answered, `OMITTED`). Raw option choices can be converted to such a matrix
with `score_choices`.

Modules
-------
raw
    Item scoring against an answer key and number-right raw scores.
"""

from scoring.raw import OMITTED, RIGHT, WRONG, RawScores, raw_scores, score_choices

__all__ = ["OMITTED", "RIGHT", "WRONG", "RawScores", "raw_scores", "score_choices"]
