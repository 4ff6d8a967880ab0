"""Classical observed-score equating.

Random-groups design (form X and form Y taken by randomly equivalent samples;
``fx`` and ``fy`` are count arrays indexed by raw score):

* `mean_equating`, `linear` -> `LinearEquating`;
* `equipercentile` -> equated scores, with optional log-linear presmoothing
  (`loglinear_smooth`, `select_loglinear_degree`) and cubic-spline
  postsmoothing (`cubic_spline_postsmooth`);
* delta-method standard errors `se_linear`, `se_equipercentile`.

Common-item nonequivalent groups (NEAT) design (``fxv`` and ``fyv`` are
bivariate count tables of total and anchor scores):

* linear: `tucker`, `levine_observed`, `levine_true`, `chained_linear`
  (details in `synthetic_linear`);
* equipercentile: `frequency_estimation` (`synthetic_distributions`) and
  `chained_equipercentile`.

Any method: seeded bootstrap standard errors `bootstrap_se`.

Helpers: `frequency_moments`, `bivariate_frequencies`.

All moments are population moments (divisor N) and the equipercentile
methods follow Kolen & Brennan (2014), eqs. 2.14 and 2.18.
"""

from scoring.equating._common import (
    FrequencyMoments,
    LinearEquating,
    bivariate_frequencies,
    frequency_moments,
)
from scoring.equating.bootstrap import BootstrapSE, bootstrap_se
from scoring.equating.neat import (
    SyntheticDistributions,
    SyntheticLinear,
    chained_equipercentile,
    chained_linear,
    frequency_estimation,
    levine_observed,
    levine_true,
    synthetic_distributions,
    synthetic_linear,
    tucker,
)
from scoring.equating.random_groups import (
    equipercentile,
    linear,
    mean_equating,
    se_equipercentile,
    se_linear,
)
from scoring.equating.smoothing import (
    CubicSplinePostsmoothing,
    LogLinearFit,
    cubic_spline_postsmooth,
    loglinear_smooth,
    select_loglinear_degree,
)

__all__ = [
    "BootstrapSE",
    "CubicSplinePostsmoothing",
    "FrequencyMoments",
    "LinearEquating",
    "LogLinearFit",
    "SyntheticDistributions",
    "SyntheticLinear",
    "bivariate_frequencies",
    "bootstrap_se",
    "chained_equipercentile",
    "chained_linear",
    "cubic_spline_postsmooth",
    "equipercentile",
    "frequency_estimation",
    "frequency_moments",
    "levine_observed",
    "levine_true",
    "linear",
    "loglinear_smooth",
    "mean_equating",
    "se_equipercentile",
    "se_linear",
    "select_loglinear_degree",
    "synthetic_distributions",
    "synthetic_linear",
    "tucker",
]
