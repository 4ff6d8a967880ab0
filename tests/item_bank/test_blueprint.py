"""The blueprint: the shipped reference file, the largest-remainder counts, and every error
a blueprint file can have, each named by file, line and field."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from item_bank.blueprint import (
    Blueprint,
    BlueprintError,
    DomainWeight,
    InformationTarget,
    TypeShare,
    apportion,
    blueprint_path,
    domain_weights,
    load_blueprint,
)

CCM = blueprint_path("CCM")
PROGRAMME = Path(__file__).resolve().parents[2] / "item_bank" / "content" / "ccm" / \
    "programme.yaml"
CCM_DOMAINS = ("care-coordination", "assessment-planning", "implementation-monitoring",
               "evaluation", "professional-practice")


def test_the_reference_blueprint() -> None:
    domains = [d["code"] for d in yaml.safe_load(PROGRAMME.read_text())["domains"]]
    bp = load_blueprint(CCM, domains=domains)
    assert (bp.programme, bp.scored, bp.pretest, bp.length, bp.duration_minutes) == (
        "CCM", 150, 30, 180, 180)
    assert bp.domain_codes == CCM_DOMAINS
    assert [d.percent for d in bp.domains] == [24, 22, 20, 14, 20]
    # 150 x the weights is whole: 36, 33, 30, 21, 30.
    assert bp.domain_counts() == dict(zip(CCM_DOMAINS, [36, 33, 30, 21, 30], strict=True))
    # 30 x the weights = 7.2, 6.6, 6, 4.2, 6: floors 7, 6, 6, 4, 6 (29); the one left goes to
    # the largest remainder, assessment-planning's 0.6.
    assert bp.anchor_size == 30
    assert bp.anchor_counts() == dict(zip(CCM_DOMAINS, [7, 7, 6, 4, 6], strict=True))
    assert bp.type_bounds() == {"direct": (45, 75), "scenario-based": (30, 60),
                                "best-practice": (30, 60)}
    assert bp.information.thetas == (-0.5, 0.0, 0.5)
    assert bp.information.target == (31.5, 32.9, 31.5)
    assert bp.source == str(CCM)


def test_apportion_examples() -> None:
    weights = [("a", Fraction(24)), ("b", Fraction(22)), ("c", Fraction(20)),
               ("d", Fraction(14)), ("e", Fraction(20))]
    assert apportion(150, weights) == {"a": 36, "b": 33, "c": 30, "d": 21, "e": 30}
    # 20 x weights = 4.8, 4.4, 4, 2.8, 4: floors make 18; the two left go to a (0.8), d (0.8).
    assert apportion(20, weights) == {"a": 5, "b": 4, "c": 4, "d": 3, "e": 4}
    # Equal remainders (0.5 each): the larger weight wins, then the key listed first.
    assert apportion(2, [("a", Fraction(1)), ("b", Fraction(3))]) == {"a": 0, "b": 2}
    assert apportion(1, [("a", Fraction(1)), ("b", Fraction(1))]) == {"a": 1, "b": 0}
    assert apportion(1, [("b", Fraction(1)), ("a", Fraction(1))]) == {"b": 1, "a": 0}
    assert apportion(0, weights) == dict.fromkeys("abcde", 0)


@pytest.mark.parametrize(("total", "weights", "message"), [
    (-1, [("a", Fraction(1))], "total must be 0 or more, got -1"),
    (3, [], "weights must not be empty"),
    (3, [("a", Fraction(-1)), ("b", Fraction(2))], "weights must be 0 or more"),
    (3, [("a", Fraction(0))], "weights must not all be 0"),
])
def test_apportion_rejects_bad_input(total: int, weights: list[tuple[str, Fraction]],
                                     message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apportion(total, weights)


weight_lists = st.lists(st.integers(0, 1000), min_size=1, max_size=8).filter(any)


@settings(max_examples=200, deadline=None)
@given(total=st.integers(0, 400), raw=weight_lists, scale=st.integers(1, 50))
def test_apportion_properties(total: int, raw: list[int], scale: int) -> None:
    weights = [(k, Fraction(w)) for k, w in enumerate(raw)]
    counts = apportion(total, weights)
    assert sum(counts.values()) == total
    whole = sum(raw)
    for k, w in enumerate(raw):
        quota = Fraction(total * w, whole)
        assert math.floor(quota) <= counts[k] <= math.ceil(quota)
    # Only the proportions matter.
    assert apportion(total, [(k, w * scale) for k, w in weights]) == counts
    # A key whose quota has a larger remainder never gets rounded down while a key with a
    # smaller remainder gets rounded up.
    ups = [k for k in counts if counts[k] > Fraction(total * raw[k], whole)]
    downs = [k for k in counts if counts[k] < Fraction(total * raw[k], whole)]
    rem = {k: Fraction(total * raw[k], whole) % 1 for k in counts}
    assert all(rem[u] >= rem[d] for u in ups for d in downs)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ccm.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    text = CCM.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("old", "new", "at", "field", "message"), [
    ("care-coordination: 24", "care-coordination: 23", "domains:", "domains",
     "the weights must add up to 100 percent, they add up to 99"),
    ("evaluation: 14", "evaluation: 14.5", "domains:", "domains",
     "the weights must add up to 100 percent, they add up to 100.5"),
    ("evaluation: 14", "evaluation: -14", "evaluation:", "domains.evaluation",
     "must be at least 0, got -14"),
    ("evaluation: 14", "evaluation: lots", "evaluation:", "domains.evaluation",
     "must be a number, got 'lots'"),
    ("scored: 150", "scored: many", "scored:", "scored", "must be a whole number, got 'many'"),
    ("scored: 150", "scored: 150.5", "scored:", "scored", "must be a whole number, got 150.5"),
    ("scored: 150", "scored: true", "scored:", "scored", "must be a whole number, got True"),
    ("scored: 150", "scored: 0", "scored:", "scored", "must be at least 1, got 0"),
    ("pretest: 30", "pretest: -1", "pretest:", "pretest", "must be at least 0, got -1"),
    ("pretest: 30", "pretest:", "pretest:", "pretest", "must be a whole number, got nothing"),
    ("duration_minutes: 180", "duration_minutes: [180]", "duration_minutes:",
     "duration_minutes", "must be a single value, got a list"),
    ("scored: 150", "scored: 150\nscored_items: 150", "scored_items:", "scored_items",
     "unknown field; known: programme, scored, pretest, duration_minutes, domains, "
     "question_types, anchor, information"),
    ("pretest: 30", "pretest: 30\nscored: 151", "scored: 151", "scored",
     "duplicate field (first given on line 4)"),
    ("programme: CCM", "programme: ''", "programme:", "programme",
     "must be the programme's code, got ''"),
    ("best-practice: {percent: 30", "best-practise: {percent: 30", "best-practise:",
     "question_types.best-practise",
     "unknown question type; known: direct, scenario-based, best-practice"),
    ("direct: {percent: 40, tolerance: 10}", "direct: {percent: 40, tolerance: -1}",
     "direct:", "question_types.direct.tolerance", "must be at least 0, got -1"),
    ("direct: {percent: 40, tolerance: 10}", "direct: {percent: 40}", "direct:",
     "question_types.direct.tolerance", "missing"),
    ("direct: {percent: 40, tolerance: 10}", "direct: 40", "direct:", "question_types.direct",
     "must be a mapping, got 40"),
    ("direct: {percent: 40, tolerance: 10}", "direct: {percent: 50, tolerance: 10}",
     "question_types:", "question_types",
     "the shares must add up to 100 percent, they add up to 110"),
    ("size: 30", "size: 151", "size:", "anchor.size",
     "an anchor of 151 items does not fit in 150 scored items"),
    ("size: 30", "sise: 30", "sise:", "anchor.sise", "unknown field; known: size"),
    ("target: [31.5, 32.9, 31.5]", "target: [31.5, 32.9]", "target:", "information.target",
     "needs one value per offset (3), got 2"),
    ("target: [31.5, 32.9, 31.5]", "target: [31.5, 0, 31.5]", "target:", "information.target",
     "must be positive numbers, got [31.5, 0.0, 31.5]"),
    ("target: [31.5, 32.9, 31.5]", "target: [31.5, x, 31.5]", "target:",
     "information.target[1]", "must be a number, got 'x'"),
    ("offsets: [-0.5, 0.0, 0.5]", "offsets: [-0.5, 0.0, 0.0]", "offsets:",
     "information.offsets", "an offset is listed twice: [-0.5, 0.0, 0.0]"),
    ("cut: 0.0", "cut: 9", "cut:", "information.cut", "must be at most 6, got 9"),
    ("offsets: [-0.5, 0.0, 0.5]", "offsets: [-0.5, 0.0, 7.5]", "cut:", "information.cut",
     "the cut and the points around it must be within +-6 logits"),
    ("tolerance: 0.3", "tolerance: -0.3", "tolerance: -0.3", "information.tolerance",
     "must be at least 0, got -0.3"),
    ("  tolerance: 0.3\n", "", "information:", "information.tolerance", "missing"),
    ("domains:\n", "domains: {}\nold_domains:\n", "domains:", "domains",
     "must name at least one domain"),
    ("anchor:\n  size: 30\n", "", "programme:", "anchor", "missing"),
])
def test_a_bad_blueprint_names_file_line_and_field(tmp_path: Path, old: str, new: str, at: str,
                                                    field: str, message: str) -> None:
    text = edited(old, new)
    path = write(tmp_path, text)
    with pytest.raises(BlueprintError) as caught:
        load_blueprint(path)
    assert f"{path}:{line_of(text, at)}: {field}: {message}" in [
        str(p) for p in caught.value.problems], str(caught.value)
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = edited("scored: 150", "scored: x").replace("pretest: 30", "pretest: -2")
    path = write(tmp_path, text)
    with pytest.raises(BlueprintError) as caught:
        load_blueprint(path)
    assert [(p.line, p.field) for p in caught.value.problems] == [(4, "scored"), (5, "pretest")]


def test_tolerances_too_tight_for_any_mix(tmp_path: Path) -> None:
    # 150 x 33.4 % = 50.1 (51 to 50: none); no three counts in range make 150.
    text = edited("direct: {percent: 40, tolerance: 10}", "direct: {percent: 33.4, tolerance: 0}")
    text = text.replace("scenario-based: {percent: 30, tolerance: 10}",
                        "scenario-based: {percent: 33.3, tolerance: 0}")
    text = text.replace("best-practice: {percent: 30, tolerance: 10}",
                        "best-practice: {percent: 33.3, tolerance: 0}")
    path = write(tmp_path, text)
    with pytest.raises(BlueprintError) as caught:
        load_blueprint(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:{line_of(text, 'question_types:')}: question_types: no mix of 150 scored items "
        "fits the tolerances (direct 51-50, scenario-based 50-49, best-practice 50-49): "
        "widen them"]


def test_decimal_weights_are_exact(tmp_path: Path) -> None:
    # 24.4 + 39.8 + 35.8 is not 100 in binary floating point; the blueprint reads decimals.
    assert 24.4 + 39.8 + 35.8 != 100
    text = edited("care-coordination: 24\n  assessment-planning: 22",
                  "care-coordination: 24.4\n  assessment-planning: 39.8")
    text = text.replace("implementation-monitoring: 20", "implementation-monitoring: 35.8")
    text = text.replace("evaluation: 14", "evaluation: 0")
    text = text.replace("professional-practice: 20", "professional-practice: 0")
    bp = load_blueprint(write(tmp_path, text))
    assert [d.percent for d in bp.domains] == [Fraction(244, 10), Fraction(398, 10),
                                               Fraction(358, 10), 0, 0]
    # 36.6, 59.7, 53.7: floors make 148; the two left go to the .7s (the larger weight first).
    assert bp.domain_counts() == {"care-coordination": 36, "assessment-planning": 60,
                                  "implementation-monitoring": 54, "evaluation": 0,
                                  "professional-practice": 0}


def test_the_programme_domains_are_checked(tmp_path: Path) -> None:
    text = edited("evaluation: 14", "evaluations: 14")
    path = write(tmp_path, text)
    with pytest.raises(BlueprintError) as caught:
        load_blueprint(path, domains=CCM_DOMAINS)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:{line_of(text, 'domains:')}: domains: no weight for evaluation: weight every "
        "domain of the programme (0 if it is not tested)",
        f"{path}:{line_of(text, 'evaluations:')}: domains.evaluations: unknown domain; the "
        "programme's domains: " + ", ".join(CCM_DOMAINS)]
    # Without the programme's domains, the file alone is consistent.
    assert load_blueprint(path).domain_codes[3] == "evaluations"


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    ("", 1, "file", "empty file"),
    ("- scored\n- pretest\n", 1, "file", "must be a mapping, got a list"),
    ("programme: CCM\nscored: [150\n", 3, "yaml", "expected ',' or ']', but got '<stream end>'"),
])
def test_a_file_that_is_not_a_blueprint(tmp_path: Path, text: str, line: int, field: str,
                                        message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(BlueprintError) as caught:
        load_blueprint(path)
    assert str(caught.value.problems[0]) == f"{path}:{line}: {field}: {message}"


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such blueprint file: .*nope.yaml"):
        load_blueprint(tmp_path / "nope.yaml")


def blueprint(**overrides: object) -> Blueprint:
    values: dict[str, object] = dict(
        programme="T", scored=20, pretest=4, duration_minutes=30,
        domains=domain_weights({"a": 50, "b": 30, "c": 20}),
        question_types=(TypeShare("direct", Fraction(100), Fraction(0)),),
        anchor_size=5,
        information=InformationTarget(0.0, (0.0,), (4.0,), 0.1))
    values.update(overrides)
    return Blueprint(**values)  # type: ignore[arg-type]


def test_a_blueprint_built_in_code_is_checked_too() -> None:
    bp = blueprint()
    assert bp.domain_counts() == {"a": 10, "b": 6, "c": 4}
    assert bp.anchor_counts() == {"a": 3, "b": 1, "c": 1}  # 2.5, 1.5, 1: ties to the larger
    assert bp.type_bounds() == {"direct": (20, 20), "scenario-based": (0, 0),
                                "best-practice": (0, 0)}
    with pytest.raises(ValueError, match="domains: the weights must add up to 100 percent, "
                                         "they add up to 90"):
        blueprint(domains=(DomainWeight("a", Fraction(90)),))
    with pytest.raises(ValueError, match="anchor.size: an anchor of 21 items does not fit"):
        blueprint(anchor_size=21)
    with pytest.raises(ValueError, match="scored: must be a whole number, got 2.5"):
        blueprint(scored=2.5)
    with pytest.raises(ValueError, match="question_types.essay: unknown question type"):
        blueprint(question_types=(TypeShare("essay", Fraction(100), Fraction(0)),))
    with pytest.raises(ValueError, match="information.target: needs one value per offset"):
        blueprint(information=InformationTarget(0.0, (0.0, 1.0), (4.0,), 0.1))
    with pytest.raises(ValueError, match="domains: a domain is listed twice"):
        blueprint(domains=domain_weights({"a": 50}) * 2)
