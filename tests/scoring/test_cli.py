"""Tests for the command line `python -m scoring` (scoring.cli).

The CLI is driven through ``main(argv)`` (and once as a subprocess); every output file
is compared with direct calls of the library on the same data, and published values
(LSAT, ACT Mathematics, KBneat) are reproduced through the files the CLI writes.
"""

from __future__ import annotations

import csv
import doctest
import io
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

import scoring.cli
from scoring import equating, irt
from scoring.cli import Progress, main
from scoring.domains import domain_report
from scoring.item_analysis import distractor_analysis, item_statistics, mantel_haenszel
from scoring.percentiles import norm_group_ranks
from scoring.raw import raw_scores, score_choices
from scoring.reliability import binomial_csem, kr20, kr21, sem
from scoring.scaling import (
    ConversionTable,
    ScaleSpec,
    equated_conversion,
    linear_conversion,
    rasch_conversion,
)

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[3] / "shared" / "psychometrics-data"
SCALE = ["--scale-min", "200", "--scale-max", "800", "--passing", "500"]
# "file:line: field: message" or "command line: --option: message"
PROBLEM = re.compile(r"^(?P<source>.+?):(?:(?P<line>\d+):)? (?P<field>[^:]+): (?P<message>.+)$")


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def column(rows: list[dict[str, str]], name: str, kind: type = float) -> np.ndarray:
    return np.array([kind(row[name]) if row[name] != "" else np.nan for row in rows])


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def problems(stderr: str) -> list[dict[str, str]]:
    """Parsed problem lines (the final summary line is not a problem)."""
    lines = [line for line in stderr.splitlines() if not line.startswith("python -m scoring")]
    parsed = []
    for line in lines:
        match = PROBLEM.match(line)
        assert match, f"not a file:line: field: message line: {line!r}"
        parsed.append(match.groupdict())
    return parsed


@pytest.fixture(scope="module")
def lsat() -> np.ndarray:
    return np.loadtxt(DATA / "LSAT.csv", delimiter=",", skiprows=1, dtype=np.int8)


@pytest.fixture()
def lsat_files(tmp_path: Path, lsat: np.ndarray) -> tuple[Path, Path]:
    """LSAT responses with candidate ids, and item metadata (two domains, codes)."""
    ids = [f"L{i + 1:04d}" for i in range(lsat.shape[0])]
    responses = write_csv(
        tmp_path / "lsat.csv",
        ["candidate_id"] + [f"item{j + 1}" for j in range(5)],
        [[cid, *row] for cid, row in zip(ids, lsat.tolist(), strict=True)],
    )
    items = write_csv(
        tmp_path / "lsat_items.csv",
        ["item_id", "domain", "scored"],
        [[f"item{j + 1}", "A" if j < 3 else "B", "1"] for j in range(5)],
    )
    return responses, items


def choice_data(
    n: int = 400, k: int = 12, n_pretest: int = 3, seed: int = 5
) -> tuple[np.ndarray, list[str], list[str], np.ndarray, np.ndarray]:
    """Seeded option choices from a Rasch model; the last items are pretest items."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    b = np.linspace(-1.5, 1.5, k)
    right = rng.random((n, k)) < 1 / (1 + np.exp(-(theta[:, None] - b)))
    keys = list(rng.choice(list("ABCD"), size=k))
    wrong = rng.integers(0, 3, size=(n, k))
    others = np.array([[o for o in "ABCD" if o != key] for key in keys])  # (k, 3)
    choices = np.where(right, np.array(keys)[None, :], others[np.arange(k), wrong])
    choices[rng.random((n, k)) < 0.05] = ""
    domains = ["care", "ethics", "law"] * (k // 3)
    scored = np.arange(k) < k - n_pretest
    group = np.where(rng.random(n) < 0.5, "ref", "foc")
    return choices, keys, domains, scored, group


@pytest.fixture()
def choice_files(tmp_path: Path) -> dict[str, object]:
    choices, keys, domains, scored, group = choice_data()
    n, k = choices.shape
    ids = [f"C{i:04d}" for i in range(n)]
    item_ids = [f"Q{j + 1:02d}" for j in range(k)]
    responses = write_csv(
        tmp_path / "responses.csv",
        ["candidate_id", "group", *item_ids],
        [[cid, g, *row] for cid, g, row in zip(ids, group, choices.tolist(), strict=True)],
    )
    items = write_csv(
        tmp_path / "items.csv",
        ["item_id", "key", "domain", "scored"],
        [
            [item_ids[j], keys[j], domains[j], "scored" if scored[j] else "pretest"]
            for j in range(k)
        ],
    )
    return {
        "responses": responses, "items": items, "choices": choices, "keys": keys,
        "domains": domains, "scored": scored, "group": group, "ids": ids,
        "item_ids": item_ids,
    }


def test_doctests() -> None:
    result = doctest.testmod(scoring.cli, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------
# score
# ---------------------------------------------------------------------------


def test_score_lsat_matches_library_and_published_alpha(
    tmp_path: Path, lsat: np.ndarray, lsat_files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    responses, items = lsat_files
    out = tmp_path / "out"
    status, stdout, stderr = run(
        ["score", responses, "--items", items, "--cut-raw", 3, *SCALE, "--out", out,
         "--min-domain-items", 2, "--form", "LSAT-VI"], capsys,
    )
    assert status == 0, stderr
    assert "KR-20 0.2950" in stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "conversion.csv", "conversion.json", "scores.csv", "scores.json", "summary.json"
    ]

    summary = json.loads((out / "summary.json").read_text())
    # Published: Cronbach's alpha = KR-20 = 0.2950 (ltm::cronbach.alpha); the tolerance
    # is half a unit in the last published digit. SEM 0.8691 (README, ddof = 1).
    assert summary["kr20"] == pytest.approx(0.2950, abs=5e-5)
    assert summary["sem"] == pytest.approx(0.8691, abs=5e-5)
    # The files hold exactly what the library computes (floats round-trip exactly).
    assert summary["kr20"] == kr20(lsat)
    assert summary["sem"] == sem(lsat)
    total = lsat.sum(axis=1)
    assert summary["n_candidates"] == 1000
    assert summary["raw"]["mean"] == total.mean()
    assert summary["raw"]["sd"] == total.std(ddof=1)

    table = linear_conversion(5, 3.0, ScaleSpec(200, 800, 500))
    csem = binomial_csem(5, reliability=kr20(lsat), kr21=kr21(lsat)) * 150.0
    loaded = ConversionTable.load(out / "conversion.json")
    assert_array_equal(loaded.scaled, table.scaled)
    assert_array_equal(loaded.unrounded, table.unrounded)
    assert_allclose(loaded.csem, csem, rtol=1e-12)
    assert loaded.cut_raw == 3.0 and loaded.metadata["form"] == "LSAT-VI"

    rows = read_csv(out / "scores.csv")
    assert [row["candidate_id"] for row in rows[:2]] == ["L0001", "L0002"]
    raw = raw_scores(lsat, domains=["A", "A", "A", "B", "B"])
    assert_array_equal(column(rows, "raw", int), raw.total)
    assert_array_equal(column(rows, "scaled"), table.lookup(raw.total))
    assert [row["result"] for row in rows] == [
        "pass" if p else "fail" for p in table.passed(raw.total)
    ]
    ranks = norm_group_ranks(raw.total, "x", kind="scores", max_score=5).rank_of(raw.total)
    assert_array_equal(column(rows, "percentile_rank"), ranks)
    report = domain_report(lsat, ["A", "A", "A", "B", "B"], cut_proportion=0.6, min_items=2)
    assert_array_equal(column(rows, "domain_raw:B", int), report.raw[:, 1])
    assert [row["domain_band:A"] for row in rows] == report.band[:, 0].tolist()

    document = json.loads((out / "scores.json").read_text())
    assert document["format"] == "scoring.Scores" and document["format_version"] == 1
    first = document["candidates"][0]
    assert first["candidate_id"] == "L0001" and first["raw"] == int(raw.total[0])
    assert first["domains"][1] == {
        "domain": "B", "raw": int(report.raw[0, 1]), "percent": float(report.percent[0, 1]),
        "band": str(report.band[0, 1]),
    }
    assert len(document["candidates"]) == 1000


def test_score_option_choices_with_pretest_items(
    tmp_path: Path, choice_files: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    status, _, stderr = run(
        ["score", choice_files["responses"], "--items", choice_files["items"],
         "--ignore-column", "group", "--cut-raw", "5.5", *SCALE, "--increment", "5",
         "--min-domain-items", 3, "--out", out], capsys,
    )
    assert status == 0, stderr
    choices = choice_files["choices"]
    scored = choice_files["scored"]
    domains = choice_files["domains"]
    codes = score_choices(choices, choice_files["keys"])
    raw = raw_scores(codes, scored=scored, domains=domains)
    rows = read_csv(out / "scores.csv")
    assert_array_equal(column(rows, "raw", int), raw.total)
    assert_array_equal(column(rows, "omitted", int), raw.omitted)
    assert_array_equal(column(rows, "percent"), 100.0 * raw.total / 9)
    table = linear_conversion(9, 5.5, ScaleSpec(200, 800, 500, 5))
    assert_array_equal(column(rows, "scaled"), table.lookup(raw.total))
    report = domain_report(codes, domains, cut_proportion=5.5 / 9, min_items=3, scored=scored)
    for d, label in enumerate(report.domain_labels):
        assert_array_equal(column(rows, f"domain_percent:{label}"), report.percent[:, d])
        assert [row[f"domain_band:{label}"] for row in rows] == report.band[:, d].tolist()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_scored_items"] == 9 and summary["n_pretest_items"] == 3
    assert summary["kr20"] == kr20(codes[:, scored])


def test_score_rasch_conversion_from_banked_difficulties(
    tmp_path: Path, lsat: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    b = [-2.8720, -1.0630, -0.2576, -1.3881, -2.2188]
    responses = write_csv(
        tmp_path / "r.csv", ["candidate_id", *[f"i{j}" for j in range(5)]],
        [[i, *row] for i, row in enumerate(lsat[:200].tolist())],
    )
    items = write_csv(
        tmp_path / "items.csv", ["item_id", "difficulty"], [[f"i{j}", b[j]] for j in range(5)]
    )
    out = tmp_path / "out"
    status, _, stderr = run(
        ["score", responses, "--items", items, "--cut-theta", "-0.5", *SCALE, "--out", out],
        capsys,
    )
    assert status == 0, stderr
    pre = irt.pre_equate({"b": b}, theta_cut=-0.5, D=1.0)
    table = rasch_conversion(pre.theta, -0.5, ScaleSpec(200, 800, 500))
    loaded = ConversionTable.load(out / "conversion.json")
    assert_array_equal(loaded.scaled, table.scaled)
    assert loaded.cut_raw == table.cut_raw
    rows = read_csv(out / "scores.csv")
    total = lsat[:200].sum(axis=1)
    assert_array_equal(column(rows, "theta"), np.asarray(pre.theta)[total])
    conversion = read_csv(out / "conversion.csv")
    assert_array_equal(column(conversion, "theta_se"), pre.se)


def test_score_with_an_existing_conversion_table(
    tmp_path: Path, lsat_files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    responses, items = lsat_files
    table = linear_conversion(5, 3.5, ScaleSpec(100, 200, 150, 2), version="base-7")
    table.save(tmp_path / "table.json")
    out = tmp_path / "out"
    status, _, stderr = run(
        ["score", responses, "--items", items, "--conversion", tmp_path / "table.json",
         "--out", out], capsys,
    )
    assert status == 0, stderr
    assert ConversionTable.load(out / "conversion.json") == table
    rows = read_csv(out / "scores.csv")
    assert_array_equal(column(rows, "scaled"), table.lookup(column(rows, "raw", int)))


def test_outputs_are_deterministic(
    tmp_path: Path, choice_files: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    contents = []
    for name in ("a", "b"):
        out = tmp_path / name
        status, _, stderr = run(
            ["items", choice_files["responses"], "--items", choice_files["items"],
             "--group-column", "group", "--reference", "ref", "--focal", "foc", "--out", out],
            capsys,
        )
        assert status == 0, stderr
        status, _, stderr = run(
            ["score", choice_files["responses"], "--items", choice_files["items"],
             "--ignore-column", "group", "--cut-raw", 5, *SCALE, "--out", out], capsys,
        )
        assert status == 0, stderr
        contents.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert contents[0] == contents[1]
    assert len(contents[0]) == 7


# ---------------------------------------------------------------------------
# items
# ---------------------------------------------------------------------------


def test_items_lsat_published_values(
    tmp_path: Path, lsat: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    # The data file as distributed (no id column): candidates are numbered by row.
    out = tmp_path / "out"
    status, stdout, stderr = run(
        ["items", DATA / "LSAT.csv", "--id-column", "", "--out", out], capsys
    )
    assert status == 0, stderr
    assert "alpha 0.2950" in stdout
    rows = read_csv(out / "item_analysis.csv")
    # ltm::descript, published to 3 (p) or 4 digits: half a unit in the last digit.
    assert_allclose(column(rows, "p"), [0.924, 0.709, 0.553, 0.763, 0.870], atol=5e-4)
    assert_allclose(
        column(rows, "point_biserial"), [0.3620, 0.5668, 0.6184, 0.5344, 0.4354], atol=5e-5
    )
    assert_allclose(
        column(rows, "corrected_point_biserial"),
        [0.1128, 0.1532, 0.1728, 0.1444, 0.1216], atol=5e-5,
    )
    assert_allclose(
        column(rows, "alpha_if_deleted"), [0.2754, 0.2376, 0.2168, 0.2459, 0.2663], atol=5e-5
    )
    stats = item_statistics(lsat)
    assert_array_equal(column(rows, "corrected_point_biserial"), stats.corrected_point_biserial)
    document = json.loads((out / "item_analysis.json").read_text())
    assert document["alpha"] == pytest.approx(0.2950, abs=5e-5)
    assert [item["item_id"] for item in document["items"]] == [f"item{j}" for j in range(1, 6)]
    assert document["items"][0]["flags"] == ["low_discrimination"]


def test_items_distractors_pretest_and_dif_match_library(
    tmp_path: Path, choice_files: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    status, _, stderr = run(
        ["items", choice_files["responses"], "--items", choice_files["items"],
         "--group-column", "group", "--reference", "ref", "--focal", "foc", "--out", out],
        capsys,
    )
    assert status == 0, stderr
    rows = read_csv(out / "item_analysis.csv")
    choices = choice_files["choices"]
    keys = choice_files["keys"]
    scored = choice_files["scored"]
    group = choice_files["group"]
    codes = score_choices(choices, keys)
    operational = codes[:, scored]
    stats = item_statistics(operational)
    assert_array_equal(column(rows, "p")[scored], stats.p)
    assert_array_equal(column(rows, "alpha_if_deleted")[scored], stats.alpha_if_deleted)
    assert np.isnan(column(rows, "alpha_if_deleted")[~scored]).all()
    scored_keys = [k for k, s in zip(keys, scored, strict=True) if s]
    dist = distractor_analysis(choices[:, scored], scored_keys, list("ABCD"))
    for o, label in enumerate("ABCD"):
        assert_array_equal(
            column(rows, f"option_rest_r:{label}")[scored], dist.option_rest_correlation[:, o]
        )
    dif = mantel_haenszel(operational, group, reference="ref", focal="foc")
    assert_array_equal(column(rows, "mh_d_dif")[scored], dif.d_dif)
    # A pretest item is analysed against the scored total plus itself.
    j = int(np.flatnonzero(~scored)[0])
    augmented = np.column_stack([operational, codes[:, j]])
    one = item_statistics(augmented)
    assert float(rows[j]["corrected_point_biserial"]) == one.corrected_point_biserial[-1]
    assert rows[j]["scored"] == "pretest"
    one_d = distractor_analysis(
        np.column_stack([choices[:, scored], choices[:, j]]),
        [*scored_keys, keys[j]], list("ABCD"),
    )
    assert float(rows[j]["option_proportion:B"]) == one_d.proportion[-1, 1]
    one_m = mantel_haenszel(augmented, group, reference="ref", focal="foc")
    assert rows[j]["ets_category"] == one_m.signed_category[-1]
    document = json.loads((out / "item_analysis.json").read_text())
    assert document["dif"]["n_reference"] == int((group == "ref").sum())
    assert document["items"][j]["scored"] is False


# ---------------------------------------------------------------------------
# equate
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def act_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("act")
    data = np.loadtxt(DATA / "ACTmath.csv", delimiter=",", skiprows=1, dtype=np.int64)
    x = write_csv(folder / "x.csv", ["score", "count"], data[:, [0, 1]].tolist())
    y = write_csv(folder / "y.csv", ["score", "count"], data[:, [0, 2]].tolist())
    return x, y


def test_equate_act_math_published_values(
    tmp_path: Path, act_files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = act_files
    out = tmp_path / "eqp"
    status, _, stderr = run(
        ["equate", "--design", "random", "--method", "equipercentile", "--x", x, "--y", y,
         "--se", "delta", "--out", out], capsys,
    )
    assert status == 0, stderr
    rows = read_csv(out / "equating.csv")
    equated = column(rows, "equated")
    # K&B ch. 2, published to 4 decimals: half a unit in the last digit.
    assert_allclose(equated[[10, 20, 30]], [8.1607, 19.1647, 30.1305], atol=5e-5)
    document = json.loads((out / "equating.json").read_text())
    assert document["moments"]["equated"]["mean"] == pytest.approx(18.9799, abs=5e-5)
    assert document["moments"]["equated"]["sd"] == pytest.approx(8.9352, abs=5e-5)
    assert document["moments"]["x"]["sd"] == pytest.approx(8.2116, abs=5e-5)
    fx = np.loadtxt(DATA / "ACTmath.csv", delimiter=",", skiprows=1)[:, 1]
    fy = np.loadtxt(DATA / "ACTmath.csv", delimiter=",", skiprows=1)[:, 2]
    assert_array_equal(equated, equating.equipercentile(fx, fy))
    se = column(rows, "se")
    expected_se = equating.se_equipercentile(fx, fy)
    finite = np.isfinite(expected_se)
    assert_array_equal(se[finite], expected_se[finite])

    out = tmp_path / "lin"
    status, stdout, stderr = run(
        ["equate", "--design", "random", "--method", "linear", "--x", x, "--y", y,
         "--out", out], capsys,
    )
    assert status == 0, stderr
    document = json.loads((out / "equating.json").read_text())
    assert document["slope"] == pytest.approx(1.0886, abs=5e-5)
    assert document["intercept"] == pytest.approx(-2.6319, abs=5e-5)
    assert "slope 1.0886" in stdout


def test_equate_neat_kbneat_published_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--x", DATA / "KBneat_x.csv", "--y", DATA / "KBneat_y.csv", "--x-max", 36,
              "--y-max", 36, "--anchor-max", 12]
    out = tmp_path / "tucker"
    status, _, stderr = run(
        ["equate", "--design", "neat", "--method", "tucker", "--w1", 1, *common, "--out", out],
        capsys,
    )
    assert status == 0, stderr
    document = json.loads((out / "equating.json").read_text())
    # K&B ch. 4, Tucker with w1 = 1: 1.0289 / 0.5368 (half a unit in the 4th decimal).
    assert document["slope"] == pytest.approx(1.0289, abs=5e-5)
    assert document["intercept"] == pytest.approx(0.5368, abs=5e-5)
    assert document["n_x"] == 1655 and document["n_y"] == 1638
    assert document["w1"] == 1.0

    out = tmp_path / "levine"
    status, _, stderr = run(
        ["equate", "--design", "neat", "--method", "levine_observed", *common, "--out", out],
        capsys,
    )
    assert status == 0, stderr
    document = json.loads((out / "equating.json").read_text())
    # K&B ch. 4, Levine observed score with proportional weights: 1.0110 / 0.2514.
    assert document["w1"] == pytest.approx(0.50258, abs=5e-6)
    assert document["slope"] == pytest.approx(1.0110, abs=5e-5)
    assert document["intercept"] == pytest.approx(0.2514, abs=5e-5)

    out = tmp_path / "chained"
    status, _, stderr = run(
        ["equate", "--design", "neat", "--method", "chained_equipercentile", *common,
         "--out", out], capsys,
    )
    assert status == 0, stderr
    equated = column(read_csv(out / "equating.csv"), "equated")
    assert_allclose(equated[34:], [34.3125, 35.4125, 36.0938], atol=5e-5)
    x = np.loadtxt(DATA / "KBneat_x.csv", delimiter=",", skiprows=1, dtype=np.int64)
    y = np.loadtxt(DATA / "KBneat_y.csv", delimiter=",", skiprows=1, dtype=np.int64)
    fxv = equating.bivariate_frequencies(x[:, 0], x[:, 1], 36, 12)
    fyv = equating.bivariate_frequencies(y[:, 0], y[:, 1], 36, 12)
    assert_array_equal(equated, equating.chained_equipercentile(fxv, fyv))


def test_equate_with_base_conversion_and_bootstrap(
    tmp_path: Path, act_files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = act_files
    base = linear_conversion(40, 24, ScaleSpec(200, 800, 500), version="Y-2025")
    base.save(tmp_path / "base.json")
    out = tmp_path / "out"
    status, _, stderr = run(
        ["equate", "--design", "random", "--method", "linear", "--x", x, "--y", y,
         "--se", "bootstrap", "--bootstrap", 20, "--seed", 7,
         "--base-conversion", tmp_path / "base.json", "--table-version", "X-2026",
         "--out", out], capsys,
    )
    assert status == 0, stderr
    data = np.loadtxt(DATA / "ACTmath.csv", delimiter=",", skiprows=1, dtype=np.int64)
    lin = equating.linear(data[:, 1], data[:, 2])
    expected = equated_conversion(lin(np.arange(41.0)), base, version="X-2026")
    loaded = ConversionTable.load(out / "conversion.json")
    assert_array_equal(loaded.scaled, expected.scaled)
    assert loaded.cut_raw == expected.cut_raw and loaded.version == "X-2026"
    boot = equating.bootstrap_se(equating.linear, data[:, 1], data[:, 2], n_boot=20, seed=7)
    assert_array_equal(column(read_csv(out / "equating.csv"), "se"), boot.se)


# ---------------------------------------------------------------------------
# calibrate
# ---------------------------------------------------------------------------


def test_calibrate_lsat_mml_published_values(
    tmp_path: Path, lsat_files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    responses, _ = lsat_files
    out = tmp_path / "out"
    status, _, stderr = run(
        ["calibrate", responses, "--method", "mml", "--estimate-discrimination",
         "--abilities", "eap", "--out", out], capsys,
    )
    assert status == 0, stderr
    rows = read_csv(out / "difficulties.csv")
    # ltm::rasch (Rizopoulos 2006), 4 decimals published: half a unit in the last digit.
    assert_allclose(
        column(rows, "difficulty"), [-3.6153, -1.3224, -0.3176, -1.7301, -2.7802], atol=5e-5
    )
    document = json.loads((out / "calibration.json").read_text())
    assert document["discrimination"] == pytest.approx(0.7551, abs=5e-5)
    assert document["loglik"] == pytest.approx(-2466.938, abs=5e-4)
    assert document["converged"] is True
    abilities = read_csv(out / "abilities.csv")
    assert len(abilities) == 1000 and abilities[0]["candidate_id"] == "L0001"


def test_calibrate_cml_matches_library(
    tmp_path: Path, lsat: np.ndarray, lsat_files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    responses, items = lsat_files
    out = tmp_path / "out"
    status, _, stderr = run(["calibrate", responses, "--items", items, "--out", out], capsys)
    assert status == 0, stderr
    fit = irt.fit_rasch(lsat, method="cml")
    rows = read_csv(out / "difficulties.csv")
    assert_array_equal(column(rows, "difficulty"), fit.difficulty)
    assert_array_equal(column(rows, "se"), fit.difficulty_se)
    parameters = irt.ItemParameters.create(b=fit.difficulty)
    theta = irt.estimate_abilities(lsat, parameters).theta
    fit_stats = irt.fit_statistics(lsat, parameters, theta)
    assert_array_equal(column(rows, "infit"), fit_stats.item_infit)
    assert json.loads((out / "calibration.json").read_text())["loglik"] == fit.loglik


# ---------------------------------------------------------------------------
# Bad input: file:line: field: message, exit status 2, nothing written
# ---------------------------------------------------------------------------

ITEMS = [["item_id", "key", "domain", "scored"], ["Q1", "A", "d1", "1"],
         ["Q2", "B", "d1", "1"], ["Q3", "C", "d2", "pretest"]]
RESPONSES = [["candidate_id", "Q1", "Q2", "Q3"], ["c1", "A", "B", "C"], ["c2", "B", "", "D"],
             ["c3", "A", "C", "C"]]
CODES = [["candidate_id", "Q1", "Q2", "Q3"], ["c1", "1", "0", "1"], ["c2", "-1", "1", ""],
         ["c3", "0", "1", "1"]]


def _edit(table: list[list[str]], row: int, col: int, value: str) -> list[list[str]]:
    copy = [list(r) for r in table]
    copy[row][col] = value
    return copy


BAD_INPUTS = {
    # name: (responses rows, items rows, file with the problem, line, field, message part)
    "unknown item column": (
        [["candidate_id", "Q1", "Q2", "Q3", "Q9"]] + [r + ["A"] for r in RESPONSES[1:]],
        ITEMS, "responses", 1, "Q9", "unknown item column",
    ),
    "item without a column": (
        [r[:3] for r in RESPONSES], ITEMS, "responses", 1, "Q3", "no column for item",
    ),
    "key not in options": (
        RESPONSES, _edit(ITEMS, 2, 1, "E"), "items", 3, "key",
        "'E' is not one of the item's options",
    ),
    "choice not an option": (
        _edit(RESPONSES, 2, 1, "F"), ITEMS, "responses", 3, "Q1", "'F' is not an option",
    ),
    "non-numeric code": (
        _edit(CODES, 3, 2, "x"), [r[:1] + r[2:] for r in ITEMS], "responses", 4, "Q2",
        "'x' is not a response code",
    ),
    "code out of range": (
        _edit(CODES, 1, 3, "2"), [r[:1] + r[2:] for r in ITEMS], "responses", 2, "Q3",
        "'2' is not a response code",
    ),
    "ragged row": (
        RESPONSES[:2] + [RESPONSES[2][:3]] + RESPONSES[3:], ITEMS, "responses", 3, "row",
        "has 3 fields but the header has 4",
    ),
    "repeated candidate": (
        _edit(RESPONSES, 3, 0, "c1"), ITEMS, "responses", 4, "candidate_id",
        "'c1' repeated (first on line 2)",
    ),
    "empty candidate id": (
        _edit(RESPONSES, 2, 0, " "), ITEMS, "responses", 3, "candidate_id", "empty candidate id",
    ),
    "bad scored flag": (
        RESPONSES, _edit(ITEMS, 1, 3, "maybe"), "items", 2, "scored", "is not a scored flag",
    ),
    "repeated item id": (
        RESPONSES, ITEMS + [["Q1", "A", "d1", "1"]], "items", 5, "item_id",
        "'Q1' repeated (first on line 2)",
    ),
    "unknown metadata column": (
        RESPONSES, [ITEMS[0] + ["weight"]] + [r + ["1"] for r in ITEMS[1:]], "items", 1,
        "weight", "unknown column",
    ),
    "no candidates": (RESPONSES[:1], ITEMS, "responses", 0, "file", "no candidate rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_reported_as_file_line_field(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    response_rows, item_rows, where, line, field, message = BAD_INPUTS[case]
    files = {
        "responses": write_csv(tmp_path / "responses.csv", response_rows[0], response_rows[1:]),
        "items": write_csv(tmp_path / "items.csv", item_rows[0], item_rows[1:]),
    }
    out = tmp_path / "out"
    status, stdout, stderr = run(
        ["score", files["responses"], "--items", files["items"], "--cut-raw", 1, *SCALE,
         "--out", out], capsys,
    )
    assert status == 2
    assert stdout == ""
    found = problems(stderr)
    assert {"source": str(files[where]), "line": str(line), "field": field} in [
        {k: p[k] for k in ("source", "line", "field")} for p in found
    ], stderr
    assert any(message in p["message"] for p in found), stderr
    assert stderr.rstrip().endswith("nothing was written")
    assert not out.exists()


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = write_csv(tmp_path / "items.csv", ITEMS[0], ITEMS[1:])
    missing = tmp_path / "nowhere.csv"
    out = tmp_path / "out"
    status, _, stderr = run(
        ["score", missing, "--items", items, "--cut-raw", 1, *SCALE, "--out", out], capsys
    )
    assert status == 2
    assert problems(stderr) == [
        {"source": str(missing), "line": "0", "field": "file", "message": "no such file"}
    ]
    assert not out.exists()


def test_all_problems_are_reported_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [["candidate_id", "Q1", "Q2"]] + [[f"c{i}", "x", "y"] for i in range(40)]
    responses = write_csv(tmp_path / "r.csv", rows[0], rows[1:])
    out = tmp_path / "out"
    status, _, stderr = run(["items", responses, "--out", out], capsys)
    assert status == 2
    lines = stderr.splitlines()
    # 80 bad cells: the first 50 are listed, in file order, the rest counted.
    assert len(problems("\n".join(lines[:50]))) == 50
    assert lines[0].startswith(f"{responses}:2: Q1: 'x' is not a response code")
    assert lines[50] == "... and 30 more problems"
    assert "80 input problems" in lines[51]
    assert not out.exists()


def test_option_problems(
    tmp_path: Path, lsat_files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    responses, items = lsat_files
    out = tmp_path / "out"
    status, _, stderr = run(
        ["score", responses, "--items", items, "--cut-raw", 3, "--scale-min", 200,
         "--scale-max", 800, "--passing", "500.5", "--out", out], capsys,
    )
    assert status == 2
    assert problems(stderr)[0]["source"] == "command line"
    assert problems(stderr)[0]["field"] == "--passing"
    status, _, stderr = run(
        ["score", responses, "--items", items, "--cut-raw", 9, *SCALE, "--out", out], capsys
    )
    assert status == 2
    assert "command line: --cut-raw: must lie in (0, 5]" in stderr
    status, _, stderr = run(
        ["score", responses, "--items", items, *SCALE, "--out", out], capsys
    )
    assert status == 2 and "give exactly one of --cut-raw" in stderr
    status, _, stderr = run(["score", responses, "--out", out], capsys)  # argparse
    assert status == 2 and "--items" in stderr
    assert not out.exists()


def test_existing_outputs_need_force(
    tmp_path: Path, lsat_files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    responses, items = lsat_files
    out = tmp_path / "out"
    argv = ["items", responses, "--items", items, "--out", out]
    assert run(argv, capsys)[0] == 0
    before = (out / "item_analysis.csv").read_bytes()
    (out / "item_analysis.csv").write_text("changed")
    status, _, stderr = run(argv, capsys)
    assert status == 2 and "already exists (use --force" in stderr
    assert (out / "item_analysis.csv").read_text() == "changed"
    assert run([*argv, "--force"], capsys)[0] == 0
    assert (out / "item_analysis.csv").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_calibrate_rejects_items_without_variance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [["candidate_id", "a", "b", "c"], ["1", "1", "0", "1"], ["2", "1", "1", "0"],
            ["3", "1", "0", "-1"]]
    responses = write_csv(tmp_path / "r.csv", rows[0], rows[1:])
    status, _, stderr = run(["calibrate", responses, "--out", tmp_path / "out"], capsys)
    assert status == 2
    assert f"{responses}:1: a: every candidate who answered this item got it right" in stderr


def test_equate_method_and_file_problems(
    tmp_path: Path, act_files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = act_files
    status, _, stderr = run(
        ["equate", "--design", "random", "--method", "tucker", "--x", x, "--y", y,
         "--out", tmp_path / "o"], capsys,
    )
    assert status == 2 and "command line: --method: 'tucker' is not a random design" in stderr
    bad = write_csv(tmp_path / "bad.csv", ["score", "count"], [[0, 3], [1, "-2"], [2, 5]])
    status, _, stderr = run(
        ["equate", "--design", "random", "--method", "linear", "--x", bad, "--y", y,
         "--out", tmp_path / "o"], capsys,
    )
    assert status == 2
    assert f"{bad}:3: count: '-2' is not a non-negative integer" in stderr
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------
# Properties, progress, subprocess
# ---------------------------------------------------------------------------


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    codes=hnp.arrays(
        np.int8, hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=8),
        elements=st.sampled_from([-1, 0, 1]),
    ),
    cut=st.floats(0.01, 1.0),
)
def test_property_cli_scores_equal_library(
    codes: np.ndarray, cut: float, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    n, k = codes.shape
    responses = write_csv(
        folder / "r.csv", ["candidate_id", *[f"i{j}" for j in range(k)]],
        [[f"c{i}", *row] for i, row in enumerate(codes.tolist())],
    )
    items = write_csv(folder / "items.csv", ["item_id"], [[f"i{j}"] for j in range(k)])
    cut_raw = max(cut * k, 0.5)
    stderr = io.StringIO()
    old = sys.stderr
    sys.stderr = stderr
    try:
        status = main(["score", str(responses), "--items", str(items), "--cut-raw",
                       repr(cut_raw), *SCALE, "--out", str(folder / "out")])
    finally:
        sys.stderr = old
    assert status == 0, stderr.getvalue()
    rows = read_csv(folder / "out" / "scores.csv")
    raw = raw_scores(codes)
    table = linear_conversion(k, cut_raw, ScaleSpec(200, 800, 500))
    assert_array_equal(column(rows, "raw", int), raw.total)
    assert_array_equal(column(rows, "scaled"), table.lookup(raw.total))
    ranks = column(rows, "percentile_rank")
    assert ((ranks >= 0) & (ranks <= 100)).all()
    # Ranks increase with the raw score (mid-point percentile ranks, K&B eq. 2.14).
    order = np.argsort(raw.total, kind="stable")
    assert (np.diff(ranks[order]) >= 0).all()


def test_progress_bar_on_a_terminal() -> None:
    stream = io.StringIO()
    with Progress("scoring calibrate", 2, enabled=True, stream=stream, redraw=True) as bar:
        bar.step("reading")
        bar.update(0.5)
        bar.step("fitting")
    text = stream.getvalue()
    assert "\rscoring calibrate [" in text and "reading" in text and "fitting" in text
    assert "100%" in text and text.endswith("\n")
    silent = io.StringIO()
    with Progress("x", 2, enabled=False, stream=silent, redraw=False) as bar:
        bar.step("reading")
    assert silent.getvalue() == ""


def test_python_m_scoring_subprocess(tmp_path: Path, lsat_files: tuple[Path, Path]) -> None:
    responses, items = lsat_files
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "scoring", "calibrate", str(responses), "--items", str(items),
         "--method", "mml", "--progress", "--out", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "scoring calibrate: step 2/5: reading responses" in result.stderr
    assert "scoring calibrate: done in" in result.stderr
    assert f"wrote {out / 'difficulties.csv'}" in result.stdout
    rows = read_csv(out / "difficulties.csv")
    # a fixed at 1 (ltm::rasch with constraint): published b, half a unit in the 4th decimal.
    assert_allclose(
        column(rows, "difficulty"), [-2.8720, -1.0630, -0.2576, -1.3881, -2.2188], atol=5e-5
    )
    bad = subprocess.run(
        [sys.executable, "-m", "scoring", "items", str(tmp_path / "missing.csv"),
         "--out", str(tmp_path / "o")],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[0] == f"{tmp_path / 'missing.csv'}:0: file: no such file"


def test_option_and_file_problems_reported_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses = write_csv(tmp_path / "r.csv", ["candidate_id", "Q1", "Q2", "Q3", "Q4"],
                          [[r[0], *r[1:], "A"] for r in RESPONSES[1:]])
    items = write_csv(tmp_path / "items.csv", ITEMS[0], ITEMS[1:])
    status, _, stderr = run(
        ["score", responses, "--items", items, "--cut-raw", 1, "--scale-min", 200,
         "--scale-max", 800, "--passing", "500.5", "--out", tmp_path / "out"], capsys,
    )
    assert status == 2
    fields = {(p["source"], p["field"]) for p in problems(stderr)}
    assert fields == {("command line", "--passing"), (str(responses), "Q4")}


def test_norm_group_from_a_frequency_file(
    tmp_path: Path, lsat: np.ndarray, lsat_files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    responses, items = lsat_files
    norm = write_csv(tmp_path / "norm.csv", ["score", "count"],
                     [[0, 10], [1, 40], [2, 100], [3, 250], [5, 100]])
    out = tmp_path / "out"
    status, _, stderr = run(
        ["score", responses, "--items", items, "--cut-raw", 3, *SCALE, "--norm-freq", norm,
         "--norm-definition", "pilot 2025", "--out", out], capsys,
    )
    assert status == 0, stderr
    expected = norm_group_ranks([10, 40, 100, 250, 0, 100], "pilot 2025")
    rows = read_csv(out / "scores.csv")
    assert_array_equal(column(rows, "percentile_rank"), expected.rank_of(lsat.sum(axis=1)))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["norm_group"] == {"definition": "pilot 2025", "n": 500}


def test_single_candidate_is_scored_without_reliability(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses = write_csv(tmp_path / "r.csv", CODES[0], CODES[1:2])
    items = write_csv(tmp_path / "items.csv", ["item_id", "domain"],
                      [["Q1", "d"], ["Q2", "d"], ["Q3", "d"]])
    out = tmp_path / "out"
    status, stdout, stderr = run(
        ["score", responses, "--items", items, "--cut-raw", 2, *SCALE,
         "--min-domain-items", 2, "--out", out], capsys,
    )
    assert status == 0, stderr
    assert "KR-20 n/a" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kr20"] is None and summary["sem"] is None
    assert "at least 2 candidates" in summary["reliability_note"]
    assert summary["raw"]["sd"] is None
    row = read_csv(out / "scores.csv")[0]
    assert (row["raw"], row["scaled"], row["result"]) == ("2", "500", "pass")
