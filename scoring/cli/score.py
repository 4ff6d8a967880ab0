"""``python -m scoring score``: raw, domain and scaled scores, pass/fail, percentile ranks.

Writes scores.csv and scores.json (one record per candidate), the raw-to-scale
conversion table (conversion.json, conversion.csv) and summary.json (N, mean, SD,
KR-20, SEM, pass rate, norm group).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from scoring import irt
from scoring.cli._csv import open_csv
from scoring.cli._item_metadata import ItemTable
from scoring.cli._outputs import (
    OutputPlan,
    add_output_arguments,
    conversion_columns,
    csv_columns,
    json_document,
    json_text,
    json_value,
    pass_fail,
    statistic_text,
)
from scoring.cli._problems import Problems
from scoring.cli._progress import Progress
from scoring.cli._responses import add_response_arguments, read_items_and_responses
from scoring.cli._sources import SourceFile, read_conversion
from scoring.domains import DomainReport, domain_report
from scoring.percentiles import NormGroupRanks, norm_group_ranks
from scoring.raw import RawScores, raw_scores
from scoring.reliability import binomial_csem, kr20, kr21, sem
from scoring.scaling import ConversionTable, ScaleSpec, linear_conversion, rasch_conversion

__all__ = ["N_STEPS", "add_parser", "run"]

FloatArray = npt.NDArray[np.float64]

N_STEPS: Final = 4
"""Steps shown by the progress display."""

OUTPUT_NAMES: Final = (
    "scores.csv", "scores.json", "conversion.json", "conversion.csv", "summary.json"
)


def add_parser(subparsers: Any) -> None:
    """Add the ``score`` command to the subparsers of ``python -m scoring``."""
    score = subparsers.add_parser(
        "score", help="raw, percent, domain, scaled scores, pass/fail and percentile ranks",
        description="Score every candidate: raw and percent scores, domain scores and "
        "bands, scaled scores, pass/fail and percentile ranks, with the conversion table.",
    )
    add_response_arguments(score, items_required=True)
    cut = score.add_argument_group("conversion to the reporting scale (give exactly one)")
    cut.add_argument("--cut-raw", type=float, metavar="X",
                     help="raw cut score (may be fractional): linear conversion")
    cut.add_argument("--cut-theta", type=float, metavar="THETA",
                     help="cut on the Rasch ability scale: conversion from the banked "
                     "difficulties (difficulty column)")
    cut.add_argument("--conversion", metavar="JSON",
                     help="an existing conversion table (e.g. from `equate --base-conversion`)")
    scale = score.add_argument_group("reporting scale (with --cut-raw or --cut-theta)")
    scale.add_argument("--scale-min", type=float, metavar="S", help="lowest score, e.g. 200")
    scale.add_argument("--scale-max", type=float, metavar="S", help="highest score, e.g. 800")
    scale.add_argument("--passing", type=float, metavar="S", help="passing score, e.g. 500")
    scale.add_argument("--increment", type=float, default=1.0, metavar="H",
                       help="rounding increment of reported scores (default 1)")
    score.add_argument("--form", default=None, help="form code stored in the table's metadata")
    score.add_argument("--table-version", default="1", metavar="V",
                       help="version identifier of the conversion table (default 1)")
    score.add_argument("--norm-freq", metavar="CSV",
                       help="norm group score,count table for percentile ranks (default: "
                       "the candidates in this file)")
    score.add_argument("--norm-definition", metavar="TEXT",
                       help="description of the norm group, reported with the ranks")
    score.add_argument("--band-z", type=float, default=1.0, metavar="Z",
                       help="half-width of the 'near' domain band in CSEMs (default 1)")
    score.add_argument("--min-domain-items", type=int, default=5, metavar="N",
                       help="domains with fewer scored items get no band (default 5)")
    add_output_arguments(score)
    score.set_defaults(handler=run, n_steps=N_STEPS)


# ---------------------------------------------------------------------------
# Options and inputs
# ---------------------------------------------------------------------------


def _scale_options(args: argparse.Namespace) -> list[tuple[str, float | None]]:
    return [
        ("--scale-min", args.scale_min), ("--scale-max", args.scale_max),
        ("--passing", args.passing),
    ]


def _scale_from_options(args: argparse.Namespace, problems: Problems) -> ScaleSpec | None:
    missing = [option for option, value in _scale_options(args) if value is None]
    for option in missing:
        problems.option(option, "required with --cut-raw or --cut-theta (the reporting scale)")
    if missing:
        return None
    try:
        return ScaleSpec(args.scale_min, args.scale_max, args.passing, args.increment)
    except ValueError as exc:
        text = str(exc)
        option = "--increment"
        for name, flag in (
            ("ScaleSpec.passing", "--passing"),
            ("ScaleSpec.maximum", "--scale-max"),
            ("ScaleSpec.minimum", "--scale-min"),
        ):
            if text.startswith(name):
                option = flag
                break
        problems.option(option, text)
        return None


def _check_options(args: argparse.Namespace, problems: Problems) -> ScaleSpec | None:
    """Check the options on their own; the reporting scale of --cut-raw or --cut-theta."""
    ways = [w for w in (args.cut_raw, args.cut_theta, args.conversion) if w is not None]
    if len(ways) != 1:
        problems.option(
            "--cut-raw",
            "give exactly one of --cut-raw (linear conversion), --cut-theta (Rasch "
            "conversion from banked difficulties) or --conversion (an existing table)",
        )
    scale = None
    if args.conversion is None and len(ways) == 1:
        scale = _scale_from_options(args, problems)
    elif args.conversion is not None:
        for option, value in _scale_options(args):
            if value is not None:
                problems.option(option, "not used with --conversion (the table has its scale)")
    if args.band_z < 0 or not math.isfinite(args.band_z):
        problems.option("--band-z", f"must be a number >= 0, got {args.band_z}")
    if args.min_domain_items < 2:
        problems.option("--min-domain-items", f"must be at least 2, got {args.min_domain_items}")
    if args.norm_definition is not None and not args.norm_definition.strip():
        problems.option("--norm-definition", "must not be empty")
    return scale


def _check_cut(
    args: argparse.Namespace,
    items: ItemTable,
    n_scored: int,
    base_table: ConversionTable | None,
    problems: Problems,
) -> None:
    """Check the cut (or the given table) against the scored items."""
    if args.cut_raw is not None and not (0 < args.cut_raw <= n_scored):
        problems.option(
            "--cut-raw", f"must lie in (0, {n_scored}] (the number of scored items), "
            f"got {args.cut_raw:g}",
        )
    if args.cut_theta is not None:
        if not math.isfinite(args.cut_theta):
            problems.option("--cut-theta", "must be a finite number")
        if not items.has_difficulty:
            problems.add(
                items.path, 1, "difficulty",
                "missing column: --cut-theta needs the banked Rasch difficulty of every "
                "scored item",
            )
        else:
            for item in items.items:
                if item.scored and item.difficulty is None:
                    problems.add(
                        items.path, item.line, "difficulty",
                        f"scored item {item.item_id!r} has no banked difficulty "
                        "(needed by --cut-theta)",
                    )
    if base_table is not None:
        if base_table.n_items != n_scored:
            problems.add(
                args.conversion, 0, "raw",
                f"the table covers raw scores 0..{base_table.n_items} but {items.path} "
                f"has {n_scored} scored items",
            )
        elif base_table.cut_raw <= 0:
            problems.add(
                args.conversion, 0, "cut_raw",
                "the raw cut is 0 (everyone passes); domain bands need a positive cut",
            )


def _read_norm_freq(
    path: str, n_scored: int, definition: str | None, problems: Problems
) -> tuple[SourceFile | None, NormGroupRanks | None]:
    """A norm group given as a score,count table of raw scores 0..n_scored."""
    before = problems.total
    table = open_csv(path, problems)
    if table is None:
        return None, None
    header_line, names = table.header_line, table.names
    if "score" not in names or "count" not in names:
        for name in ("score", "count"):
            if name not in names:
                problems.add(path, header_line, name, "missing column (score,count)")
        return table.source, None
    i_score, i_count = names.index("score"), names.index("count")
    counts = np.zeros(n_scored + 1, dtype=np.int64)
    seen: dict[int, int] = {}
    for line, row in table.rows(problems):
        score_text, count_text = row[i_score].strip(), row[i_count].strip()
        if not score_text.isdigit() or int(score_text) > n_scored:
            problems.add(
                path, line, "score",
                f"{score_text!r} is not a raw score 0..{n_scored} (the number of scored items)",
            )
            continue
        if not count_text.isdigit():
            problems.add(path, line, "count", f"{count_text!r} is not a non-negative integer")
            continue
        score = int(score_text)
        if score in seen:
            problems.add(
                path, line, "score", f"score {score} repeated (first on line {seen[score]})"
            )
            continue
        seen[score] = line
        counts[score] = int(count_text)
    if problems.total > before:
        return table.source, None
    if counts.sum() == 0:
        problems.add(path, 0, "count", "the norm group has no candidates (all counts are 0)")
        return table.source, None
    norm = norm_group_ranks(counts, definition or f"norm group of {path}", kind="freq")
    return table.source, norm


# ---------------------------------------------------------------------------
# Reliability and the conversion table
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reliability:
    """KR-20, KR-21 and SEM of the scored items; None with a note when not computable."""

    kr20: float | None
    kr21: float | None
    sem: float | None
    note: str | None


def _reliability(operational: npt.NDArray[np.int8]) -> _Reliability:
    values: list[float | None] = []
    note = None
    try:
        for statistic in (kr20, kr21, sem):
            values.append(statistic(operational))
    except ValueError as exc:
        note = f"not computed: {exc}"
    values += [None] * (3 - len(values))
    return _Reliability(*values, note=note)


def _binomial_csem(n_items: int, reliability: _Reliability) -> FloatArray | None:
    """Lord's binomial CSEM with Keats' adjustment when the reliabilities are known."""
    if n_items < 2:
        return None
    kr20_value, kr21_value = reliability.kr20, reliability.kr21
    if kr20_value is not None and kr21_value is not None and kr21_value < 1 and kr20_value <= 1:
        try:
            return binomial_csem(n_items, reliability=kr20_value, kr21=kr21_value)
        except ValueError:
            pass
    return binomial_csem(n_items)


def _with_csem(table: ConversionTable, csem: FloatArray, span: float) -> ConversionTable:
    """`table` with a CSEM given in units of which the table's range covers `span`."""
    slope = float(table.unrounded[-1] - table.unrounded[0]) / span
    return dataclasses.replace(table, csem=csem * slope)


def _conversion_table(
    args: argparse.Namespace,
    scale: ScaleSpec | None,
    items: ItemTable,
    n_scored: int,
    reliability: _Reliability,
    problems: Problems,
) -> tuple[ConversionTable, FloatArray | None, FloatArray | None]:
    """The linear (--cut-raw) or Rasch (--cut-theta) table; with Rasch, theta and its SE."""
    metadata: dict[str, Any] = {
        "form": args.form,
        "items_file": items.path,
        "n_scored_items": n_scored,
    }
    assert scale is not None
    if args.cut_raw is not None:
        csem_raw = _binomial_csem(n_scored, reliability)
        table = linear_conversion(
            n_scored, args.cut_raw, scale, version=args.table_version, metadata=metadata
        )
        if csem_raw is not None:
            table = _with_csem(table, csem_raw, n_scored)
        return table, None, None
    assert args.cut_theta is not None
    difficulty = np.array([item.difficulty for item in items.items if item.scored], dtype=float)
    try:
        pre = irt.pre_equate({"b": difficulty}, theta_cut=args.cut_theta, D=1.0)
        theta, theta_se = np.asarray(pre.theta), np.asarray(pre.se)
        table = rasch_conversion(
            theta, args.cut_theta, scale, version=args.table_version, metadata=metadata,
        )
    except ValueError as exc:
        problems.fail_option("--cut-theta", str(exc))
    table = _with_csem(table, theta_se, float(theta[-1] - theta[0]))
    if table.cut_raw <= 0:
        problems.fail_option(
            "--cut-theta",
            f"{args.cut_theta:g} is at or below the ability of a zero score "
            f"({theta[0]:.4g}): everyone would pass",
        )
    return table, theta, theta_se


# ---------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Scores:
    """Every candidate's results, in the order of the responses file."""

    candidate_ids: npt.NDArray[np.str_]
    raw: RawScores
    percent: FloatArray
    scaled: FloatArray
    passed: npt.NDArray[np.bool_]
    ranks: FloatArray
    theta: FloatArray | None
    domains: DomainReport


def _summary_stats(values: npt.ArrayLike) -> dict[str, Any]:
    x = np.asarray(values, dtype=np.float64)
    return {
        "mean": json_value(x.mean()),
        "sd": json_value(x.std(ddof=1)) if x.size > 1 else None,
        "min": json_value(x.min()),
        "max": json_value(x.max()),
    }


def _scores_csv(scores: _Scores) -> str:
    header = [
        "candidate_id", "raw", "percent", "wrong", "omitted", "scaled", "result",
        "percentile_rank",
    ]
    columns: list[npt.NDArray[Any]] = [
        scores.candidate_ids, scores.raw.total, scores.percent, scores.raw.wrong,
        scores.raw.omitted, scores.scaled, pass_fail(scores.passed), scores.ranks,
    ]
    if scores.theta is not None:
        header.append("theta")
        columns.append(scores.theta)
    report = scores.domains
    for d, label in enumerate(report.domain_labels):
        header += [f"domain_raw:{label}", f"domain_percent:{label}", f"domain_band:{label}"]
        columns += [report.raw[:, d], report.percent[:, d], report.band[:, d]]
    return csv_columns(header, columns)


def _candidate_records(scores: _Scores) -> Iterator[dict[str, Any]]:
    """One JSON record per candidate; a generator, so only one record exists at a time."""
    # Plain Python lists first: indexing numpy arrays element by element is slow.
    fields = {
        "candidate_id": scores.candidate_ids.tolist(),
        "raw": scores.raw.total.tolist(),
        "percent": scores.percent.tolist(),
        "wrong": scores.raw.wrong.tolist(),
        "omitted": scores.raw.omitted.tolist(),
        "scaled": scores.scaled.tolist(),
        "passed": scores.passed.tolist(),
        "percentile_rank": scores.ranks.tolist(),
    }
    if scores.theta is not None:
        fields["theta"] = scores.theta.tolist()
    names = list(fields)
    report = scores.domains
    domain_columns = [
        (label, report.raw[:, d].tolist(), report.percent[:, d].tolist(),
         report.band[:, d].tolist())
        for d, label in enumerate(report.domain_labels)
    ]
    for i, values in enumerate(zip(*fields.values(), strict=True)):
        entry: dict[str, Any] = dict(zip(names, values, strict=True))
        entry["domains"] = [
            {"domain": label, "raw": d_raw[i], "percent": d_percent[i], "band": d_band[i]}
            for label, d_raw, d_percent, d_band in domain_columns
        ]
        yield entry


def _domain_bands(report: DomainReport) -> dict[str, Any]:
    return {
        "cut_proportion": report.cut_proportion,
        "z": report.z,
        "min_items": report.min_items,
        "domains": [
            {
                "domain": label,
                "n_items": int(report.n_items[d]),
                "reported": bool(report.reported[d]),
                "cut_raw": json_value(report.cut_raw[d]),
                "csem_at_cut": json_value(report.csem_at_cut[d]),
                "near_low_percent": json_value(report.near_low[d]),
                "near_high_percent": json_value(report.near_high[d]),
            }
            for d, label in enumerate(report.domain_labels)
        ],
    }


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------


def run(args: argparse.Namespace, progress: Progress) -> OutputPlan:
    """Read and check the inputs, score every candidate, and plan the output files."""
    problems = Problems()
    plan = OutputPlan.from_arguments(args, OUTPUT_NAMES, problems)
    scale = _check_options(args, problems)
    table_source: SourceFile | None = None
    base_table: ConversionTable | None = None
    if args.conversion is not None:
        table_source, base_table = read_conversion(args.conversion, problems)

    items, responses = read_items_and_responses(args, problems, progress)
    assert items is not None  # --items is required for score
    scored = items.scored
    n_scored = int(scored.sum())
    if n_scored == 0:
        problems.fail(
            items.path, 0, "scored",
            "every item is marked pretest; at least one item must be scored",
        )
    _check_cut(args, items, n_scored, base_table, problems)
    norm_source: SourceFile | None = None
    norm: NormGroupRanks | None = None
    if args.norm_freq is not None:
        norm_source, norm = _read_norm_freq(
            args.norm_freq, n_scored, args.norm_definition, problems
        )
    problems.raise_if_any()

    progress.step("scoring")
    codes = responses.codes
    domains = [item.domain for item in items.items]
    raw = raw_scores(codes, scored=scored, domains=domains)
    total = raw.total
    n = responses.n_candidates
    reliability = _reliability(codes[:, scored])
    progress.update(0.3)

    theta_table: FloatArray | None = None
    theta_se: FloatArray | None = None
    if base_table is not None:
        table = base_table
    else:
        table, theta_table, theta_se = _conversion_table(
            args, scale, items, n_scored, reliability, problems
        )
    progress.update(0.5)

    scaled = table.lookup(total)
    passed = table.passed(total)
    if norm is None:
        norm = norm_group_ranks(
            total,
            args.norm_definition or f"all {n} candidates in {responses.path}",
            kind="scores",
            max_score=n_scored,
        )
    scores = _Scores(
        candidate_ids=responses.candidate_ids,
        raw=raw,
        percent=100.0 * total / n_scored,
        scaled=scaled,
        passed=passed,
        ranks=norm.rank_of(total),
        theta=theta_table[total] if theta_table is not None else None,
        domains=domain_report(
            codes,
            domains,
            cut_proportion=table.cut_raw / n_scored,
            z=args.band_z,
            min_items=args.min_domain_items,
            scored=scored,
        ),
    )
    progress.update(0.8)

    summary = {
        "n_candidates": n,
        "n_items": len(items.items),
        "n_scored_items": n_scored,
        "n_pretest_items": len(items.items) - n_scored,
        "raw": _summary_stats(total),
        "scaled": _summary_stats(scaled),
        "kr20": json_value(reliability.kr20),
        "sem": json_value(reliability.sem),
        "reliability_note": reliability.note,
        "cut_raw": json_value(table.cut_raw),
        "passing_raw": table.passing_raw,
        "passing_scaled": json_value(table.scale.passing),
        "n_passed": int(passed.sum()),
        "pass_rate": json_value(passed.mean()),
        "norm_group": {"definition": norm.definition, "n": norm.n},
    }

    progress.step("writing")
    plan.add("scores.csv", _scores_csv(scores))
    inputs = (responses.source, items.source, table_source, norm_source)
    conversion = {
        "version": table.version,
        "method": table.method,
        "file": "conversion.json",
        "scale": table.scale.to_dict(),
    }
    plan.add("summary.json", json_text(json_document(
        "ScoreSummary", inputs, {"conversion": conversion, **summary}
    )))
    plan.add("scores.json", json_text(json_document("Scores", inputs, {
        "conversion": conversion,
        "summary": summary,
        "domain_bands": _domain_bands(scores.domains),
        "candidates": _candidate_records(scores),
    }), one_per_line="candidates"))
    plan.add("conversion.json", table.to_json() + "\n")
    header, columns = conversion_columns(table)
    header += ["csem", "frequency", "percentile_rank"]
    columns += [
        table.csem if table.csem is not None else np.full(n_scored + 1, np.nan),
        np.bincount(total, minlength=n_scored + 1), norm.ranks,
    ]
    if theta_table is not None and theta_se is not None:
        header += ["theta", "theta_se"]
        columns += [theta_table, theta_se]
    plan.add("conversion.csv", csv_columns(header, columns))
    plan.message = (
        f"{n} candidates, {n_scored} scored items: raw mean {total.mean():.4g}, "
        f"KR-20 {statistic_text(reliability.kr20)}, SEM {statistic_text(reliability.sem)}, "
        f"{int(passed.sum())} passed ({100 * passed.mean():.1f}%)"
    )
    return plan
