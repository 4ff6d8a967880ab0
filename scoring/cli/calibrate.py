"""``python -m scoring calibrate``: Rasch item difficulties with infit and outfit.

Conditional, marginal or joint maximum likelihood; not-answered responses are missing,
not wrong. Writes difficulties.csv and calibration.json, optionally abilities.csv.
"""

from __future__ import annotations

import argparse
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from scoring import irt
from scoring.cli._outputs import (
    OutputPlan,
    add_output_arguments,
    csv_columns,
    json_document,
    json_text,
    json_value,
)
from scoring.cli._problems import Problems
from scoring.cli._progress import Progress
from scoring.cli._responses import (
    ResponseData,
    add_response_arguments,
    read_items_and_responses,
)

__all__ = ["N_STEPS", "add_parser", "run"]

N_STEPS: Final = 5
"""Steps shown by the progress display."""


def add_parser(subparsers: Any) -> None:
    """Add the ``calibrate`` command to the subparsers of ``python -m scoring``."""
    cal = subparsers.add_parser(
        "calibrate", help="Rasch item difficulties (CML, MML or JML) with infit/outfit",
        description="Estimate Rasch item difficulties; not-answered responses are missing, "
        "not wrong.",
    )
    add_response_arguments(cal, items_required=False)
    cal.add_argument("--method", choices=("cml", "mml", "jml"), default="cml",
                     help="conditional, marginal or joint maximum likelihood (default cml)")
    cal.add_argument("--estimate-discrimination", action="store_true",
                     help="MML: estimate one common discrimination instead of fixing it at 1")
    cal.add_argument("--quadrature", type=int, default=21, metavar="N",
                     help="MML: Gauss-Hermite points (default 21)")
    cal.add_argument("--abilities", choices=("wle", "mle", "eap"),
                     help="also write abilities.csv with this estimator")
    add_output_arguments(cal)
    cal.set_defaults(handler=run, n_steps=N_STEPS)


def _check_items(
    responses: ResponseData,
    n_answered: npt.NDArray[np.int64],
    n_right: npt.NDArray[np.int64],
    problems: Problems,
) -> None:
    """Every item needs a finite Rasch difficulty: answered, neither all right nor all wrong."""
    path = responses.path
    n, k = responses.codes.shape
    if k < 2:
        problems.add(path, 1, "header", "calibration needs at least 2 items")
    if n < 2:
        problems.add(path, 0, "file", "calibration needs at least 2 candidates")
    for j, item_id in enumerate(responses.item_ids):
        if n_answered[j] == 0:
            problems.add(path, 1, item_id, "nobody answered this item")
        elif n_right[j] in (0, n_answered[j]):
            which = "right" if n_right[j] else "wrong"
            problems.add(
                path, 1, item_id,
                f"every candidate who answered this item got it {which}; its Rasch "
                "difficulty is not finite (leave the item out)",
            )


def run(args: argparse.Namespace, progress: Progress) -> OutputPlan:
    """Read and check the responses, fit the Rasch model, and plan the output files."""
    problems = Problems()
    names = ["difficulties.csv", "calibration.json"]
    if args.abilities is not None:
        names.append("abilities.csv")
    plan = OutputPlan.from_arguments(args, names, problems)
    if args.estimate_discrimination and args.method != "mml":
        problems.option("--estimate-discrimination", "needs --method mml")
    if args.quadrature < 2:
        problems.option("--quadrature", f"must be at least 2, got {args.quadrature}")
    items, responses = read_items_and_responses(args, problems, progress)
    codes = responses.codes
    n, k = codes.shape
    answered = codes >= 0
    n_answered = answered.sum(axis=0)
    n_right = (codes == 1).sum(axis=0)
    _check_items(responses, n_answered, n_right, problems)
    problems.raise_if_any()

    progress.step(f"fitting the Rasch model ({args.method.upper()})")
    try:
        fit = irt.fit_rasch(
            codes, method=args.method,
            discrimination=None if args.estimate_discrimination else 1.0,
            n_quadrature=args.quadrature,
        )
    except ValueError as exc:
        problems.fail(
            responses.path, 0, "calibration",
            f"{exc} (items are numbered from 0 in the order {', '.join(responses.item_ids[:10])}"
            + (", ..." if k > 10 else "") + ")",
        )
    parameters = irt.ItemParameters.create(
        b=fit.difficulty, a=np.full(k, fit.discrimination), D=1.0
    )
    progress.step("abilities and fit statistics")
    usable = answered.any(axis=1)
    theta = np.full(n, np.nan)
    theta_se = np.full(n, np.nan)
    extreme = np.zeros(n, dtype=bool)
    method = args.abilities or "wle"
    persons = irt.estimate_abilities(codes[usable], parameters, method=method)
    theta[usable], theta_se[usable], extreme[usable] = persons.theta, persons.se, persons.extreme
    wle = persons if method == "wle" else irt.estimate_abilities(codes[usable], parameters)
    fit_stats = irt.fit_statistics(codes[usable], parameters, wle.theta)

    progress.step("writing")
    p_answered = n_right / np.maximum(n_answered, 1)
    header = [
        "item_id", "difficulty", "se", "n_answered", "p", "infit", "outfit", "infit_t",
        "outfit_t",
    ]
    columns: list[npt.ArrayLike] = [
        np.array(responses.item_ids), fit.difficulty, fit.difficulty_se, n_answered,
        p_answered, fit_stats.item_infit, fit_stats.item_outfit, fit_stats.item_infit_t,
        fit_stats.item_outfit_t,
    ]
    plan.add("difficulties.csv", csv_columns(header, columns))
    inputs = (responses.source, items.source if items is not None else None)
    plan.add("calibration.json", json_text(json_document("RaschCalibration", inputs, {
        "method": fit.method,
        "discrimination": json_value(fit.discrimination),
        "discrimination_se": json_value(fit.discrimination_se),
        "discrimination_estimated": bool(args.estimate_discrimination),
        "loglik": json_value(fit.loglik),
        "converged": bool(fit.converged),
        "n_iterations": int(fit.n_iterations),
        "n_candidates": n,
        "n_candidates_used": int(fit.n_candidates_used),
        "correction": json_value(fit.correction),
        "quadrature_points": args.quadrature if args.method == "mml" else None,
        "abilities": method if args.abilities is not None else None,
        "items": [
            {
                "item_id": item_id,
                "difficulty": json_value(fit.difficulty[j]),
                "se": json_value(fit.difficulty_se[j]),
                "n_answered": int(n_answered[j]),
                "infit": json_value(fit_stats.item_infit[j]),
                "outfit": json_value(fit_stats.item_outfit[j]),
            }
            for j, item_id in enumerate(responses.item_ids)
        ],
    })))
    if args.abilities is not None:
        raw = (codes == 1).sum(axis=1)
        plan.add("abilities.csv", csv_columns(
            ["candidate_id", "raw", "answered", "theta", "se", "extreme"],
            [responses.candidate_ids, raw, answered.sum(axis=1), theta, theta_se, extreme],
        ))
    plan.message = (
        f"Rasch {fit.method.upper()} on {n} candidates x {k} items: log-likelihood "
        f"{fit.loglik:.3f}, {'converged' if fit.converged else 'NOT converged'} in "
        f"{fit.n_iterations} iterations"
    )
    return plan
