"""Psychometric scoring for the exam-delivery platform.

``scoring`` is a pure numerical library: it depends only on numpy and scipy
(no web framework, no database layer) so that every function can be tested,
reused and audited in isolation, from the web app, the command line
(``python -m scoring``) or a notebook.

Inputs are response matrices of shape ``(n_candidates, n_items)`` whose
entries are ``1`` (right, `RIGHT`), ``0`` (wrong, `WRONG`) or ``-1`` (not
answered, `OMITTED`), and score frequency arrays (counts indexed by raw score
``0..K``). Raw option choices can be converted to such a matrix with
`score_choices`. Results are frozen dataclasses holding numpy arrays.

Modules
-------
raw
    Item scoring against an answer key and number-right raw scores.
scaling
    Conversion tables from raw scores (or theta, or an equating) to a reporting scale.
equating
    Random-groups and common-item (NEAT) equating, smoothing, standard errors.
irt
    Rasch, 2PL and 3PL estimation, person estimates, fit, linking, IRT equating and
    pre-equating.
percentiles
    Mid-point percentile ranks against a norm group.
reliability
    KR-20/alpha, SEM, conditional SEM, decision consistency and accuracy, subscore value.
item_analysis
    Classical item statistics, distractor analysis, flags, Mantel-Haenszel DIF.
domains
    Per-domain raw scores, percents and performance bands.
"""

from scoring import (
    domains,
    equating,
    irt,
    item_analysis,
    percentiles,
    reliability,
    scaling,
)
from scoring.raw import OMITTED, RIGHT, WRONG, RawScores, raw_scores, score_choices

__all__ = [
    "OMITTED",
    "RIGHT",
    "WRONG",
    "RawScores",
    "domains",
    "equating",
    "irt",
    "item_analysis",
    "percentiles",
    "raw_scores",
    "reliability",
    "scaling",
    "score_choices",
]
