"""Blueprint-driven assembly of one or several parallel forms at once (docs/assembly.md).

:func:`assemble` takes a pool of :class:`PoolItem` (plain data: the caller adapts its bank),
a :class:`~item_bank.blueprint.Blueprint`, the number of forms and a seed, and solves one
mixed-integer programme with HiGHS (``scipy.optimize.milp``):

* a scenario set is one *block* with one binary variable per form (and one for the anchor),
  so a set is on a form whole or not at all; a standalone item is a block of one;
* every form has exactly the blueprint's scored items per domain, a question-type mix within
  its tolerances, and exactly its pretest items (pretest-status items only);
* the anchor (scored items common to *every* form) has the blueprint's size, split by
  domain like the blueprint; no other item is on two forms; enemies never share a form;
* the objective is the largest deviation, over forms and points around the cut, of the
  scored items' Rasch test information from the blueprint's target (minimax), floored at
  the blueprint's tolerance so that the solver stops once every form is on target.

The seed permutes the blocks before the model is built (HiGHS is deterministic for a given
model, so a seed always gives the same forms) and places the pretest blocks at random
positions. Before the solver runs, counting arguments name every domain, question type or
pretest pool that is too small, and by how many items.
"""

from __future__ import annotations

import enum
import math
import re
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from item_bank.blueprint import QUESTION_TYPES, Blueprint
from item_bank.model import Status
from scoring.irt.model import ItemParameters, information

STATUSES = tuple(s.value for s in Status)
OPERATIONAL = Status.OPERATIONAL.value
PRETEST = Status.PRETEST.value
DEFAULT_TIME_LIMIT = 60.0  # seconds, passed to HiGHS
DEFAULT_GAP = 0.01  # relative MIP gap: stop within 1 % of the best information fit
DIAGNOSIS_TIME_LIMIT = 10.0  # seconds per relaxed model when the full model is infeasible
_EPS = 1e-6


@dataclass(frozen=True)
class PoolItem:
    """One item version as assembly sees it.

    ``type`` is a question type (``direct``, ``scenario-based``, ``best-practice``);
    ``status`` an item status: only ``operational`` items can be scored and only ``pretest``
    items fill the pretest slots (others are ignored). ``b`` is the banked Rasch difficulty
    in logits. Items sharing a ``scenario`` form one set, in pool order.
    """

    id: str
    domain: str
    subdomain: str | None
    type: str
    status: str
    b: float
    scenario: str | None = None
    enemies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a pool item needs an id")
        if self.type not in QUESTION_TYPES:
            raise ValueError(f"item {self.id}: unknown question type {self.type!r}; "
                             f"known: {', '.join(QUESTION_TYPES)}")
        if self.status not in STATUSES:
            raise ValueError(f"item {self.id}: unknown status {self.status!r}; "
                             f"known: {', '.join(STATUSES)}")
        if not (isinstance(self.b, int | float) and math.isfinite(self.b)):
            raise ValueError(f"item {self.id}: difficulty b must be a finite number, "
                             f"got {self.b!r}")
        if isinstance(self.enemies, str):
            raise ValueError(f"item {self.id}: enemies must be a tuple of ids, not a string")


class Role(enum.StrEnum):
    """An item's part on a form: anchor items are scored and on every form."""

    SCORED = "scored"
    ANCHOR = "anchor"
    PRETEST = "pretest"


@dataclass(frozen=True)
class Check:
    """One constraint of one form (or of the whole assembly): target and achieved value.

    ``low``/``high`` is the accepted range. ``hard`` constraints are guaranteed by the
    solver; the information target is soft (the solver gets as close as it can).
    """

    kind: str
    name: str
    target: float
    low: float
    high: float
    achieved: float
    hard: bool = True

    @property
    def ok(self) -> bool:
        return self.low - _EPS <= self.achieved <= self.high + _EPS

    def describe_target(self) -> str:
        if self.kind == "information":
            return f"{self.target:.2f} +-{(self.high - self.low) / 2:.2f}"
        text = _num(self.target)
        if self.low != self.high:
            text += f" ({_num(self.low)}-{_num(self.high)})"
        return text


@dataclass(frozen=True)
class AssembledForm:
    """One form: its items in delivery order and each one's role."""

    number: int  # 1-based
    items: tuple[str, ...]
    roles: tuple[Role, ...]
    checks: tuple[Check, ...]

    @property
    def scored(self) -> tuple[str, ...]:
        """Scored items, anchor items included, in form order."""
        return tuple(i for i, r in zip(self.items, self.roles, strict=True) if r != Role.PRETEST)

    @property
    def anchor(self) -> tuple[str, ...]:
        return tuple(i for i, r in zip(self.items, self.roles, strict=True) if r == Role.ANCHOR)

    @property
    def pretest(self) -> tuple[str, ...]:
        return tuple(i for i, r in zip(self.items, self.roles, strict=True) if r == Role.PRETEST)

    @property
    def pretest_positions(self) -> tuple[int, ...]:
        """1-based positions of the pretest items."""
        return tuple(p for p, r in enumerate(self.roles, 1) if r == Role.PRETEST)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks if c.hard)


@dataclass(frozen=True)
class AssemblyResult:
    """Forms assembled together, with the solver's figures and every constraint's fit."""

    programme: str
    seed: int
    forms: tuple[AssembledForm, ...]
    anchor: tuple[str, ...]  # ids, sorted
    checks: tuple[Check, ...]  # across forms: anchor, overlap
    status: str  # "optimal", "time limit" or "node limit"
    solver_message: str
    objective: float  # the solver's y: the largest deviation, or the floor below the tolerance
    dual_bound: float
    gap: float  # relative MIP gap reported by HiGHS
    nodes: int
    seconds: float  # model building and solving
    variables: int
    constraints: int
    information_deviation: float  # largest |information - target|, recomputed from the forms
    notes: tuple[str, ...] = field(default=())  # sets not used, and why

    @property
    def ok(self) -> bool:
        """Every hard constraint holds on every form and across forms."""
        return all(f.ok for f in self.forms) and all(c.ok for c in self.checks if c.hard)

    @property
    def on_target(self) -> bool:
        """Every form's information is within the blueprint's tolerance of its target."""
        return all(c.ok for f in self.forms for c in f.checks if not c.hard)

    def format(self) -> str:
        """A plain-text report: solver figures, then each constraint per form."""
        lines = [
            f"{self.programme}: {len(self.forms)} form(s), seed {self.seed}: {self.status} in "
            f"{self.seconds:.2f} s ({self.variables} variables, {self.constraints} constraints, "
            f"{self.nodes} nodes, gap {self.gap:.2%})",
            f"largest information deviation {self.information_deviation:.3f} "
            f"(solver objective {self.objective:.3f}, bound {self.dual_bound:.3f})",
        ]
        lines += [f"note: {n}" for n in self.notes]
        lines.append(_table("all forms", self.checks))
        for form in self.forms:
            title = (f"form {form.number}: {len(form.items)} items ({len(form.scored)} scored, "
                     f"{len(form.anchor)} anchor, {len(form.pretest)} pretest)")
            lines.append(_table(title, form.checks))
        return "\n".join(lines)


@dataclass(frozen=True)
class Shortage:
    """A part of the blueprint the bank cannot fill, found by counting."""

    kind: str  # "domain", "type", "pretest" or "total"
    name: str
    needed: int
    available: int
    message: str

    @property
    def short(self) -> int:
        return self.needed - self.available


class AssemblyError(ValueError):
    """The pool and blueprint cannot give the forms asked for; the message says why."""


class BankTooSmall(AssemblyError):
    """Found before solving: ``shortages`` names each domain, type or pool that is short."""

    def __init__(self, header: str, shortages: Sequence[Shortage], notes: Sequence[str]) -> None:
        self.shortages = tuple(shortages)
        lines = [header, *(f"  {s.message}" for s in self.shortages), *(f"  ({n})" for n in notes)]
        super().__init__("\n".join(lines))


class AssemblyInfeasible(AssemblyError):
    """The counts allow it, but HiGHS proved no assembly meets every constraint."""

    def __init__(self, message: str, summary: Sequence[str], culprits: Sequence[str]) -> None:
        self.summary = tuple(summary)
        self.culprits = tuple(culprits)
        super().__init__("\n".join([message, *(f"  {s}" for s in summary)]))


class AssemblyTimeout(AssemblyError):
    """HiGHS found no assembly within the time limit (it may exist: allow more time)."""


# --- blocks: standalone items and whole scenario sets ----------------------------------------


@dataclass
class _Block:
    key: str
    items: list[PoolItem]

    @property
    def scored(self) -> list[PoolItem]:
        return [i for i in self.items if i.status == OPERATIONAL]

    @property
    def pretest(self) -> list[PoolItem]:
        return [i for i in self.items if i.status == PRETEST]

    @property
    def anchorable(self) -> bool:
        return all(i.status == OPERATIONAL for i in self.items)


@dataclass
class _Pool:
    blocks: list[_Block]  # usable, in seeded order
    enemies: list[tuple[int, int]]  # block index pairs
    notes: list[str]
    set_sizes: dict[str, int]  # every scenario set's question count in the pool


def _blocks(pool: Sequence[PoolItem], bp: Blueprint) -> _Pool:
    ids: set[str] = set()
    for item in pool:
        if item.id in ids:
            raise ValueError(f"item {item.id} is in the pool twice")
        ids.add(item.id)
    eligible = (OPERATIONAL, PRETEST)
    for item in pool:
        if item.status in eligible and item.domain not in bp.domain_codes:
            raise ValueError(f"item {item.id}: domain {item.domain!r} is not in the blueprint of "
                             f"{bp.programme} ({', '.join(bp.domain_codes)})")
    groups: dict[str, list[PoolItem]] = {}
    for item in pool:
        groups.setdefault(item.scenario if item.scenario is not None else "\0" + item.id,
                          []).append(item)
    set_sizes = {k: len(v) for k, v in groups.items() if not k.startswith("\0")}
    enemy_of: dict[str, set[str]] = {i.id: set() for i in pool}
    for item in pool:
        for other in item.enemies:
            if other in enemy_of and other != item.id:
                enemy_of[item.id].add(other)
                enemy_of[other].add(item.id)
    blocks, notes = [], []
    for key, items in groups.items():
        statuses = {i.status for i in items}
        if not statuses & set(eligible):
            continue  # drafts, items in review, retired items: not for forms
        name = key.lstrip("\0")
        if bad := [i.id for i in items if i.status not in eligible]:
            notes.append(f"scenario set {name} not used: {', '.join(bad)} "
                         f"{'is' if len(bad) == 1 else 'are'} not operational or pretest")
            continue
        members = {i.id for i in items}
        if inner := sorted(i.id for i in items if enemy_of[i.id] & members):
            notes.append(f"scenario set {name} not used: its questions {', '.join(inner)} are "
                         "enemies of each other")
            continue
        blocks.append(_Block(name, items))
    index = {i.id: b for b, block in enumerate(blocks) for i in block.items}
    pairs = sorted({(min(index[a], index[b]), max(index[a], index[b]))
                    for a, others in enemy_of.items() if a in index
                    for b in others if b in index})
    return _Pool(blocks, pairs, notes, set_sizes)


def _permute(pool: _Pool, seed: int) -> _Pool:
    """The same pool with its blocks in a seeded order: the seed picks among equal forms."""
    order = np.random.default_rng([seed, 0]).permutation(len(pool.blocks))
    new_index = np.empty(len(order), dtype=np.int64)
    new_index[order] = np.arange(len(order))
    pairs = sorted((min(int(new_index[a]), int(new_index[b])),
                    max(int(new_index[a]), int(new_index[b]))) for a, b in pool.enemies)
    return _Pool([pool.blocks[i] for i in order], pairs, pool.notes, pool.set_sizes)


# --- counting before solving ------------------------------------------------------------------


def _shortages(pool: _Pool, bp: Blueprint, count: int, anchor: set[int] | None) -> list[Shortage]:
    counts, types = bp.domain_counts(), bp.type_bounds()
    forms = f"{count} form{'s' if count > 1 else ''}"
    scored = [i for k, b in enumerate(pool.blocks) for i in b.scored
              if anchor is None or k not in anchor]
    given = [i for k in sorted(anchor or ()) for i in pool.blocks[k].scored]
    out: list[Shortage] = []

    def short(kind: str, name: str, needed: int, available: int, why: str) -> None:
        if needed > available:
            out.append(Shortage(kind, name, needed, available,
                                f"{name}: needs {needed} {why}: {needed - available} short"))

    if anchor is None:
        size, shares = bp.anchor_size, bp.anchor_counts()
        with_anchor = f"with a {size}-item anchor" if count > 1 and size else ""
        for d in bp.domain_codes:
            n, m = counts[d], shares[d]
            have = sum(1 for i in scored if i.domain == d)
            how = f"({m} + {count} x {n - m} unique)" if count > 1 and m else ""
            short("domain", d, m + count * (n - m), have,
                  " ".join(filter(None, [f"scored items for {forms} of {n}", with_anchor, how,
                                         f"but the bank has {have} usable operational items"])))
        for t, (low, _) in types.items():
            need = low + (count - 1) * max(0, low - size)
            have = sum(1 for i in scored if i.type == t)
            short("type", t, need, have, f"scored items ({low} per form, at most {size} of them "
                                         f"shared) but the bank has {have} usable operational "
                                         f"{t} items")
        need_all = size + count * (bp.scored - size)
        short("total", "scored items", need_all, len(scored),
              f"for {forms} (every domain together) but the bank has {len(scored)} usable "
              "operational items")
    else:
        for d in bp.domain_codes:
            g = sum(1 for i in given if i.domain == d)
            have = sum(1 for i in scored if i.domain == d)
            short("domain", d, count * (counts[d] - g), have,
                  f"unique scored items for {forms} ({counts[d]} per form, {g} in the given "
                  f"anchor) but the bank has {have} usable operational items outside the anchor")
        for t, (low, _) in types.items():
            g = sum(1 for i in given if i.type == t)
            have = sum(1 for i in scored if i.type == t)
            short("type", t, count * max(0, low - g), have,
                  f"unique scored items ({low} per form, {g} in the given anchor) but the bank "
                  f"has {have} usable operational {t} items outside the anchor")
    pretest = sum(len(b.pretest) for b in pool.blocks)
    short("pretest", "pretest", count * bp.pretest, pretest,
          f"pretest-status items for {forms} of {bp.pretest} but the bank has {pretest} usable")
    return out


def _anchor_blocks(pool: _Pool, bp: Blueprint, ids: Collection[str]) -> set[int]:
    """Block indices of a given anchor, checked: whole sets, operational, proportional."""
    index = {i.id: k for k, b in enumerate(pool.blocks) for i in b.items}
    items = {i.id: i for b in pool.blocks for i in b.items}
    problems = [f"{i}: not in the pool (or in a scenario set that cannot be used)"
                for i in sorted(ids) if i not in index]
    problems += [f"{i}: status {items[i].status}, but anchor items are operational"
                 for i in sorted(ids) if i in items and items[i].status != OPERATIONAL]
    blocks = {index[i] for i in ids if i in index}
    for k in sorted(blocks):
        block = pool.blocks[k]
        if missing := [i.id for i in block.items if i.id not in ids]:
            problems.append(f"{', '.join(missing)}: in scenario set {block.key} with anchor "
                            "items, so must be in the anchor too (sets are kept whole)")
    problems += [f"{pool.blocks[a].key} and {pool.blocks[b].key} are enemies and cannot both "
                 "be anchor items" for a, b in pool.enemies if a in blocks and b in blocks]
    if len(ids) < bp.anchor_size:
        problems.append(f"the anchor has {len(ids)} items; the blueprint asks for at least "
                        f"{bp.anchor_size}")
    counts, shares = bp.domain_counts(), bp.anchor_counts()
    for d in bp.domain_codes:
        g = sum(1 for i in ids if i in items and items[i].domain == d)
        if g < shares[d]:
            problems.append(f"{d}: {g} anchor items; proportional to the blueprint it needs at "
                            f"least {shares[d]}")
        if g > counts[d]:
            problems.append(f"{d}: {g} anchor items do not fit in its {counts[d]} scored items")
    for t, (_, high) in bp.type_bounds().items():
        g = sum(1 for i in ids if i in items and items[i].type == t)
        if g > high:
            problems.append(f"type {t}: {g} anchor items, more than the {high} a form may have")
    if problems:
        raise AssemblyError(f"the given anchor cannot be used for {bp.programme}:\n"
                            + "\n".join(f"  {p}" for p in problems))
    return blocks


# --- the model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Relax:
    """Constraint groups left out when looking for the cause of an infeasible model."""

    enemies: bool = False
    types: bool = False
    anchor_split: bool = False
    pretest: bool = False


class _Model:
    """The MILP: variable layout, constraint matrix and bounds.

    Columns: ``A[k]`` (block k is an anchor block, on every form) for the blocks that may be
    anchors (all questions operational; or the given anchor's blocks, fixed to 1);
    ``X[k, f]`` (block k is on form f, not as an anchor) for every usable block and form;
    and the continuous information deviation ``y``.
    """

    def __init__(self, pool: _Pool, bp: Blueprint, count: int, anchor: set[int] | None,
                 relax: _Relax = _Relax(), gap: float = 0.0) -> None:
        blocks = pool.blocks
        n = len(blocks)
        self.n, self.count = n, count
        # Anchor columns: the given anchor's blocks (fixed to 1), or every anchorable block
        # (a lone form's anchor is a proportional part of it, for the forms that follow).
        if anchor is not None:
            anchorable = sorted(anchor)
        elif bp.anchor_size > 0:
            anchorable = [k for k, b in enumerate(blocks) if b.anchorable]
        else:
            anchorable = []
        self.anchor_cols = {k: j for j, k in enumerate(anchorable)}
        base = len(self.anchor_cols)
        self.x0 = base
        self.y = base + n * count
        self.columns = self.y + 1
        domains = bp.domain_codes
        thetas = np.array(bp.information.thetas)
        target = np.array(bp.information.target)
        # Per block: scored questions per domain and type, pretest questions, information.
        dom = np.array([[sum(1 for i in b.scored if i.domain == d) for d in domains]
                        for b in blocks], dtype=float).reshape(n, len(domains))
        typ = np.array([[sum(1 for i in b.scored if i.type == t) for t in QUESTION_TYPES]
                        for b in blocks], dtype=float).reshape(n, len(QUESTION_TYPES))
        pre = np.array([len(b.pretest) for b in blocks], dtype=float)
        info = np.array([_information(thetas, [i.b for i in b.scored]) for b in blocks],
                        dtype=float).reshape(n, len(thetas))
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        lower: list[float] = []
        upper: list[float] = []
        self.groups: dict[str, int] = {}

        def row(entries: Iterable[tuple[int, float]], lo: float, hi: float, group: str) -> None:
            r = len(lower)
            for c, v in entries:
                if v:
                    rows.append(r)
                    cols.append(c)
                    vals.append(float(v))
            lower.append(lo)
            upper.append(hi)
            self.groups[group] = self.groups.get(group, 0) + 1

        def on_form(k: int, f: int, weight: float = 1.0) -> list[tuple[int, float]]:
            entries = [(self.x(k, f), weight)]
            if k in self.anchor_cols:
                entries.append((self.a(k), weight))
            return entries

        # A block is on at most one form unless it is an anchor block (then on none).
        for k in range(n):
            row([*([(self.a(k), 1.0)] if k in self.anchor_cols else []),
                 *((self.x(k, f), 1.0) for f in range(count))], 0, 1, "overlap")
        counts = bp.domain_counts()
        bounds = bp.type_bounds()
        for f in range(count):
            for j, d in enumerate(domains):
                row((e for k in np.flatnonzero(dom[:, j]) for e in on_form(k, f, dom[k, j])),
                    counts[d], counts[d], "domains")
            if not relax.types:
                for j, t in enumerate(QUESTION_TYPES):
                    low, high = bounds[t]
                    row((e for k in np.flatnonzero(typ[:, j]) for e in on_form(k, f, typ[k, j])),
                        low, high, "types")
            if not relax.pretest:
                row(((self.x(k, f), pre[k]) for k in np.flatnonzero(pre)),
                    bp.pretest, bp.pretest, "pretest")
            # |information - target| <= y at every point.
            for j in range(len(thetas)):
                entries = [e for k in range(n) for e in on_form(k, f, info[k, j])]
                row([*entries, (self.y, -1.0)], -np.inf, target[j], "information")
                row([*entries, (self.y, 1.0)], target[j], np.inf, "information")
            if not relax.enemies:
                for a, b in pool.enemies:
                    row([*on_form(a, f), *on_form(b, f)], 0, 1, "enemies")
        if self.anchor_cols and anchor is None:
            shares = bp.anchor_counts()
            if relax.anchor_split:
                row(((self.a(k), dom[k].sum()) for k in self.anchor_cols),
                    bp.anchor_size, bp.anchor_size, "anchor")
            else:
                for j, d in enumerate(domains):
                    row(((self.a(k), dom[k, j]) for k in self.anchor_cols if dom[k, j]),
                        shares[d], shares[d], "anchor")
        self.matrix = sparse.csr_array(
            sparse.coo_array((vals, (rows, cols)), shape=(len(lower), self.columns)))
        self.row_lower = np.array(lower)
        self.row_upper = np.array(upper)
        self.lb = np.zeros(self.columns)
        self.ub = np.ones(self.columns)
        if anchor is not None:
            self.lb[list(self.anchor_cols.values())] = 1.0
        # The floor: HiGHS stops once (y - bound) / y <= gap, and the bound is the floor
        # whenever the target is reachable, so every y it accepts is within the tolerance.
        self.lb[self.y] = bp.information.tolerance * (1.0 - gap)
        self.ub[self.y] = np.inf
        self.integrality = np.ones(self.columns)
        self.integrality[self.y] = 0

    def a(self, k: int) -> int:
        return self.anchor_cols[k]

    def x(self, k: int, f: int) -> int:
        return self.x0 + f * self.n + k

    def solve(self, time_limit: float, gap: float, node_limit: int | None = None,
              feasibility: bool = False) -> OptimizeResult:
        c = np.zeros(self.columns)
        if not feasibility:
            c[self.y] = 1.0
        options: dict[str, object] = {"time_limit": float(time_limit), "mip_rel_gap": float(gap),
                                      "disp": False, "presolve": True}
        if node_limit is not None:
            options["node_limit"] = int(node_limit)
        return milp(c, integrality=self.integrality, bounds=Bounds(self.lb, self.ub),
                    constraints=LinearConstraint(self.matrix, self.row_lower, self.row_upper),
                    options=options)


# HiGHS model status codes (HighsModelStatus) that scipy passes on in its message.
_HIGHS_OPTIMAL, _HIGHS_TIME_LIMIT, _HIGHS_SOLUTION_LIMIT = 7, 13, 16


def _highs_status(res: OptimizeResult) -> int | None:
    found = re.search(r"HiGHS Status (\d+)", str(res.message))
    return int(found.group(1)) if found else None


def _information(thetas: npt.NDArray[np.float64], b: Sequence[float]) -> npt.NDArray[np.float64]:
    """Rasch test information of items with difficulties ``b`` at each theta."""
    if not b:
        return np.zeros(len(thetas))
    return information(thetas, ItemParameters.create(b=np.asarray(b, dtype=float))).sum(axis=1)


# --- the public entry point -------------------------------------------------------------------


def assemble(
    pool: Sequence[PoolItem],
    blueprint: Blueprint,
    count: int = 1,
    seed: int = 0,
    time_limit: float = DEFAULT_TIME_LIMIT,
    anchor: Collection[str] | None = None,
    gap: float = DEFAULT_GAP,
    node_limit: int | None = None,
) -> AssemblyResult:
    """Assemble ``count`` parallel forms of ``blueprint`` from ``pool``.

    Parameters
    ----------
    pool : sequence of PoolItem
        The bank. Only operational items are scored and only pretest-status items fill the
        pretest slots; a scenario set is used only if every question in it is one of these.
    blueprint : Blueprint
        Counts, weights, question-type mix, anchor size and information target.
    count : int
        Number of forms assembled together (they share the anchor and nothing else).
    seed : int
        The same seed gives the same forms; it also places the pretest items.
    time_limit : float
        Seconds HiGHS may spend on the main model.
    anchor : collection of str, optional
        Ids of an existing base form's anchor items; by default the solver chooses them
        (for one form: a proportional subset of its scored items).
    gap : float
        Relative MIP gap at which HiGHS may stop improving the information fit (a fit
        within the blueprint's tolerance is always accepted as optimal).
    node_limit : int, optional
        Branch-and-bound nodes HiGHS may explore: a limit that, unlike time, gives the same
        forms on any machine.

    Raises
    ------
    BankTooSmall
        Before solving, when counting shows a domain, question type or the pretest pool is
        short (each one named with the shortfall).
    AssemblyInfeasible
        When HiGHS proves there is no solution; says which constraint groups are to blame.
    AssemblyTimeout
        When no solution was found within ``time_limit`` (or ``node_limit``).
    ValueError
        For bad arguments (count, seed, time limit, duplicate ids, unknown domains).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a whole number of forms from 1 up, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number from 0 up, got {seed!r}")
    if not (isinstance(time_limit, int | float) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if not (isinstance(gap, int | float) and 0 <= gap < 1):
        raise ValueError(f"gap must be from 0 to 1, got {gap!r}")
    if isinstance(anchor, str):
        raise ValueError("anchor must be a collection of item ids, not a string")
    if node_limit is not None and (isinstance(node_limit, bool) or not isinstance(
            node_limit, int) or node_limit < 1):
        raise ValueError(f"node_limit must be a whole number from 1 up, got {node_limit!r}")
    started = time.perf_counter()
    data = _permute(_blocks(pool, blueprint), seed)
    given = _anchor_blocks(data, blueprint, set(anchor)) if anchor is not None else None
    if shortages := _shortages(data, blueprint, count, given):
        raise BankTooSmall(f"the bank cannot fill {count} form{'s' if count > 1 else ''} of "
                           f"{blueprint.programme}:", shortages, data.notes)
    model = _Model(data, blueprint, count, given, gap=gap)
    res = model.solve(time_limit, gap, node_limit)
    highs = _highs_status(res)
    if res.status == 2:
        raise _infeasible(data, blueprint, count, given, res, time_limit)
    what = f"{count} form(s) of {blueprint.programme}"
    if highs == _HIGHS_TIME_LIMIT and res.x is None:
        raise AssemblyTimeout(f"HiGHS found no assembly of {what} within {time_limit:g} s "
                              f"({res.message}); allow more time")
    if highs == _HIGHS_SOLUTION_LIMIT and res.x is None:
        raise AssemblyTimeout(f"HiGHS found no assembly of {what} within {node_limit} nodes "
                              f"({res.message}); allow more nodes")
    if res.x is None or highs not in (_HIGHS_OPTIMAL, _HIGHS_TIME_LIMIT, _HIGHS_SOLUTION_LIMIT):
        raise AssemblyError(f"HiGHS stopped without an assembly of {what}: {res.message}")
    x = np.asarray(res.x) > 0.5
    anchor_blocks = {k for k, j in model.anchor_cols.items() if x[j]}
    on = [[k for k in range(model.n) if x[model.x(k, f)] or k in anchor_blocks]
          for f in range(count)]
    seconds = time.perf_counter() - started
    forms = tuple(_form(f + 1, data, blueprint, on[f], anchor_blocks, seed, anchor is not None)
                  for f in range(count))
    anchor_ids = tuple(sorted(i.id for k in anchor_blocks for i in data.blocks[k].items))
    deviation = max((abs(c.achieved - c.target) for form in forms for c in form.checks
                     if c.kind == "information"), default=0.0)
    return AssemblyResult(
        programme=blueprint.programme, seed=seed, forms=forms, anchor=anchor_ids,
        checks=_across(forms, blueprint, anchor_ids, anchor is not None),
        status={_HIGHS_OPTIMAL: "optimal", _HIGHS_TIME_LIMIT: "time limit"}.get(
            highs, "node limit"),
        solver_message=str(res.message),
        objective=float(res.fun),
        dual_bound=float(getattr(res, "mip_dual_bound", math.nan)),
        gap=float(getattr(res, "mip_gap", math.nan)),
        nodes=int(getattr(res, "mip_node_count", 0)),
        seconds=seconds, variables=model.columns, constraints=len(model.row_lower),
        information_deviation=deviation, notes=tuple(data.notes))


# --- ordering and reporting -------------------------------------------------------------------


def _form(number: int, pool: _Pool, bp: Blueprint, on: list[int], anchor: set[int],
          seed: int, given: bool) -> AssembledForm:
    """Lay a form out: blocks shuffled, pretest blocks at random block positions."""
    rng = np.random.default_rng([seed, 1, number])
    scored = [k for k in on if not pool.blocks[k].pretest]
    pretest = [k for k in on if pool.blocks[k].pretest]
    scored = [scored[i] for i in rng.permutation(len(scored))]
    pretest = [pretest[i] for i in rng.permutation(len(pretest))]
    slots = set(rng.choice(len(on), size=len(pretest), replace=False).tolist())
    s, p = iter(scored), iter(pretest)
    order = [next(p) if slot in slots else next(s) for slot in range(len(on))]
    items: list[str] = []
    roles: list[Role] = []
    for k in order:
        for item in pool.blocks[k].items:
            items.append(item.id)
            roles.append(Role.PRETEST if item.status == PRETEST
                         else Role.ANCHOR if k in anchor else Role.SCORED)
    return AssembledForm(number, tuple(items), tuple(roles),
                         _checks(pool, bp, items, roles, given))


def _checks(pool: _Pool, bp: Blueprint, items: list[str], roles: list[Role],
            given: bool) -> tuple[Check, ...]:
    """Every constraint of one form, counted again from the laid-out form itself."""
    by_id = {i.id: i for b in pool.blocks for i in b.items}
    scored = [by_id[i] for i, r in zip(items, roles, strict=True) if r != Role.PRETEST]
    anchor = [by_id[i] for i, r in zip(items, roles, strict=True) if r == Role.ANCHOR]
    pretest = [by_id[i] for i, r in zip(items, roles, strict=True) if r == Role.PRETEST]
    out = [Check("length", "items", bp.length, bp.length, bp.length, len(items)),
           Check("length", "scored items", bp.scored, bp.scored, bp.scored, len(scored)),
           Check("length", "pretest items", bp.pretest, bp.pretest, bp.pretest, len(pretest))]
    for d, n in bp.domain_counts().items():
        out.append(Check("domain", d, n, n, n, sum(1 for i in scored if i.domain == d)))
    targets = bp.type_targets()
    for t, (low, high) in bp.type_bounds().items():
        out.append(Check("type", t, targets.get(t, 0.0), low, high,
                         sum(1 for i in scored if i.type == t)))
    info = _information(np.array(bp.information.thetas), [i.b for i in scored])
    tol = bp.information.tolerance
    for theta, target, achieved in zip(bp.information.thetas, bp.information.target, info,
                                       strict=True):
        out.append(Check("information", f"theta {theta:+.2f}", target, target - tol,
                         target + tol, float(achieved), hard=False))
    if anchor or bp.anchor_size:
        counts = bp.domain_counts()
        for d, m in bp.anchor_counts().items():
            # A given anchor may have more than the proportional share (up to the domain).
            out.append(Check("anchor", d, m, m, counts[d] if given else m,
                             sum(1 for i in anchor if i.domain == d)))
    out.append(Check("enemies", "enemy pairs on the form", 0, 0, 0, _enemy_pairs(by_id, items)))
    positions: dict[str, list[int]] = {}
    for p, i in enumerate(items):
        if by_id[i].scenario is not None:
            positions.setdefault(by_id[i].scenario or "", []).append(p)
    split = sum(1 for s, ps in positions.items() if len(ps) != pool.set_sizes[s])
    apart = sum(1 for ps in positions.values() if ps[-1] - ps[0] != len(ps) - 1)
    out.append(Check("sets", "scenario sets split", 0, 0, 0, split))
    out.append(Check("sets", "scenario sets not contiguous", 0, 0, 0, apart))
    out.append(Check("status", "scored items not operational", 0, 0, 0,
                     sum(1 for i in scored if i.status != OPERATIONAL)))
    return tuple(out)


def _enemy_pairs(by_id: dict[str, PoolItem], items: Sequence[str]) -> int:
    on = set(items)
    pairs = {frozenset((i, e)) for i in items for e in by_id[i].enemies if e in on and e != i}
    return len(pairs)


def _across(forms: Sequence[AssembledForm], bp: Blueprint, anchor: Sequence[str],
            given: bool) -> tuple[Check, ...]:
    """Constraints between forms: the anchor is on every form, nothing else is shared."""
    size = len(anchor)
    low = bp.anchor_size
    out = [Check("anchor", "anchor items", bp.anchor_size, low, size if given else low, size)]
    missing = sum(1 for f in forms for i in anchor if i not in set(f.anchor))
    out.append(Check("anchor", "anchor items missing from a form", 0, 0, 0, missing))
    seen: dict[str, int] = {}
    for form in forms:
        for i in form.items:
            seen[i] = seen.get(i, 0) + 1
    shared = sum(1 for i, n in seen.items() if n > 1 and i not in set(anchor))
    out.append(Check("overlap", "items on two forms outside the anchor", 0, 0, 0, shared))
    return tuple(out)


def _infeasible(pool: _Pool, bp: Blueprint, count: int, anchor: set[int] | None,
                res: OptimizeResult, time_limit: float) -> AssemblyInfeasible:
    """Explain an infeasible model: its sizes, then which constraint group is to blame."""
    counts, shares, bounds = bp.domain_counts(), bp.anchor_counts(), bp.type_bounds()
    scored = [i for b in pool.blocks for i in b.scored]
    summary = [f"domain {d}: {counts[d]} per form ({shares[d]} anchor); "
               f"bank {sum(1 for i in scored if i.domain == d)} usable operational items"
               for d in bp.domain_codes]
    of_type = {t: sum(1 for i in scored if i.type == t) for t in bounds}
    summary += [f"type {t}: {lo}-{hi} per form; bank {of_type[t]} usable operational items"
                for t, (lo, hi) in bounds.items() if hi or of_type[t]]
    sets = [b for b in pool.blocks if len(b.items) > 1]
    summary.append(f"pretest: {bp.pretest} per form; bank "
                   f"{sum(len(b.pretest) for b in pool.blocks)} usable pretest items")
    summary.append((f"{len(sets)} scenario sets kept whole (sizes "
                    f"{sorted({len(b.items) for b in sets})})" if sets else "no scenario sets")
                   + f", {len(pool.enemies)} enemy pairs")
    culprits = []
    budget = min(DIAGNOSIS_TIME_LIMIT, time_limit)
    for name, relax in (("enemy", _Relax(enemies=True)), ("question-type mix", _Relax(types=True)),
                        ("anchor split by domain", _Relax(anchor_split=True)),
                        ("pretest count", _Relax(pretest=True))):
        if name.startswith("anchor") and (anchor is not None or not bp.anchor_size):
            continue
        trial = _Model(pool, bp, count, anchor, relax).solve(budget, 0.0, feasibility=True)
        if trial.x is not None:
            culprits.append(name)
    if culprits:
        summary.append("the bank meets every other constraint when the "
                       + " or the ".join(culprits) + " constraints are dropped")
    else:
        summary.append("no single group of constraints is to blame: domain counts, whole "
                       "scenario sets and the anchor together cannot be met")
    message = (f"no assembly of {count} form(s) of {bp.programme} meets every constraint "
               f"(HiGHS: {res.message}), although each domain, type and the pretest pool "
               "has enough items:")
    return AssemblyInfeasible(message, summary, culprits)


def _num(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def _table(title: str, checks: Iterable[Check]) -> str:
    lines = [title, f"  {'constraint':<44} {'target':>16} {'achieved':>9}  ok"]
    for c in checks:
        achieved = f"{c.achieved:.2f}" if c.kind == "information" else _num(c.achieved)
        lines.append(f"  {(c.kind + ' ' + c.name):<44} {c.describe_target():>16} "
                     f"{achieved:>9}  {'yes' if c.ok else 'NO'}")
    return "\n".join(lines)
