"""Item response theory: models, estimation, person scoring and fit.

Response matrices are ``(n_candidates, n_items)`` arrays of 1 (right), 0 (wrong)
and -1 (not answered). Every estimator here treats -1 as *missing*: the item is
left out of that candidate's likelihood rather than scored wrong.

Modules
-------
model
    The 3PL response function, information, Lord-Wingersky recursion, quadrature.
rasch
    Rasch difficulties by conditional, joint and marginal maximum likelihood
    (`fit_rasch`), elementary symmetric functions.
mml
    2PL and 3PL item parameters by marginal maximum likelihood (`fit_2pl`, `fit_3pl`).
persons
    Ability estimates by MLE, WLE and EAP (`estimate_abilities`).
fit
    Infit and outfit mean squares (`fit_statistics`).
simulate
    Seeded simulation of responses (`simulate_responses`).
linking
    Placing a new form's parameters on the old scale (`link`: mean/mean, mean/sigma,
    Haebara, Stocking-Lord).
equating
    IRT true-score and observed-score equating.
preequating
    Raw-to-theta tables and cut scores for a new form from banked parameters
    (`pre_equate`).
"""

from scoring.irt.equating import (
    IRTObservedScoreEquating,
    IRTTrueScoreEquating,
    irt_observed_score_equating,
    irt_true_score_equating,
    theta_for_true_score,
)
from scoring.irt.fit import FitStatistics, fit_statistics
from scoring.irt.linking import (
    LINK_METHODS,
    ScaleLinking,
    as_item_parameters,
    link,
    transform_parameters,
)
from scoring.irt.mml import MarginalFit, fit_2pl, fit_3pl
from scoring.irt.model import (
    ItemParameters,
    information,
    normal_quadrature,
    probability,
    score_distribution,
    test_characteristic,
)
from scoring.irt.persons import AbilityEstimates, estimate_abilities
from scoring.irt.preequating import PreEquating, pre_equate
from scoring.irt.rasch import (
    ElementarySymmetricFunctions,
    RaschFit,
    elementary_symmetric_functions,
    fit_rasch,
)
from scoring.irt.simulate import simulate_responses

__all__ = [
    "LINK_METHODS",
    "AbilityEstimates",
    "IRTObservedScoreEquating",
    "IRTTrueScoreEquating",
    "PreEquating",
    "ScaleLinking",
    "as_item_parameters",
    "irt_observed_score_equating",
    "irt_true_score_equating",
    "link",
    "pre_equate",
    "theta_for_true_score",
    "transform_parameters",
    "ElementarySymmetricFunctions",
    "FitStatistics",
    "ItemParameters",
    "MarginalFit",
    "RaschFit",
    "elementary_symmetric_functions",
    "estimate_abilities",
    "fit_2pl",
    "fit_3pl",
    "fit_rasch",
    "fit_statistics",
    "information",
    "normal_quadrature",
    "probability",
    "score_distribution",
    "simulate_responses",
    "test_characteristic",
]
