"""``make bench-scoring``: the psychometric engine (``scoring/``) at production size.

Data (generated first, not timed): seeded Rasch responses, by default 100,000 candidates x
180 items (170 scored, 10 pretest items, 6 content domains), difficulties and abilities
drawn from N(0, 1), and 2 % of the responses replaced by "not answered" (-1) completely at
random. The IRT fits use the first 10,000 candidates *before* the omissions were applied
(complete data, so that every method, ours and girth's, fits exactly the same matrix and
CML needs a single set of elementary symmetric functions).

Figures, each with its target and PASS/FAIL:

* raw + domain + scaled + percentile scoring of all candidates in at most 2 s:
  ``scoring.raw.raw_scores`` (scored mask and domains), ``ConversionTable.lookup`` of a
  linear 200-800 table (passing 500), and ``scoring.percentiles.percentile_ranks`` of the
  cohort's own score distribution looked up for every candidate. Median of ``--repeat``
  runs;
* item analysis of the same matrix (``scoring.item_analysis.item_statistics``) in at most
  5 s (median of ``--repeat`` runs);
* Rasch CML and MML (``scoring.irt.fit_rasch``) on 10,000 x 180 in at most 30 s each
  (one run each);
* peak memory of the process (``resource.getrusage(...).ru_maxrss``) under 2 GB, measured
  after the scoring stages and again at the end (girth runs in the same process);
* girth (PyPI, ``pip install '.[bench]'``) on the same 10,000 x 180 data: ``rasch_mml``
  against our MML and ``rasch_conditional`` against our CML (``rasch_jml`` too with
  ``--methods cml,mml,jml``): time ratio, and agreement of the difficulties (Pearson
  correlation, RMSE after centring both) and their recovery of the generating values.

A module that does not exist yet is reported as "not available yet" and the rest still
runs. The exit status is 0 only when every figure was measured and passed.

Usage::

    python -m bench.scoring
    python -m bench.scoring --candidates 20000 --repeat 1 --no-girth   # a quick look
    python -m bench.scoring --methods cml,mml,jml
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import resource
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

TARGET_SCORING_S = 2.0  # raw + domain + scaled + percentile, 100,000 x 180
TARGET_ITEM_ANALYSIS_S = 5.0
TARGET_RASCH_S = 30.0  # each of CML and MML on 10,000 x 180
TARGET_PEAK_MB = 2048.0
N_DOMAINS = 6
N_PRETEST = 10
GIRTH_FUNCTIONS = {"cml": "rasch_conditional", "mml": "rasch_mml", "jml": "rasch_jml"}


@dataclass
class Figure:
    """One printed figure: its value, its target and whether it was met."""

    name: str
    value: float | None  # None: not measured (module missing or failed)
    unit: str
    target: float | None
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.value is None:
            return None
        if self.target is None:
            return True
        return self.value <= self.target if self.unit == "s" else self.value < self.target

    def line(self) -> str:
        value = "-" if self.value is None else f"{self.value:.3f}" if self.unit == "s" else \
            f"{self.value:.0f}"
        target = "" if self.target is None else (
            f"<= {self.target:g} s" if self.unit == "s" else f"< {self.target:g} {self.unit}")
        status = {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]
        if self.target is None and self.value is not None:
            status = ""
        unit = self.unit if self.value is not None else ""
        return f"  {self.name:<46} {value:>9} {unit:<3} {target:<12} {status:<5} {self.note}"


def optional(*modules: str, name: str) -> tuple[Callable[..., Any] | None, str]:
    """``name`` from the first of `modules` that has it, or None and why not (another
    module may still be being written, or not yet re-exported by its package)."""
    why = ""
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name), ""
        except (ImportError, AttributeError) as exc:
            why = why or f"not available yet ({type(exc).__name__}: {exc})"
    return None, why


def peak_mb() -> float:
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of `repeat` calls, and the last result."""
    times = []
    result = None
    for _ in range(max(1, repeat)):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def failure(exc: BaseException) -> str:
    return f"ERROR {type(exc).__name__}: {str(exc).splitlines()[0][:150] if str(exc) else ''}"


# --- data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Data:
    responses: npt.NDArray[np.int8]  # (n_candidates, n_items), with omissions
    complete: npt.NDArray[np.int8]  # (n_irt, n_items), before omissions
    difficulty: npt.NDArray[np.float64]
    scored: npt.NDArray[np.bool_]
    domains: list[str]


def simulate(n_candidates: int, n_items: int, n_irt: int, omit_rate: float, seed: int) -> Data:
    """Rasch responses, generated in blocks so the float work arrays stay small."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.0, 1.0, n_items)
    theta = rng.normal(0.0, 1.0, n_candidates)
    responses = np.empty((n_candidates, n_items), dtype=np.int8)
    block = 10_000
    for start in range(0, n_candidates, block):  # blocks of candidates, not candidates
        stop = min(start + block, n_candidates)
        p = 1.0 / (1.0 + np.exp(-(theta[start:stop, None] - difficulty[None, :])))
        responses[start:stop] = rng.random(p.shape) < p
    complete = responses[:n_irt].copy()
    responses[rng.random((n_candidates, n_items), dtype=np.float32) < omit_rate] = -1
    scored = np.ones(n_items, dtype=bool)
    scored[rng.choice(n_items, size=min(N_PRETEST, n_items - 1), replace=False)] = False
    domains = [f"domain-{j % N_DOMAINS + 1}" for j in range(n_items)]
    return Data(responses, complete, difficulty, scored, domains)


# --- stages -------------------------------------------------------------------------------


def bench_scoring(data: Data, repeat: int) -> list[Figure]:
    """Raw + domain, scaled and percentile scoring of every candidate."""
    figures: list[Figure] = []
    raw_scores, why_raw = optional("scoring.raw", name="raw_scores")
    scaling, why_scaling = optional("scoring.scaling", name="linear_conversion")
    spec, _ = optional("scoring.scaling", name="ScaleSpec")
    percentile_ranks, why_pr = optional("scoring.percentiles", name="percentile_ranks")
    n_scored = int(data.scored.sum())
    parts: list[float | None] = []

    totals = None
    if raw_scores is None:
        figures.append(Figure("raw + domains (raw_scores)", None, "s", None, why_raw))
        parts.append(None)
    else:
        try:
            seconds, result = timed(
                lambda: raw_scores(data.responses, scored=data.scored, domains=data.domains),
                repeat)
            totals = result.total
            figures.append(Figure(
                "raw + domains (raw_scores)", seconds, "s", None,
                f"{len(result.domain_labels)} domains, mean raw {totals.mean():.1f}/{n_scored}"))
            parts.append(seconds)
        except Exception as exc:  # noqa: BLE001 - report and keep going
            figures.append(Figure("raw + domains (raw_scores)", None, "s", None, failure(exc)))
            parts.append(None)

    if scaling is None or spec is None:
        figures.append(Figure("scaled (ConversionTable.lookup)", None, "s", None, why_scaling))
        parts.append(None)
    elif totals is None:
        figures.append(Figure("scaled (ConversionTable.lookup)", None, "s", None,
                              "needs raw scores"))
        parts.append(None)
    else:
        try:
            # Building the table is part of the timed work (it is per form, so tiny).
            def scale_all() -> Any:
                table = scaling(n_scored, round(0.55 * n_scored, 1), spec(200, 800, 500))
                return table, table.lookup(totals)

            seconds, (table, scaled) = timed(scale_all, repeat)
            figures.append(Figure(
                "scaled (ConversionTable.lookup)", seconds, "s", None,
                f"raw cut {table.cut_raw:g} -> 500; {np.mean(scaled >= 500):.1%} pass"))
            parts.append(seconds)
        except Exception as exc:  # noqa: BLE001
            figures.append(Figure("scaled (ConversionTable.lookup)", None, "s", None,
                                  failure(exc)))
            parts.append(None)

    if percentile_ranks is None:
        figures.append(Figure("percentile ranks (percentile_ranks)", None, "s", None, why_pr))
        parts.append(None)
    elif totals is None:
        figures.append(Figure("percentile ranks (percentile_ranks)", None, "s", None,
                              "needs raw scores"))
        parts.append(None)
    else:
        try:
            def rank_all() -> Any:
                # Norm group = this cohort: its frequency distribution, then every
                # candidate's mid-point percentile rank.
                freq = np.bincount(totals, minlength=n_scored + 1)
                return percentile_ranks(freq)[totals]

            seconds, ranks = timed(rank_all, repeat)
            figures.append(Figure("percentile ranks (percentile_ranks)", seconds, "s", None,
                                  f"median PR {np.median(ranks):.1f}"))
            parts.append(seconds)
        except Exception as exc:  # noqa: BLE001
            figures.append(Figure("percentile ranks (percentile_ranks)", None, "s", None,
                                  failure(exc)))
            parts.append(None)

    n, k = data.responses.shape
    name = f"raw+domain+scaled+percentile, {n:,} x {k}"
    if any(part is None for part in parts):
        figures.append(Figure(name, None, "s", TARGET_SCORING_S, "incomplete (see above)"))
    else:
        figures.append(Figure(name, sum(p for p in parts if p is not None), "s",
                              TARGET_SCORING_S, f"median of {repeat}"))
    return figures


def bench_item_analysis(data: Data, repeat: int) -> Figure:
    n, k = data.responses.shape
    name = f"item analysis (item_statistics), {n:,} x {k}"
    item_statistics, why = optional("scoring.item_analysis", name="item_statistics")
    if item_statistics is None:
        return Figure(name, None, "s", TARGET_ITEM_ANALYSIS_S, why)
    matrix: npt.NDArray[np.int8] = data.responses
    note = f"median of {repeat}, omissions as given (-1)"
    try:
        item_statistics(matrix[:50])
    except ValueError:
        # The function wants 0/1 only: score omissions as wrong.
        matrix = (data.responses == 1).astype(np.int8)
        note = f"median of {repeat}, omissions scored 0 (it rejects -1)"
    try:
        seconds, result = timed(lambda: item_statistics(matrix), repeat)
    except Exception as exc:  # noqa: BLE001
        return Figure(name, None, "s", TARGET_ITEM_ANALYSIS_S, failure(exc))
    p = np.asarray(getattr(result, "p", np.nan))
    return Figure(name, seconds, "s", TARGET_ITEM_ANALYSIS_S,
                  f"{note}; p in [{np.nanmin(p):.2f}, {np.nanmax(p):.2f}]")


@dataclass
class Fit:
    method: str
    seconds: float | None
    difficulty: npt.NDArray[np.float64] | None
    note: str


def bench_rasch(data: Data, methods: Sequence[str]) -> tuple[list[Figure], list[Fit]]:
    fit_rasch, why = optional("scoring.irt", "scoring.irt.rasch", name="fit_rasch")
    n, k = data.complete.shape
    figures, fits = [], []
    for method in methods:
        target = TARGET_RASCH_S if method in ("cml", "mml") else None
        name = f"Rasch {method.upper()} (fit_rasch), {n:,} x {k}"
        if fit_rasch is None:
            figures.append(Figure(name, None, "s", target, why))
            fits.append(Fit(method, None, None, why))
            continue
        try:
            began = time.perf_counter()
            result = fit_rasch(data.complete, method=method)
            seconds = time.perf_counter() - began
        except Exception as exc:  # noqa: BLE001
            figures.append(Figure(name, None, "s", target, failure(exc)))
            fits.append(Fit(method, None, None, failure(exc)))
            continue
        b = np.asarray(result.difficulty, dtype=float)
        corr, rmse = agreement(b, data.difficulty)
        converged = getattr(result, "converged", None)
        note = (f"{getattr(result, 'n_iterations', '?')} iterations"
                f"{'' if converged in (True, None) else ', NOT CONVERGED'}; "
                f"vs generating b: r {corr:.4f}, RMSE {rmse:.3f}")
        figures.append(Figure(name, seconds, "s", target, note))
        fits.append(Fit(method, seconds, b, note))
    return figures, fits


def agreement(b1: npt.ArrayLike, b2: npt.ArrayLike) -> tuple[float, float]:
    """Pearson correlation and RMSE after centring each set of difficulties at 0."""
    x = np.asarray(b1, dtype=float)
    y = np.asarray(b2, dtype=float)
    x = x - x.mean()
    y = y - y.mean()
    return float(np.corrcoef(x, y)[0, 1]), float(np.sqrt(np.mean((x - y) ** 2)))


def bench_girth(data: Data, fits: Sequence[Fit]) -> list[str]:
    """girth's Rasch estimators on the same data, against ours."""
    try:
        import girth
    except Exception as exc:  # noqa: BLE001 - ImportError, or a numpy/scipy incompatibility
        return [f"  girth: SKIPPED - cannot import it ({type(exc).__name__}: {exc}); "
                "install it with: .venv/bin/pip install -e '.[dev,bench]'"]
    version = getattr(girth, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as dist_version

            version = dist_version("girth")
        except Exception:  # noqa: BLE001
            version = "?"
    n, k = data.complete.shape
    lines = [f"  girth {version}, same {n:,} x {k} data (girth takes items x candidates):",
             f"  {'method':<32} {'ours s':>8} {'girth s':>8} {'girth/ours':>10} "
             f"{'r(ours,girth)':>13} {'RMSE':>8}  {'girth vs generating b':<24}"]
    for fit in fits:
        fn_name = GIRTH_FUNCTIONS[fit.method]
        label = f"{fit.method.upper()} vs girth.{fn_name}"
        try:
            began = time.perf_counter()
            estimate = getattr(girth, fn_name)(data.complete.T)
            seconds = time.perf_counter() - began
        except Exception as exc:  # noqa: BLE001
            lines.append(f"  {label:<32} girth failed: {failure(exc)}")
            continue
        b = np.asarray(estimate["Difficulty"] if isinstance(estimate, dict) else estimate,
                       dtype=float)
        r_true, rmse_true = agreement(b, data.difficulty)
        vs_true = f"r {r_true:.4f}, RMSE {rmse_true:.3f}"
        if fit.seconds is None or fit.difficulty is None:
            lines.append(f"  {label:<32} {'-':>8} {seconds:8.2f} {'-':>10} {'-':>13} "
                         f"{'-':>8}  {vs_true}   (ours: {fit.note})")
            continue
        r, rmse = agreement(fit.difficulty, b)
        lines.append(f"  {label:<32} {fit.seconds:8.2f} {seconds:8.2f} "
                     f"{seconds / fit.seconds:10.2f} {r:13.6f} {rmse:8.1e}  {vs_true}")
    lines.append("  girth/ours > 1: ours is faster. RMSE: difficulties of both, each centred "
                 "at 0 (CML is centred; MML's origin is the N(0, 1) ability mean).")
    return lines


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.scoring", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--candidates", type=int, default=100_000)
    p.add_argument("--items", type=int, default=180)
    p.add_argument("--irt-candidates", type=int, default=10_000)
    p.add_argument("--omit-rate", type=float, default=0.02)
    p.add_argument("--repeat", type=int, default=3, help="runs of the fast stages (median)")
    p.add_argument("--methods", default="cml,mml",
                   help="Rasch methods to fit and compare with girth (cml, mml, jml)")
    p.add_argument("--no-girth", action="store_true", help="skip the girth comparison")
    p.add_argument("--seed", type=int, default=2026)
    args = p.parse_args(argv)
    args.methods = [m.strip().lower() for m in args.methods.split(",") if m.strip()]
    unknown = set(args.methods) - set(GIRTH_FUNCTIONS)
    if unknown:
        p.error(f"unknown --methods {sorted(unknown)}; choose from cml, mml, jml")
    if args.irt_candidates > args.candidates:
        p.error("--irt-candidates must not exceed --candidates")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import scipy

    print(f"bench-scoring: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}, scipy {scipy.__version__}")
    began = time.perf_counter()
    data = simulate(args.candidates, args.items, args.irt_candidates, args.omit_rate,
                    args.seed)
    omitted = float(np.mean(data.responses == -1))
    print(f"data: {args.candidates:,} candidates x {args.items} items "
          f"({int(data.scored.sum())} scored, {args.items - int(data.scored.sum())} pretest; "
          f"{N_DOMAINS} domains), Rasch, {omitted:.1%} omitted, seed {args.seed} "
          f"[generated in {time.perf_counter() - began:.1f} s, not timed]")
    print(f"IRT data: the first {args.irt_candidates:,} candidates without omissions\n")
    print(f"  {'figure':<46} {'value':>9} {'':<3} {'target':<12} {'':<5} note")

    figures: list[Figure] = []

    def show(new: Sequence[Figure]) -> None:
        for figure in new:
            print(figure.line(), flush=True)
        figures.extend(new)

    try:
        show(bench_scoring(data, args.repeat))
        show([bench_item_analysis(data, args.repeat)])
        scoring_peak = peak_mb()
        rasch_figures, fits = bench_rasch(data, args.methods)
        show(rasch_figures)
        show([Figure("peak memory, scoring + IRT (ru_maxrss)", max(scoring_peak, peak_mb()),
                     "MB", TARGET_PEAK_MB, f"{scoring_peak:.0f} MB after the scoring stages")])
    except Exception:  # noqa: BLE001 - a bug in the benchmark itself
        traceback.print_exc()
        return 2

    if args.no_girth:
        print("\n  girth: skipped (--no-girth)")
    else:
        print()
        for line in bench_girth(data, fits):
            print(line, flush=True)
        print(f"  peak memory at the end, girth included: {peak_mb():.0f} MB")

    missing = [f.name for f in figures if f.passed is None]
    failed = [f.name for f in figures if f.passed is False]
    print(f"\n{sum(f.passed is True and f.target is not None for f in figures)} targets met, "
          f"{len(failed)} failed, {len(missing)} not measured"
          + (f" ({'; '.join(missing)})" if missing else ""))
    return 0 if not failed and not missing else 1


if __name__ == "__main__":
    raise SystemExit(main())
