"""``python -m scoring items``: classical item analysis, distractors, flags and DIF.

Writes item_analysis.csv and item_analysis.json: p, point-biserials, alpha if deleted,
distractor analysis for option choices, review flags and, optionally, Mantel-Haenszel
DIF. Pretest items are analysed against the scored total.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

from scoring.cli._outputs import (
    OutputPlan,
    add_output_arguments,
    csv_rows,
    json_document,
    json_text,
    json_value,
    statistic_text,
)
from scoring.cli._problems import Problems
from scoring.cli._progress import Progress
from scoring.cli._responses import add_response_arguments, read_items_and_responses
from scoring.item_analysis import (
    DistractorAnalysis,
    ItemStatistics,
    MantelHaenszelDif,
    distractor_analysis,
    flags,
    item_statistics,
    mantel_haenszel,
)

__all__ = ["N_STEPS", "add_parser", "run"]

N_STEPS: Final = 6
"""Steps shown by the progress display."""

# The per-item Mantel-Haenszel results written, in this order, before the category.
_DIF_FIELDS: Final = ("alpha_mh", "d_dif", "se_d_dif", "chi_square", "p_value")


def add_parser(subparsers: Any) -> None:
    """Add the ``items`` command to the subparsers of ``python -m scoring``."""
    items = subparsers.add_parser(
        "items", help="item analysis: p, point-biserials, distractors, flags, DIF",
        description="Classical item analysis of every item (pretest items against the "
        "scored total), distractor analysis for option choices, review flags and optional "
        "Mantel-Haenszel DIF.",
    )
    add_response_arguments(items, items_required=False)
    items.add_argument("--group-column", metavar="NAME", help="DIF: group column of the responses")
    items.add_argument("--reference", metavar="LABEL", help="DIF: reference group label")
    items.add_argument("--focal", metavar="LABEL", help="DIF: focal group label")
    items.add_argument("--purify", action="store_true", help="DIF: two-stage purification")
    items.add_argument("--dif-alpha", type=float, default=0.05,
                       help="DIF: significance level of the ETS rules (default 0.05)")
    items.add_argument("--too-hard", type=float, default=0.30, metavar="P",
                       help="flag p below this (default 0.30)")
    items.add_argument("--too-easy", type=float, default=0.95, metavar="P",
                       help="flag p above this (default 0.95)")
    items.add_argument("--low-r", type=float, default=0.15, metavar="R",
                       help="flag a corrected point-biserial below this (default 0.15)")
    items.add_argument("--distractor-r", type=float, default=0.0, metavar="R",
                       help="flag a distractor whose option-rest correlation exceeds this "
                       "(default 0)")
    add_output_arguments(items)
    items.set_defaults(handler=run, n_steps=N_STEPS)


def _check_options(args: argparse.Namespace, problems: Problems) -> None:
    dif_options = (args.group_column, args.reference, args.focal)
    if any(v is not None for v in dif_options) and not all(v is not None for v in dif_options):
        problems.option(
            "--group-column", "DIF needs all three of --group-column, --reference and --focal"
        )
    if args.reference is not None and args.reference == args.focal:
        problems.option("--focal", "must differ from --reference")
    if not 0 < args.dif_alpha < 1:
        problems.option("--dif-alpha", f"must lie in (0, 1), got {args.dif_alpha}")
    for option, value in (
        ("--too-hard", args.too_hard), ("--too-easy", args.too_easy),
        ("--low-r", args.low_r), ("--distractor-r", args.distractor_r),
    ):
        if not math.isfinite(value):
            problems.option(option, "must be a finite number")
    if args.too_hard > args.too_easy:
        problems.option("--too-hard", f"must not exceed --too-easy ({args.too_easy})")


# ---------------------------------------------------------------------------
# Every item, pretest items included
# ---------------------------------------------------------------------------

_Result = TypeVar("_Result")


def _every_item(
    analyse: Callable[[npt.NDArray[Any], int | None], _Result],
    columns: npt.NDArray[Any],
    scored: npt.NDArray[np.bool_],
    names: Sequence[str],
    progress: Progress,
) -> tuple[_Result, dict[str, npt.NDArray[Any]]]:
    """Analyse the scored items, then each pretest item with them.

    A pretest item is analysed against the operational total (the scored items plus
    itself), so that pretest items do not change each other's statistics: one library
    call per pretest item j, ``analyse(scored columns + column j, j)``, after
    ``analyse(scored columns, None)``.

    Returns the result on the scored items, and its arrays `names` for every item:
    a scored item's row from that result, a pretest item's the last row of its own
    (with the library's dtypes).
    """
    scored_columns = columns[:, scored]
    base = analyse(scored_columns, None)
    merged: dict[str, npt.NDArray[Any]] = {}
    for name in names:
        values = np.asarray(getattr(base, name))
        merged[name] = np.empty((scored.size, *values.shape[1:]), dtype=values.dtype)
        merged[name][scored] = values
    pretest = np.flatnonzero(~scored)
    n, n_scored = scored_columns.shape
    augmented = np.empty((n, n_scored + 1), dtype=columns.dtype)
    augmented[:, :n_scored] = scored_columns
    for count, j in enumerate(pretest):
        augmented[:, -1] = columns[:, j]
        one = analyse(augmented, int(j))
        for name in names:
            merged[name][j] = np.asarray(getattr(one, name))[-1]
        progress.update((count + 1) / max(1, pretest.size))
    return base, merged


def _statistics(
    codes: npt.NDArray[np.int8], scored: npt.NDArray[np.bool_], progress: Progress
) -> ItemStatistics:
    """`item_statistics` of every item; alpha if deleted only for the scored items."""
    base, merged = _every_item(
        lambda responses, _: item_statistics(responses), codes, scored,
        ("p", "point_biserial", "corrected_point_biserial", "omitted"), progress,
    )
    alpha_if_deleted = np.full(scored.size, np.nan)
    alpha_if_deleted[scored] = base.alpha_if_deleted
    return ItemStatistics(
        **merged, alpha_if_deleted=alpha_if_deleted, alpha=base.alpha,
        n_candidates=codes.shape[0],
    )


def _distractors(
    choices: npt.NDArray[np.str_],
    keys: Sequence[frozenset[str]],
    options: tuple[str, ...],
    scored: npt.NDArray[np.bool_],
    progress: Progress,
) -> DistractorAnalysis:
    """`distractor_analysis` of every item."""
    scored_keys = [key for key, s in zip(keys, scored, strict=True) if s]

    def analyse(columns: npt.NDArray[np.str_], j: int | None) -> DistractorAnalysis:
        return distractor_analysis(
            columns, scored_keys if j is None else [*scored_keys, keys[j]], options
        )

    _, merged = _every_item(
        analyse, choices, scored,
        ("is_key", "proportion", "mean_total", "option_rest_correlation", "omitted", "p"),
        progress,
    )
    return DistractorAnalysis(options=options, **merged, n_candidates=choices.shape[0])


def _dif(
    args: argparse.Namespace,
    codes: npt.NDArray[np.int8],
    group: npt.NDArray[np.str_],
    scored: npt.NDArray[np.bool_],
    progress: Progress,
) -> tuple[MantelHaenszelDif, dict[str, npt.NDArray[Any]]]:
    """Mantel-Haenszel DIF on the scored items, and its arrays for every item."""
    def analyse(responses: npt.NDArray[np.int8], _: int | None) -> MantelHaenszelDif:
        return mantel_haenszel(
            responses, group, reference=args.reference, focal=args.focal,
            purify=args.purify, alpha=args.dif_alpha,
        )

    return _every_item(analyse, codes, scored, (*_DIF_FIELDS, "signed_category"), progress)


def run(args: argparse.Namespace, progress: Progress) -> OutputPlan:
    """Read and check the inputs, analyse every item, and plan the output files."""
    problems = Problems()
    plan = OutputPlan.from_arguments(args, ["item_analysis.csv", "item_analysis.json"], problems)
    _check_options(args, problems)
    items, responses = read_items_and_responses(
        args, problems, progress, group_column=args.group_column
    )
    n, k = responses.codes.shape
    scored = items.scored if items is not None else np.ones(k, dtype=bool)
    n_scored = int(scored.sum())
    where = items.path if items is not None else responses.path
    if n_scored < 2:
        problems.add(
            where, 0, "scored",
            f"item analysis needs at least 2 scored items (the total score), found {n_scored}",
        )
    if n < 2:
        problems.add(responses.path, 0, "file", "item analysis needs at least 2 candidates")
    dif = args.group_column is not None and args.reference is not None and args.focal is not None
    if dif and responses.group is not None:
        for option, label in (("--reference", args.reference), ("--focal", args.focal)):
            if not np.any(responses.group == label):
                problems.add(
                    responses.path, 1, args.group_column,
                    f"no candidate in group {label!r} ({option})",
                )
    problems.raise_if_any()

    progress.step("item statistics")
    codes = responses.codes
    statistics = _statistics(codes, scored, progress)

    distractors: DistractorAnalysis | None = None
    options: tuple[str, ...] = ()
    if responses.choices is not None and items is not None:
        progress.step("distractor analysis")
        options = tuple(dict.fromkeys(o for item in items.items for o in item.options))
        distractors = _distractors(responses.choices, items.keys, options, scored, progress)

    item_flags = flags(
        statistics, distractors, too_hard_p=args.too_hard, too_easy_p=args.too_easy,
        low_discrimination_r=args.low_r, distractor_r=args.distractor_r,
    )
    reasons = item_flags.reasons()

    dif_rows: dict[str, npt.NDArray[Any]] | None = None
    dif_doc: dict[str, Any] | None = None
    if dif:
        progress.step("Mantel-Haenszel DIF")
        assert responses.group is not None
        base_m, dif_rows = _dif(args, codes, responses.group, scored, progress)
        dif_doc = {
            "group_column": args.group_column,
            "reference": args.reference,
            "focal": args.focal,
            "n_reference": base_m.n_reference,
            "n_focal": base_m.n_focal,
            "purify": bool(args.purify),
            "alpha": args.dif_alpha,
        }

    progress.step("writing")
    meta = items.items if items is not None else None
    header = [
        "item_id", "domain", "scored", "key", "p", "omitted", "point_biserial",
        "corrected_point_biserial", "alpha_if_deleted", "flags",
    ]
    for o in options:
        header += [f"option_proportion:{o}", f"option_mean_total:{o}", f"option_rest_r:{o}"]
    if dif_rows is not None:
        header += [
            "mh_alpha", "mh_d_dif", "mh_se_d_dif", "mh_chi_square", "mh_p_value", "ets_category"
        ]
    p, omitted = statistics.p, statistics.omitted
    pb, cpb = statistics.point_biserial, statistics.corrected_point_biserial
    alpha_del = statistics.alpha_if_deleted
    rows = []
    item_docs = []
    for j, item_id in enumerate(responses.item_ids):
        domain = meta[j].domain if meta is not None else "all"
        key = "|".join(meta[j].key or ()) if meta is not None and meta[j].key else ""
        row: list[Any] = [
            item_id, domain, "scored" if scored[j] else "pretest", key, p[j], omitted[j],
            pb[j], cpb[j], alpha_del[j], ";".join(reasons[j]),
        ]
        doc: dict[str, Any] = {
            "item_id": item_id,
            "domain": domain,
            "scored": bool(scored[j]),
            "key": list(meta[j].key) if meta is not None and meta[j].key else None,
            "p": json_value(p[j]),
            "omitted": json_value(omitted[j]),
            "point_biserial": json_value(pb[j]),
            "corrected_point_biserial": json_value(cpb[j]),
            "alpha_if_deleted": json_value(alpha_del[j]),
            "flags": list(reasons[j]),
        }
        if distractors is not None:
            doc["options"] = []
            for o_index, o in enumerate(options):
                row += [
                    distractors.proportion[j, o_index], distractors.mean_total[j, o_index],
                    distractors.option_rest_correlation[j, o_index],
                ]
                doc["options"].append({
                    "label": o,
                    "key": bool(distractors.is_key[j, o_index]),
                    "proportion": json_value(distractors.proportion[j, o_index]),
                    "mean_total": json_value(distractors.mean_total[j, o_index]),
                    "rest_correlation": json_value(
                        distractors.option_rest_correlation[j, o_index]
                    ),
                })
        if dif_rows is not None:
            values = [dif_rows[name][j] for name in _DIF_FIELDS]
            category = str(dif_rows["signed_category"][j])
            row += [*values, category]
            doc["dif"] = {
                "alpha_mh": json_value(values[0]), "d_dif": json_value(values[1]),
                "se_d_dif": json_value(values[2]), "chi_square": json_value(values[3]),
                "p_value": json_value(values[4]), "ets_category": category,
            }
        rows.append(row)
        item_docs.append(doc)
    plan.add("item_analysis.csv", csv_rows(header, rows))
    plan.add("item_analysis.json", json_text(json_document(
        "ItemAnalysis",
        (responses.source, items.source if items is not None else None),
        {
            "n_candidates": n,
            "n_items": k,
            "n_scored_items": n_scored,
            "alpha": json_value(statistics.alpha),
            "thresholds": {
                "too_hard_p": args.too_hard, "too_easy_p": args.too_easy,
                "low_discrimination_r": args.low_r, "distractor_r": args.distractor_r,
            },
            "dif": dif_doc,
            "items": item_docs,
        },
    )))
    plan.message = (
        f"{n} candidates, {k} items ({n_scored} scored): "
        f"alpha {statistic_text(json_value(statistics.alpha))}, "
        f"{int(item_flags.flagged.sum())} items flagged"
    )
    return plan
