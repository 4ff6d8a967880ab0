"""``make bench-assembly``: two parallel forms of the reference programme from 2,000 items.

Data (generated first, not timed): a seeded simulated bank of ``--items`` items for the
reference programme's blueprint (item_bank/blueprints/ccm.yaml: 180 = 150 scored + 30
pretest, a 30-item anchor):

* domains in proportion to the blueprint's weights (a multinomial draw);
* about 10 % of the items in scenario sets of 2-4 questions (scenario-based type, each
  question with its own domain); the other items direct or best-practice (55/45);
* about 5 % pretest status, 2 % retired (ignored), the rest operational; a set has one
  status for all its questions;
* Rasch difficulties b ~ N(0, 1);
* enemy pairs: 2 % of the items paired with another item of the same sub-domain.

Timed: ``item_bank.assembly.assemble`` (model building, HiGHS, layout and the constraint
report), which must finish in at most 60 s. Printed: the time, the solver's status, gap,
objective and bound, the model size, and every constraint's target and achieved value on
every form. Exit status 0 only when the time target is met and every constraint holds.

Usage::

    python -m bench.assembly
    python -m bench.assembly --items 3000 --forms 3 --seed 7 --time-limit 50
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence

import numpy as np
import scipy

from item_bank.assembly import AssemblyError, PoolItem, assemble
from item_bank.blueprint import Blueprint, blueprint_path, load_blueprint

TARGET_S = 60.0
SUBDOMAINS = 6  # per domain, as in item_bank/content/ccm/programme.yaml


def simulate_bank(blueprint: Blueprint, n_items: int, seed: int) -> list[PoolItem]:
    """A seeded bank shaped like a real one (see the module docstring)."""
    rng = np.random.default_rng(seed)
    domains = list(blueprint.domain_codes)
    weights = np.array([float(d.percent) for d in blueprint.domains]) / 100.0
    items: list[PoolItem] = []

    def status() -> str:
        u = rng.random()
        return "pretest" if u < 0.05 else "retired" if u < 0.07 else "operational"

    def one(code: str, kind: str, scenario: str | None, st: str) -> PoolItem:
        d = domains[rng.choice(len(domains), p=weights)]
        sub = f"{d}-{rng.integers(SUBDOMAINS) + 1}"
        return PoolItem(code, d, sub, kind, st, float(rng.normal(0.0, 1.0)), scenario)

    n_set_items = int(round(0.10 * n_items))
    s = 0
    while len(items) < n_set_items:
        size = int(rng.integers(2, 5))
        s += 1
        st = status()
        items += [one(f"S{s:04d}-{q + 1}", "scenario-based", f"S{s:04d}", st)
                  for q in range(size)]
    while len(items) < n_items:
        kind = "direct" if rng.random() < 0.55 else "best-practice"
        items.append(one(f"I{len(items):05d}", kind, None, status()))
    items = items[:n_items]
    # Enemy pairs within a sub-domain (items that cue each other's answers).
    by_sub: dict[str, list[int]] = {}
    for k, item in enumerate(items):
        by_sub.setdefault(item.subdomain or "", []).append(k)
    enemies: dict[int, list[str]] = {}
    for k in rng.choice(n_items, size=n_items // 50, replace=False):
        mates = [j for j in by_sub[items[k].subdomain or ""] if j != k]
        j = int(rng.choice(mates))
        enemies.setdefault(int(k), []).append(items[j].id)
    return [PoolItem(i.id, i.domain, i.subdomain, i.type, i.status, i.b, i.scenario,
                     tuple(enemies.get(k, ()))) for k, i in enumerate(items)]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.assembly", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=2000, help="bank size (default 2000)")
    p.add_argument("--forms", type=int, default=2, help="forms assembled together (2)")
    p.add_argument("--seed", type=int, default=1, help="seed of the bank and the forms (1)")
    p.add_argument("--time-limit", type=float, default=50.0,
                   help="seconds HiGHS may spend (default 50, under the 60 s target)")
    p.add_argument("--blueprint", default=str(blueprint_path("CCM")),
                   help="blueprint file (default: the reference programme's)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    blueprint = load_blueprint(args.blueprint)
    print(f"bench-assembly: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SciPy {scipy.__version__} (HiGHS), NumPy {np.__version__}")
    pool = simulate_bank(blueprint, args.items, args.seed)
    by_status = {s: sum(1 for i in pool if i.status == s)
                 for s in ("operational", "pretest", "retired")}
    sets = len({i.scenario for i in pool if i.scenario})
    print(f"bank: {len(pool):,} items ({', '.join(f'{n} {s}' for s, n in by_status.items())}), "
          f"{sets} scenario sets, {sum(len(i.enemies) for i in pool)} enemy pairs, "
          f"b ~ N(0, 1); seed {args.seed}")
    print(f"blueprint: {blueprint.source}: {blueprint.length} items = {blueprint.scored} scored "
          f"+ {blueprint.pretest} pretest, anchor {blueprint.anchor_size}, information target "
          f"{list(blueprint.information.target)} at theta {list(blueprint.information.thetas)} "
          f"(tolerance {blueprint.information.tolerance:g})\n")
    began = time.perf_counter()
    try:
        result = assemble(pool, blueprint, count=args.forms, seed=args.seed,
                          time_limit=args.time_limit)
    except AssemblyError as exc:
        print(f"FAIL after {time.perf_counter() - began:.2f} s: {exc}")
        return 1
    wall = time.perf_counter() - began
    print(result.format())
    passed = wall <= TARGET_S and result.ok
    print(f"\nassembly of {args.forms} forms from {len(pool):,} items: {wall:.2f} s "
          f"(target <= {TARGET_S:g} s) {'PASS' if wall <= TARGET_S else 'FAIL'}; "
          f"status {result.status}, gap {result.gap:.2%}, largest information deviation "
          f"{result.information_deviation:.3f}; every constraint holds: "
          f"{'yes' if result.ok else 'NO'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
