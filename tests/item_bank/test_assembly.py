"""Form assembly: every constraint holds on random banks, the same seed gives the same forms,
and a bank that cannot meet the blueprint is explained (which domain, by how many items).

The random banks *plant* a solution: the generator first lays out forms that meet the
blueprint (anchor, unique items, pretest items, whole scenario sets), then adds distractor
items and enemy pairs that the planted forms do not violate. So the solver must always find
an assembly, and every property below is checked from the pool itself, not from the report.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from item_bank.assembly import (
    AssemblyError,
    AssemblyInfeasible,
    AssemblyResult,
    AssemblyTimeout,
    BankTooSmall,
    PoolItem,
    Role,
    assemble,
)
from item_bank.blueprint import (
    QUESTION_TYPES,
    Blueprint,
    DomainWeight,
    InformationTarget,
    TypeShare,
    apportion,
    blueprint_path,
    domain_weights,
    load_blueprint,
)

OFFSETS = (-0.5, 0.0, 0.5)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Tiny banks can make the information target unreachable; proving the best fit then takes
# HiGHS long. A node limit stops it at the same point on any machine.
NODES = 200


def rasch_information(theta: float, b: list[float]) -> float:
    p = 1.0 / (1.0 + np.exp(-(theta - np.asarray(b, dtype=float))))
    return float(np.sum(p * (1.0 - p)))


@dataclass(frozen=True)
class Case:
    pool: tuple[PoolItem, ...]
    blueprint: Blueprint
    count: int


@st.composite
def planted(draw: st.DrawFn, max_forms: int = 3) -> Case:
    """A blueprint (2-3 domains, 6-20 scored items) and a bank with a planted solution."""
    r: random.Random = draw(st.randoms(use_true_random=False))
    domains = [f"d{j}" for j in range(draw(st.integers(2, 3)))]
    scored = draw(st.integers(6, 20))
    cuts = sorted(draw(st.lists(st.integers(1, scored - 1), min_size=len(domains) - 1,
                                max_size=len(domains) - 1, unique=True)))
    counts = dict(zip(domains, [b - a for a, b in zip([0, *cuts], [*cuts, scored],
                                                      strict=True)], strict=True))
    weights = [(d, Fraction(100 * n, scored)) for d, n in counts.items()]
    pretest = draw(st.integers(0, 4))
    forms = draw(st.integers(1, max_forms))
    anchor = draw(st.integers(0, min(6, scored)))
    shares = apportion(anchor, weights)

    # Slots of the planted forms: (domain, type, status, forms it is on).
    every = frozenset(range(forms))
    anchor_slots = [(d, r.choice(QUESTION_TYPES), "operational", every)
                    for d, m in shares.items() for _ in range(m)]
    segments = [anchor_slots]
    for f in range(forms):
        unique = [(d, r.choice(QUESTION_TYPES), "operational", frozenset({f}))
                  for d, n in counts.items() for _ in range(n - shares[d])]
        extra = [(r.choice(domains), r.choice(QUESTION_TYPES), "pretest", frozenset({f}))
                 for _ in range(pretest)]
        segments.append(unique + extra)
    # Extra items the planted forms do not use, some of them not usable at all.
    segments.append([(r.choice(domains), r.choice(QUESTION_TYPES),
                      r.choice(["operational", "operational", "pretest", "draft", "retired"]),
                      frozenset()) for _ in range(r.randint(0, 12))])

    rows: list[tuple[str, str, str, str, frozenset[int], str | None]] = []
    sets = 0
    for segment in segments:
        r.shuffle(segment)
        while segment:
            size = min(len(segment), r.choice([1, 1, 1, 2, 3, 4]))
            chunk, segment = segment[:size], segment[size:]
            scenario = None
            if size > 1:
                sets += 1
                scenario = f"S{sets}"
            for d, t, status, on in chunk:
                rows.append((f"I{len(rows)}", d, t, status, on, scenario))

    # Enemy pairs that no planted form breaks (and none inside a planted set).
    enemies: dict[str, list[str]] = {}
    for _ in range(r.randint(0, 12)):
        a, b = r.sample(rows, 2) if len(rows) > 1 else (rows[0], rows[0])
        if a is b or a[4] & b[4] or (a[5] is not None and a[5] == b[5] and a[4]):
            continue
        enemies.setdefault(a[0], []).append(b[0])
        if r.random() < 0.3:  # sometimes both items name the other
            enemies.setdefault(b[0], []).append(a[0])
    difficulty = {row[0]: round(max(-4.0, min(4.0, r.gauss(0.0, 1.0))), 3) for row in rows}
    pool = [PoolItem(i, d, None, t, s, difficulty[i], scenario, tuple(enemies.get(i, ())))
            for i, d, t, s, _, scenario in rows]
    r.shuffle(pool)

    # Type mix: form 0's counts, with a tolerance that every planted form meets.
    by_form = [Counter(t for _, _, t, s, on, _ in rows if s == "operational" and f in on)
               for f in range(forms)]
    types = tuple(TypeShare(t, Fraction(100 * by_form[0][t], scored),
                            Fraction(100 * max(abs(c[t] - by_form[0][t]) for c in by_form),
                                     scored) + r.choice([0, 0, 5, 10]))
                  for t in QUESTION_TYPES)
    cut = round(r.uniform(-1.0, 1.0), 2)
    form0 = [difficulty[i] for i, _, _, s, on, _ in rows if s == "operational" and 0 in on]
    target = tuple(round(rasch_information(cut + o, form0), 3) for o in OFFSETS)
    bp = Blueprint(programme="T", scored=scored, pretest=pretest, duration_minutes=60,
                   domains=tuple(DomainWeight(d, w) for d, w in weights), question_types=types,
                   anchor_size=anchor,
                   information=InformationTarget(cut, OFFSETS, target,
                                                 r.choice([0.05, 0.2, 0.5])))
    assert bp.domain_counts() == counts
    return Case(tuple(pool), bp, forms)


def verify(result: AssemblyResult, case: Case) -> None:
    """Every constraint, counted from the pool and the forms (not from the report)."""
    bp, pool = case.blueprint, {i.id: i for i in case.pool}
    set_members: dict[str, list[str]] = {}
    for item in case.pool:
        if item.scenario is not None:
            set_members.setdefault(item.scenario, []).append(item.id)
    assert len(result.forms) == case.count
    anchor = set(result.anchor)
    assert len(anchor) == bp.anchor_size
    assert Counter(pool[i].domain for i in anchor) == +Counter(bp.anchor_counts())
    seen: Counter[str] = Counter()
    bounds = bp.type_bounds()
    for form in result.forms:
        items = list(form.items)
        seen.update(items)
        assert len(items) == len(set(items)) == bp.length
        roles = dict(zip(items, form.roles, strict=True))
        scored = [pool[i] for i in items if roles[i] != Role.PRETEST]
        assert len(scored) == bp.scored and len(form.pretest) == bp.pretest
        assert all(i.status == "operational" for i in scored)
        assert all(pool[i].status == "pretest" for i in form.pretest)
        assert {i for i in items if roles[i] == Role.ANCHOR} == anchor
        assert Counter(i.domain for i in scored) == +Counter(bp.domain_counts())
        for t, (low, high) in bounds.items():
            assert low <= sum(1 for i in scored if i.type == t) <= high, t
        on = set(items)
        for i in items:
            assert not set(pool[i].enemies) & on, f"{i} shares form {form.number} with an enemy"
        for members in set_members.values():
            if on & set(members):
                positions = [items.index(m) for m in members]  # raises if the set is split
                assert positions == list(range(positions[0], positions[0] + len(members)))
        assert form.pretest_positions == tuple(p for p, i in enumerate(items, 1)
                                               if roles[i] == Role.PRETEST)
        for theta, target in zip(bp.information.thetas, bp.information.target, strict=True):
            achieved = rasch_information(theta, [i.b for i in scored])
            assert abs(achieved - target) <= result.information_deviation + 1e-9
            if result.status == "optimal" and result.objective <= bp.information.tolerance:
                assert abs(achieved - target) <= bp.information.tolerance + 1e-5
            check = next(c for c in form.checks if c.name == f"theta {theta:+.2f}")
            assert check.achieved == pytest.approx(achieved, abs=1e-9)
        assert form.ok and all(c.ok for c in form.checks if c.hard)
    # Nothing but the anchor is on two forms.
    assert {i for i, n in seen.items() if n > 1} == (anchor if case.count > 1 else set())
    # The solver's y bounds every deviation (up to HiGHS's feasibility tolerance, 1e-6).
    assert result.information_deviation <= result.objective + 1e-5
    assert result.ok


@FAST
@given(case=planted(), seed=st.integers(0, 2**16))
def test_every_constraint_holds_on_random_banks(case: Case, seed: int) -> None:
    result = assemble(case.pool, case.blueprint, case.count, seed, time_limit=60,
                      node_limit=NODES)
    verify(result, case)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=planted(), seed=st.integers(0, 2**16))
def test_the_same_seed_gives_the_same_forms(case: Case, seed: int) -> None:
    first = assemble(case.pool, case.blueprint, case.count, seed, time_limit=60,
                     node_limit=NODES)
    again = assemble(case.pool, case.blueprint, case.count, seed, time_limit=60,
                     node_limit=NODES)
    assert first.status in ("optimal", "node limit")
    assert [(f.items, f.roles) for f in first.forms] == [(f.items, f.roles) for f in again.forms]
    assert first.anchor == again.anchor


def roomy_bank(n: int = 150, seed: int = 3) -> list[PoolItem]:
    """Plenty of items of each domain and type (a, b, c), 15 % pretest, a few sets."""
    rng = np.random.default_rng(seed)
    items = []
    for k in range(n):
        status = "pretest" if k % 7 == 0 else "operational"
        scenario = f"S{k // 3}" if k < 24 else None  # 8 sets of 3
        items.append(PoolItem(f"I{k:03d}", "abc"[k % 3], None, QUESTION_TYPES[k % 3], status,
                              float(rng.normal()), scenario))
    return items


def small_blueprint(**overrides: object) -> Blueprint:
    values: dict[str, object] = dict(
        programme="T", scored=20, pretest=4, duration_minutes=30,
        domains=domain_weights({"a": 50, "b": 30, "c": 20}),
        question_types=tuple(TypeShare(t, Fraction(100, 3), Fraction(20))
                             for t in QUESTION_TYPES),
        anchor_size=5, information=InformationTarget(0.0, OFFSETS, (4.5, 4.8, 4.5), 0.2))
    values.update(overrides)
    return Blueprint(**values)  # type: ignore[arg-type]


def test_seeds_pick_different_forms_and_pretest_positions() -> None:
    pool, bp = roomy_bank(), small_blueprint()
    results = [assemble(pool, bp, 2, seed) for seed in range(4)]
    for result in results:
        verify(result, Case(tuple(pool), bp, 2))
    assert len({r.forms[0].items for r in results}) > 1
    assert len({r.forms[0].pretest_positions for r in results}) > 1
    # Pretest items are spread through the form, not appended at the end.
    assert any(min(r.forms[0].pretest_positions) <= bp.scored for r in results)


def test_the_report_lists_each_constraint_with_target_and_achieved() -> None:
    pool, bp = roomy_bank(), small_blueprint()
    result = assemble(pool, bp, 2, 1)
    checks = {(c.kind, c.name): c for c in result.forms[1].checks}
    assert (checks["domain", "a"].target, checks["domain", "a"].achieved) == (10, 10)
    assert (checks["anchor", "a"].target, checks["anchor", "a"].achieved) == (3, 3)  # 2.5 -> 3
    low, high = checks["type", "direct"].low, checks["type", "direct"].high
    assert (low, high) == (3, 10)  # 20 x (33.3 +- 20) %: 2.67 to 10.67
    assert checks["enemies", "enemy pairs on the form"].achieved == 0
    assert checks["sets", "scenario sets split"].achieved == 0
    info = checks["information", "theta +0.00"]
    assert (info.target, info.low, info.high, info.hard) == (4.8, 4.6, 5.0, False)
    assert {(c.kind, c.name): c.achieved for c in result.checks} == {
        ("anchor", "anchor items"): 5, ("anchor", "anchor items missing from a form"): 0,
        ("overlap", "items on two forms outside the anchor"): 0}
    text = result.format()
    assert "form 2: 24 items (20 scored, 5 anchor, 4 pretest)" in text
    assert "domain a" in text and "information theta -0.50" in text
    assert result.status == "optimal" and result.on_target
    assert result.information_deviation <= 0.2 + 1e-6


def test_a_given_anchor_links_a_new_form_to_its_base_form() -> None:
    pool, bp = roomy_bank(), small_blueprint()
    base = assemble(pool, bp, 1, 5)
    assert len(base.anchor) == 5 and set(base.anchor) <= set(base.forms[0].scored)
    # The next window's forms: the base form's anchor, the base form's other items retired.
    used = set(base.forms[0].items) - set(base.anchor)
    rest = [i for i in pool if i.id not in used]
    new = assemble(rest, bp, 2, 6, anchor=base.anchor)
    assert new.anchor == base.anchor
    for form in new.forms:
        assert set(form.anchor) == set(base.anchor)
    verify(new, Case(tuple(rest), bp, 2))


@pytest.mark.parametrize(("anchor", "message"), [
    (["I999"], "I999: not in the pool"),
    (["I000", "I001", "I002", "I003", "I004"], "I000: status pretest, but anchor items are "
                                               "operational"),
    (["I001", "I002", "I004", "I005", "I008"], "I003: in scenario set S1 with anchor items, "
                                               "so must be in the anchor too"),
    (["I030", "I033"], "the anchor has 2 items; the blueprint asks for at least 5"),
    (["I030", "I033", "I036", "I039", "I031"], "c: 0 anchor items; proportional to the "
                                               "blueprint it needs at least 1"),
])
def test_a_bad_given_anchor_is_refused(anchor: list[str], message: str) -> None:
    with pytest.raises(AssemblyError, match=message):
        assemble(roomy_bank(), small_blueprint(), 2, 1, anchor=anchor)


def bank_with(operational: dict[str, int], pretest: int = 100,
              types: tuple[str, ...] = QUESTION_TYPES) -> list[PoolItem]:
    items = [PoolItem(f"{d}-{k}", d, None, types[k % len(types)], "operational",
                      (k % 9 - 4) / 4, None) for d, n in operational.items() for k in range(n)]
    domains = list(operational)
    items += [PoolItem(f"P{k}", domains[k % len(domains)], None, "direct", "pretest", 0.0, None)
              for k in range(pretest)]
    return items


CCM_OTHERS = {"assessment-planning": 80, "implementation-monitoring": 80, "evaluation": 60,
              "professional-practice": 80}


def test_the_reference_programme_short_of_care_coordination_items() -> None:
    bp = load_blueprint(blueprint_path("CCM"))
    pool = bank_with({"care-coordination": 60, **CCM_OTHERS})
    with pytest.raises(BankTooSmall) as caught:
        assemble(pool, bp, 2, 1)
    assert str(caught.value).splitlines() == [
        "the bank cannot fill 2 forms of CCM:",
        "  care-coordination: needs 65 scored items for 2 forms of 36 with a 30-item anchor "
        "(7 + 2 x 29 unique) but the bank has 60 usable operational items: 5 short"]
    (short,) = caught.value.shortages
    assert (short.kind, short.name, short.needed, short.available, short.short) == (
        "domain", "care-coordination", 65, 60, 5)


@FAST
@given(counts=st.lists(st.integers(1, 8), min_size=2, max_size=3), forms=st.integers(1, 3),
       anchor=st.integers(0, 6), short=st.integers(1, 5), data=st.data())
def test_a_short_domain_is_named_with_its_shortfall(counts: list[int], forms: int, anchor: int,
                                                    short: int, data: st.DataObject) -> None:
    domains = [f"d{j}" for j in range(len(counts))]
    scored = sum(counts)
    anchor = min(anchor, scored)
    bp = small_blueprint(scored=scored, pretest=2, anchor_size=anchor,
                         domains=tuple(DomainWeight(d, Fraction(100 * n, scored))
                                       for d, n in zip(domains, counts, strict=True)),
                         question_types=(TypeShare("direct", Fraction(100), Fraction(0)),))
    shares = bp.anchor_counts()
    needed = {d: shares[d] + forms * (n - shares[d]) for d, n in zip(domains, counts,
                                                                      strict=True)}
    victim = data.draw(st.sampled_from(domains))
    short = min(short, needed[victim])
    have = {d: needed[d] + (-short if d == victim else 3) for d in domains}
    pool = bank_with(have, pretest=2 * forms, types=("direct",))
    with pytest.raises(BankTooSmall) as caught:
        assemble(pool, bp, forms, 0)
    found = {s.name: s for s in caught.value.shortages}
    assert victim in found and f"{victim}: needs {needed[victim]} " in str(caught.value)
    assert found[victim].short == short and f": {short} short" in str(caught.value)
    # The total (and so the only type, direct) may be short as well; no other domain is.
    assert set(found) <= {victim, "scored items", "direct"}


def test_short_types_and_pretest_pool_are_all_reported() -> None:
    bp = small_blueprint()  # types 33.3 +- 20 %: 3 to 10 of each of 20 scored items
    pool = bank_with({"a": 40, "b": 30, "c": 20}, pretest=5, types=("direct", "scenario-based"))
    with pytest.raises(BankTooSmall) as caught:
        assemble(pool, bp, 2, 0)
    assert str(caught.value).splitlines()[1:] == [
        "  best-practice: needs 3 scored items (3 per form, at most 5 of them shared) but the "
        "bank has 0 usable operational best-practice items: 3 short",
        "  pretest: needs 8 pretest-status items for 2 forms of 4 but the bank has 5 usable: "
        "3 short"]


def test_unusable_sets_are_not_counted_and_say_why() -> None:
    bp = small_blueprint(anchor_size=0, pretest=0)
    pool = bank_with({"a": 10, "b": 6, "c": 4}, pretest=0)
    pool = [replace(i, scenario="S1") if i.id in ("a-0", "a-1") else i for i in pool]
    pool.append(PoolItem("a-draft", "a", None, "direct", "draft", 0.0, "S1"))
    with pytest.raises(BankTooSmall) as caught:
        assemble(pool, bp, 1, 0)
    assert str(caught.value).splitlines()[1:] == [
        "  a: needs 10 scored items for 1 form of 10 but the bank has 8 usable operational "
        "items: 2 short",
        "  scored items: needs 20 for 1 form (every domain together) but the bank has 18 usable "
        "operational items: 2 short",
        "  (scenario set S1 not used: a-draft is not operational or pretest)"]


def test_enemies_the_bank_cannot_avoid_are_blamed_by_the_solver() -> None:
    bp = small_blueprint(scored=4, pretest=0, anchor_size=0,
                         domains=domain_weights({"a": 50, "b": 50}),
                         question_types=(TypeShare("direct", Fraction(100), Fraction(0)),),
                         information=InformationTarget(0.0, (0.0,), (1.0,), 0.1))
    # Domain a needs 2 of its 3 items, but every two of them are enemies.
    pool = bank_with({"a": 3, "b": 5}, pretest=0, types=("direct",))
    pool = [replace(i, enemies=tuple(f"a-{k}" for k in range(3) if f"a-{k}" != i.id))
            if i.domain == "a" else i for i in pool]
    with pytest.raises(AssemblyInfeasible) as caught:
        assemble(pool, bp, 1, 0)
    text = str(caught.value)
    assert text.startswith("no assembly of 1 form(s) of T meets every constraint (HiGHS: ")
    assert "domain a: 2 per form (0 anchor); bank 3 usable operational items" in text
    assert "3 enemy pairs" in text
    assert caught.value.culprits == ("enemy",)
    assert "the bank meets every other constraint when the enemy constraints are dropped" in text


def test_whole_sets_that_cannot_make_the_count_are_explained() -> None:
    bp = small_blueprint(scored=4, pretest=0, anchor_size=0,
                         domains=domain_weights({"a": 75, "b": 25}),
                         question_types=(TypeShare("direct", Fraction(100), Fraction(0)),),
                         information=InformationTarget(0.0, (0.0,), (1.0,), 0.1))
    # Domain a needs 3 items; it has 4, but only as two sets of 2.
    pool = bank_with({"a": 4, "b": 3}, pretest=0, types=("direct",))
    pool = [replace(i, scenario=f"S{int(i.id[-1]) // 2}") if i.domain == "a" else i
            for i in pool]
    with pytest.raises(AssemblyInfeasible) as caught:
        assemble(pool, bp, 1, 0)
    assert caught.value.culprits == ()
    assert "2 scenario sets kept whole (sizes [2])" in str(caught.value)
    assert "no single group of constraints is to blame" in str(caught.value)


def test_mixed_sets_put_their_pretest_questions_in_pretest_slots() -> None:
    bp = small_blueprint(anchor_size=0, pretest=2)
    pool = roomy_bank()
    # Set S2 (I006-I008): I007 becomes a pretest question, the others stay operational.
    pool = [replace(i, status="pretest") if i.id == "I007" else
            replace(i, status="operational") if i.id in ("I006", "I008") else
            i for i in pool if i.status == "operational" or i.id in ("I006", "I007", "I008")]
    pool += [PoolItem("P-extra", "a", None, "direct", "pretest", 0.0, None)]
    result = assemble(pool, bp, 1, 0)
    verify(result, Case(tuple(pool), bp, 1))
    form = result.forms[0]
    roles = dict(zip(form.items, form.roles, strict=True))
    assert (roles["I006"], roles["I007"], roles["I008"]) == (Role.SCORED, Role.PRETEST,
                                                             Role.SCORED)
    assert set(form.pretest) == {"I007", "P-extra"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"count": 0}, "count must be a whole number of forms from 1 up, got 0"),
    ({"count": True}, "count must be a whole number"),
    ({"seed": -1}, "seed must be a whole number from 0 up, got -1"),
    ({"time_limit": 0}, "time_limit must be a positive number of seconds, got 0"),
    ({"gap": 1.5}, "gap must be from 0 to 1, got 1.5"),
    ({"anchor": "I001"}, "anchor must be a collection of item ids, not a string"),
    ({"node_limit": 0}, "node_limit must be a whole number from 1 up, got 0"),
])
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"count": 1, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=message):
        assemble(roomy_bank(), small_blueprint(), **args)  # type: ignore[arg-type]


def test_bad_pools() -> None:
    pool = roomy_bank()
    with pytest.raises(ValueError, match="item I000 is in the pool twice"):
        assemble([*pool, pool[0]], small_blueprint())
    with pytest.raises(ValueError, match=r"item X: domain 'z' is not in the blueprint of T "
                                         r"\(a, b, c\)"):
        assemble([*pool, PoolItem("X", "z", None, "direct", "operational", 0.0)],
                 small_blueprint())
    # A retired item of an old domain is simply not used.
    assemble([*pool, PoolItem("X", "z", None, "direct", "retired", 0.0)], small_blueprint())
    with pytest.raises(ValueError, match="item X: unknown question type 'essay'"):
        PoolItem("X", "a", None, "essay", "operational", 0.0)
    with pytest.raises(ValueError, match="item X: unknown status 'live'"):
        PoolItem("X", "a", None, "direct", "live", 0.0)
    with pytest.raises(ValueError, match="item X: difficulty b must be a finite number"):
        PoolItem("X", "a", None, "direct", "operational", math.nan)
    with pytest.raises(ValueError, match="item X: enemies must be a tuple of ids"):
        PoolItem("X", "a", None, "direct", "operational", 0.0, None, "Y")  # type: ignore[arg-type]


def test_the_time_limit_reaches_highs() -> None:
    with pytest.raises(AssemblyTimeout, match=r"HiGHS found no assembly of 2 form\(s\) of T "
                                              r"within 1e-09 s \(Time limit reached"):
        assemble(roomy_bank(), small_blueprint(), 2, 0, time_limit=1e-9)


def test_a_node_limit_stops_highs_at_the_same_forms_every_time() -> None:
    # An unreachable target (tolerance 0): HiGHS would search until the time limit.
    pool, bp = roomy_bank(), small_blueprint(
        information=InformationTarget(0.0, OFFSETS, (4.5, 4.8, 4.5), 0.0))
    runs = [assemble(pool, bp, 2, 3, node_limit=5) for _ in range(2)]
    assert [r.status for r in runs] == ["node limit", "node limit"]
    assert runs[0].nodes <= 6 and runs[0].forms == runs[1].forms
    verify(runs[0], Case(tuple(pool), bp, 2))
