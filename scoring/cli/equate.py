"""``python -m scoring equate``: equate form X to form Y from two score files.

Random groups (mean, linear, equipercentile with optional smoothing) or NEAT with
anchor scores (Tucker, Levine, chained, frequency estimation); writes equating.csv and
equating.json, with ``--base-conversion`` also form X's conversion table.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from scoring import equating
from scoring.cli._csv import open_csv
from scoring.cli._outputs import (
    OutputPlan,
    add_output_arguments,
    conversion_columns,
    csv_columns,
    json_document,
    json_list,
    json_text,
    json_value,
)
from scoring.cli._problems import Problems
from scoring.cli._progress import Progress
from scoring.cli._sources import SourceFile, read_conversion
from scoring.scaling import ConversionTable, equated_conversion

__all__ = ["NEAT_METHODS", "N_STEPS", "RANDOM_METHODS", "add_parser", "read_scores", "run"]

FloatArray = npt.NDArray[np.float64]

N_STEPS: Final = 4
"""Steps shown by the progress display."""

RANDOM_METHODS: Final = ("mean", "linear", "equipercentile")
NEAT_METHODS: Final = (
    "tucker",
    "levine_observed",
    "levine_true",
    "chained_linear",
    "frequency_estimation",
    "chained_equipercentile",
)
_WEIGHTED: Final = ("tucker", "levine_observed", "frequency_estimation")
"""The NEAT methods that use the synthetic-population weight w1."""


def add_parser(subparsers: Any) -> None:
    """Add the ``equate`` command to the subparsers of ``python -m scoring``."""
    eq = subparsers.add_parser(
        "equate", help="equate form X to form Y (random groups or NEAT)",
        description="Equate form X to form Y from two score files and write the "
        "equating function; with --base-conversion also form X's conversion table.",
    )
    eq.add_argument("--design", choices=("random", "neat"), required=True,
                    help="random groups, or common-item nonequivalent groups (anchor scores)")
    eq.add_argument("--method", required=True,
                    help="random: " + ", ".join(RANDOM_METHODS) + "; neat: "
                    + ", ".join(NEAT_METHODS))
    eq.add_argument("--x", required=True, metavar="CSV", help="form X scores (new form)")
    eq.add_argument("--y", required=True, metavar="CSV", help="form Y scores (base form)")
    eq.add_argument("--score-column", metavar="NAME",
                    help="total score column (default: total, score or raw, the first present)")
    eq.add_argument("--anchor-column", default="anchor", metavar="NAME",
                    help="anchor score column, neat design (default anchor)")
    eq.add_argument("--x-max", type=int, metavar="K", help="maximum score of form X")
    eq.add_argument("--y-max", type=int, metavar="K", help="maximum score of form Y")
    eq.add_argument("--anchor-max", type=int, metavar="K", help="maximum anchor score")
    eq.add_argument("--anchor", choices=("internal", "external"), default="internal",
                    help="whether the anchor items count in the total (default internal)")
    eq.add_argument("--w1", type=float, metavar="W",
                    help="weight of population P (form X) in the synthetic population "
                    "(default: proportional to the sample sizes)")
    eq.add_argument("--presmooth", type=int, metavar="C",
                    help="log-linear presmoothing degree (random equipercentile)")
    eq.add_argument("--postsmooth", type=float, metavar="S",
                    help="cubic-spline postsmoothing parameter (random equipercentile)")
    eq.add_argument("--se", choices=("none", "delta", "bootstrap"), default="none",
                    help="standard errors of equating (default none)")
    eq.add_argument("--bootstrap", type=int, default=500, metavar="N",
                    help="bootstrap replicates with --se bootstrap (default 500)")
    eq.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    eq.add_argument("--base-conversion", metavar="JSON",
                    help="form Y's conversion table: also write form X's table")
    eq.add_argument("--form", default=None, help="form code stored in the new table's metadata")
    eq.add_argument("--table-version", default="1", metavar="V",
                    help="version identifier of the new conversion table (default 1)")
    add_output_arguments(eq)
    eq.set_defaults(handler=run, n_steps=N_STEPS)


def _check_options(args: argparse.Namespace, problems: Problems) -> None:
    methods = RANDOM_METHODS if args.design == "random" else NEAT_METHODS
    if args.method not in methods:
        problems.option(
            "--method",
            f"{args.method!r} is not a {args.design} design method; choose one of "
            + ", ".join(methods),
        )
    if args.w1 is not None:
        if args.method not in _WEIGHTED:
            problems.option("--w1", "only tucker, levine_observed and frequency_estimation use it")
        elif not 0 <= args.w1 <= 1:
            problems.option("--w1", f"must lie in [0, 1], got {args.w1}")
    if args.anchor != "internal" and args.method not in (
        "tucker", "levine_observed", "levine_true"
    ):
        problems.option("--anchor", "only tucker, levine_observed and levine_true use it")
    if (args.presmooth is not None or args.postsmooth is not None) and not (
        args.design == "random" and args.method == "equipercentile"
    ):
        problems.option("--presmooth", "smoothing applies to random-groups equipercentile only")
    if args.presmooth is not None and args.postsmooth is not None:
        problems.option("--postsmooth", "give --presmooth or --postsmooth, not both")
    if args.presmooth is not None and args.presmooth < 1:
        problems.option("--presmooth", f"the log-linear degree must be >= 1, got {args.presmooth}")
    if args.postsmooth is not None and not (
        args.postsmooth >= 0 and math.isfinite(args.postsmooth)
    ):
        problems.option("--postsmooth", f"must be a number >= 0, got {args.postsmooth}")
    if args.se == "delta" and not (
        args.design == "random" and args.method in ("linear", "equipercentile")
        and args.presmooth is None and args.postsmooth is None
    ):
        problems.option(
            "--se", "delta-method standard errors exist for random-groups linear and "
            "unsmoothed equipercentile equating; use --se bootstrap",
        )
    if args.bootstrap < 2:
        problems.option("--bootstrap", f"must be at least 2 replicates, got {args.bootstrap}")
    if args.design != "neat" and (args.anchor_max is not None):
        problems.option("--anchor-max", "only the neat design has anchor scores")
    for option, value in (("--x-max", args.x_max), ("--y-max", args.y_max),
                          ("--anchor-max", args.anchor_max)):
        if value is not None and value < 1:
            problems.option(option, f"must be a positive integer, got {value}")


@dataclass(frozen=True, eq=False)
class ScoreCounts:
    """A score file as counts: (K + 1,) or, with an anchor, (K + 1, Kv + 1)."""

    source: SourceFile
    counts: npt.NDArray[np.int64]


def read_scores(
    path: str,
    *,
    score_column: str | None,
    anchor_column: str | None,
    max_score: int | None,
    max_anchor: int | None,
    internal_anchor: bool,
    problems: Problems,
) -> ScoreCounts | None:
    """Read a score file: one row per candidate, or a frequency table with ``count``."""
    before = problems.total
    table = open_csv(path, problems)
    if table is None:
        return None
    header_line, names = table.header_line, table.names
    if score_column is None:
        score_column = next((c for c in ("total", "score", "raw") if c in names), "total")
    needed = [score_column] + ([anchor_column] if anchor_column else [])
    missing = [c for c in needed if c not in names]
    for c in missing:
        problems.add(path, header_line, c, "missing column")
    if missing:
        return None
    i_score = names.index(score_column)
    i_anchor = names.index(anchor_column) if anchor_column else None
    i_count = names.index("count") if "count" in names else None
    scores: list[int] = []
    anchors: list[int] = []
    weights: list[int] = []
    for line, row in table.rows(problems):
        values = []
        for column, index, limit in (
            (score_column, i_score, max_score),
            (anchor_column, i_anchor, max_anchor),
            ("count", i_count, None),
        ):
            if index is None:
                continue
            text = row[index].strip()
            if not text.isdigit():
                problems.add(path, line, str(column), f"{text!r} is not a non-negative integer")
                break
            if limit is not None and int(text) > limit:
                problems.add(path, line, str(column), f"{text} exceeds the maximum score {limit}")
                break
            values.append(int(text))
        else:
            if i_anchor is not None and internal_anchor and values[1] > values[0]:
                problems.add(
                    path, line, str(anchor_column),
                    f"anchor score {values[1]} exceeds the total {values[0]}, impossible with "
                    "an internal anchor (use --anchor external if the anchor is not part of "
                    "the total)",
                )
                continue
            scores.append(values[0])
            if i_anchor is not None:
                anchors.append(values[1])
            weights.append(values[-1] if i_count is not None else 1)
    if not scores and problems.total == before:
        problems.add(path, 0, "file", "has a header but no scores")
    if problems.total > before:
        return None
    s = np.array(scores, dtype=np.int64)
    w = np.array(weights, dtype=np.int64)
    k = int(s.max()) if max_score is None else max_score
    if i_anchor is None:
        counts = np.bincount(s, weights=w, minlength=k + 1).astype(np.int64)
    else:
        v = np.array(anchors, dtype=np.int64)
        kv = int(v.max()) if max_anchor is None else max_anchor
        flat = np.bincount(s * (kv + 1) + v, weights=w, minlength=(k + 1) * (kv + 1))
        counts = flat.astype(np.int64).reshape(k + 1, kv + 1)
    if counts.sum() == 0:
        problems.add(path, 0, "count", "no candidates (all counts are 0)")
        return None
    return ScoreCounts(table.source, counts)


def _equating_function(
    args: argparse.Namespace,
) -> Callable[[npt.ArrayLike, npt.ArrayLike], equating.LinearEquating | FloatArray]:
    method = args.method
    if args.design == "random":
        if method == "mean":
            return equating.mean_equating
        if method == "linear":
            return equating.linear
        return functools.partial(
            equating.equipercentile, presmooth=args.presmooth, postsmooth=args.postsmooth
        )
    w1 = args.w1
    anchor = args.anchor
    table: dict[str, Callable[..., Any]] = {
        "tucker": functools.partial(equating.tucker, w1=w1, anchor=anchor),
        "levine_observed": functools.partial(equating.levine_observed, w1=w1, anchor=anchor),
        "levine_true": functools.partial(equating.levine_true, anchor=anchor),
        "chained_linear": equating.chained_linear,
        "frequency_estimation": functools.partial(equating.frequency_estimation, w1=w1),
        "chained_equipercentile": equating.chained_equipercentile,
    }
    return table[method]


def run(args: argparse.Namespace, progress: Progress) -> OutputPlan:
    """Read and check the score files, equate, and plan the output files."""
    problems = Problems()
    names = ["equating.csv", "equating.json"]
    if args.base_conversion is not None:
        names += ["conversion.json", "conversion.csv"]
    plan = OutputPlan.from_arguments(args, names, problems)
    _check_options(args, problems)
    problems.raise_if_any()

    progress.step("reading score files")
    neat = args.design == "neat"

    def read(path: str, max_score: int | None) -> ScoreCounts | None:
        return read_scores(
            path, score_column=args.score_column,
            anchor_column=args.anchor_column if neat else None,
            max_score=max_score, max_anchor=args.anchor_max,
            internal_anchor=args.anchor == "internal", problems=problems,
        )

    x = read(args.x, args.x_max)
    y = read(args.y, args.y_max)
    base_source: SourceFile | None = None
    base: ConversionTable | None = None
    if args.base_conversion is not None:
        base_source, base = read_conversion(args.base_conversion, problems)
    problems.raise_if_any()
    assert x is not None and y is not None
    if neat and x.counts.shape[1] != y.counts.shape[1]:
        problems.add(
            args.y, 0, args.anchor_column,
            f"anchor scores run to {y.counts.shape[1] - 1} here but to "
            f"{x.counts.shape[1] - 1} in {args.x}; give --anchor-max",
        )
    ky = y.counts.shape[0] - 1
    if base is not None and base.n_items != ky:
        problems.add(
            args.base_conversion, 0, "raw",
            f"the base table covers raw scores 0..{base.n_items} but form Y scores run to "
            f"{ky}; the base table must be form Y's (check --y-max)",
        )
    problems.raise_if_any()

    progress.step(f"equating ({args.method})")
    function = _equating_function(args)
    kx = x.counts.shape[0] - 1
    scores = np.arange(kx + 1, dtype=np.float64)
    try:
        result = function(x.counts, y.counts)
    except ValueError as exc:
        problems.fail(args.x, 0, args.method, str(exc))
    linear_fn = result if isinstance(result, equating.LinearEquating) else None
    equated = linear_fn(scores) if linear_fn is not None else np.asarray(result, dtype=float)

    se: FloatArray | None = None
    se_doc: dict[str, Any] | None = None
    if args.se == "delta":
        se = (equating.se_linear(x.counts, y.counts) if args.method == "linear"
              else equating.se_equipercentile(x.counts, y.counts))
        se_doc = {"method": "delta"}
    elif args.se == "bootstrap":
        progress.step(f"bootstrap standard errors ({args.bootstrap} replicates)")
        try:
            boot = equating.bootstrap_se(
                function, x.counts, y.counts, n_boot=args.bootstrap, seed=args.seed
            )
        except ValueError as exc:
            problems.fail(args.x, 0, "bootstrap", str(exc))
        se = np.asarray(boot.se)
        se_doc = {"method": "bootstrap", "replicates": args.bootstrap, "seed": args.seed}

    fx = x.counts.sum(axis=1) if neat else x.counts
    fy = y.counts.sum(axis=1) if neat else y.counts
    moments = {
        "x": dataclasses.asdict(equating.frequency_moments(fx)),
        "y": dataclasses.asdict(equating.frequency_moments(fy)),
        "equated": dataclasses.asdict(equating.frequency_moments(fx, scores=equated)),
    }
    table: ConversionTable | None = None
    if base is not None:
        try:
            table = equated_conversion(
                equated, base, version=args.table_version,
                metadata={"form": args.form, "base_version": base.version,
                          "equating": f"{args.design}:{args.method}"},
            )
        except ValueError as exc:
            problems.fail(args.base_conversion, 0, "conversion", str(exc))

    progress.step("writing")
    header = ["x", "frequency", "equated"] + (["se"] if se is not None else [])
    columns: list[npt.NDArray[Any]] = [np.arange(kx + 1), fx, equated]
    if se is not None:
        columns.append(se)
    plan.add("equating.csv", csv_columns(header, columns))
    n_x, n_y = x.counts.sum(), y.counts.sum()
    plan.add("equating.json", json_text(json_document(
        "Equating",
        (x.source, y.source, base_source),
        {
            "design": args.design,
            "method": args.method,
            "anchor": args.anchor if neat else None,
            "w1": json_value(
                (args.w1 if args.w1 is not None else n_x / (n_x + n_y))
                if args.method in _WEIGHTED else None
            ),
            "presmooth": args.presmooth,
            "postsmooth": args.postsmooth,
            "x_max": kx,
            "y_max": ky,
            "anchor_max": int(x.counts.shape[1] - 1) if neat else None,
            "n_x": int(n_x),
            "n_y": int(n_y),
            "slope": linear_fn.slope if linear_fn is not None else None,
            "intercept": linear_fn.intercept if linear_fn is not None else None,
            "moments": {
                which: {name: json_value(v) for name, v in m.items()}
                for which, m in moments.items()
            },
            "scores": list(range(kx + 1)),
            "equated": json_list(equated),
            "se": json_list(se) if se is not None else None,
            "standard_errors": se_doc,
        },
    )))
    if table is not None:
        plan.add("conversion.json", table.to_json() + "\n")
        plan.add("conversion.csv", csv_columns(*conversion_columns(table)))
    summary = (
        f"slope {linear_fn.slope:.4f}, intercept {linear_fn.intercept:.4f}"
        if linear_fn is not None else
        f"equated mean {moments['equated']['mean']:.4f}, SD {moments['equated']['sd']:.4f}"
    )
    plan.message = f"{args.design} {args.method}: {summary}"
    return plan
