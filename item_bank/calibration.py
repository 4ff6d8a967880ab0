"""Banked Rasch difficulties for a new bank, from a seeded calibration on simulated responses.

A bank written from scratch has no response data, yet form assembly needs a difficulty
target. Until real pretesting replaces them (``python -m scoring calibrate`` on live
responses), each item gets a difficulty from this documented simulation:

1. A *generating* difficulty per item: the mean for its cognitive level (recall -0.7,
   application 0.0, analysis +0.7 logits; writers' judgement of how hard each kind of
   question is) plus an item-specific deviation drawn from N(0, 0.7^2) with a generator
   seeded from the programme seed and the item's id (so adding an item never changes the
   others).
2. Simulated candidates: ``candidates`` abilities from N(0.4, 1) (a certification
   population somewhat above the bank's centre), seeded; every candidate answers every item
   under the Rasch model.
3. Rasch conditional maximum likelihood (`scoring.irt.fit_rasch`, method ``cml``) on the
   simulated responses; the estimates (centred at zero over the bank, rounded to 0.01
   logit) are written into each item's ``difficulty`` field.

``python -m item_bank.calibration item_bank/content/ccm`` rewrites the files in place (only
the ``difficulty`` lines change); ``--check`` reports whether they are up to date.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from item_bank.authoring import load
from item_bank.model import CognitiveLevel, Item
from scoring.irt import fit_rasch

LEVEL_MEANS = {CognitiveLevel.RECALL: -0.7, CognitiveLevel.APPLICATION: 0.0,
               CognitiveLevel.ANALYSIS: 0.7}
ITEM_SD = 0.7
ABILITY_MEAN, ABILITY_SD = 0.4, 1.0
DEFAULT_SEED = 2026
DEFAULT_CANDIDATES = 4000


@dataclass(frozen=True)
class Calibration:
    """Generating and estimated difficulties, by item id, in the order of ``codes``."""

    codes: tuple[str, ...]
    generating: np.ndarray
    estimated: np.ndarray
    seed: int
    candidates: int

    def banked(self) -> dict[str, float]:
        """The difficulties to bank: estimates rounded to 0.01 logit."""
        return {c: round(float(b), 2) for c, b in zip(self.codes, self.estimated, strict=True)}


def _item_rng(seed: int, code: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{code}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def generating_difficulty(item: Item, seed: int) -> float:
    """Step 1: the level's mean plus the item's own seeded deviation."""
    mean = LEVEL_MEANS.get(item.level, 0.0) if item.level is not None else 0.0
    return mean + ITEM_SD * float(_item_rng(seed, item.code).standard_normal())


def calibrate(items: Sequence[Item], *, seed: int = DEFAULT_SEED,
              candidates: int = DEFAULT_CANDIDATES) -> Calibration:
    """Steps 1-3 for ``items``; deterministic for a seed."""
    if len(items) < 2:
        raise ValueError(f"calibration needs at least 2 items, got {len(items)}")
    if candidates < 100:
        raise ValueError(f"candidates must be at least 100, got {candidates}")
    codes = tuple(item.code for item in items)
    b = np.array([generating_difficulty(item, seed) for item in items])
    rng = np.random.default_rng(seed)
    theta = rng.normal(ABILITY_MEAN, ABILITY_SD, candidates)
    p = 1.0 / (1.0 + np.exp(-(theta[:, None] - b[None, :])))
    responses = (rng.random(p.shape) < p).astype(np.int8)
    estimated = fit_rasch(responses, method="cml").difficulty
    return Calibration(codes, b, estimated - estimated.mean(), seed, candidates)


_DIFFICULTY_LINE = re.compile(r"^(\s*)difficulty:.*\n", re.MULTILINE)


def _rewrite(text: str, banked: dict[str, float]) -> str:
    """The file's text with each item's ``difficulty`` set, everything else untouched.

    The line goes right after the item's ``key:`` line, at the same indentation (an
    existing ``difficulty:`` line of that item is replaced).
    """
    root = yaml.compose(text)
    lines = text.splitlines(keepends=True)
    inserts: list[tuple[int, str]] = []  # (line index after which to insert, text)
    removals: set[int] = set()

    def visit(node: yaml.MappingNode) -> None:
        fields = {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        if "id" in fields and "key" in fields and fields["id"][1].value in banked:
            key_node, key_value = fields["key"]
            if "difficulty" in fields:
                removals.add(fields["difficulty"][0].start_mark.line)
            indent = " " * key_node.start_mark.column
            value = banked[fields["id"][1].value]
            inserts.append((key_value.end_mark.line if key_value.end_mark.column == 0
                            else key_value.end_mark.line + 1, f"{indent}difficulty: {value}\n"))
        for _k, v in node.value:
            if isinstance(v, yaml.SequenceNode):
                for child in v.value:
                    if isinstance(child, yaml.MappingNode):
                        visit(child)

    if isinstance(root, yaml.MappingNode):
        visit(root)
    out: list[str] = []
    by_line = dict(inserts)
    for index, line in enumerate(lines):
        if index in by_line:
            out.append(by_line[index])
        if index not in removals:
            out.append(line)
    if len(lines) in by_line:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(by_line[len(lines)])
    return "".join(out)


def write_difficulties(root: Path, banked: dict[str, float]) -> list[Path]:
    """Rewrite every item file under ``root`` whose difficulties differ; returns them."""
    changed = []
    for path in sorted(root.rglob("*.yaml")):
        if path.name == "programme.yaml":
            continue
        text = path.read_text(encoding="utf-8")
        new = _rewrite(text, banked)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m item_bank.calibration",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a programme folder (with programme.yaml)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES)
    parser.add_argument("--check", action="store_true",
                        help="only report whether the files hold these difficulties")
    args = parser.parse_args(argv)
    batch = load(args.path)
    if batch.problems:
        for problem in batch.problems:
            print(problem, file=sys.stderr)
        return 2
    result = calibrate(batch.items, seed=args.seed, candidates=args.candidates)
    banked = result.banked()
    stale = [i.code for i in batch.items if i.difficulty != banked[i.code]]
    r = float(np.corrcoef(result.generating, result.estimated)[0, 1])
    print(f"{len(banked)} items, {args.candidates} simulated candidates, seed {args.seed}: "
          f"estimates vs generating r = {r:.3f}, range {min(banked.values()):.2f} .. "
          f"{max(banked.values()):.2f}")
    if args.check:
        print(f"{len(stale)} item(s) differ from the calibration")
        return 1 if stale else 0
    changed = write_difficulties(args.path, banked)
    print(f"wrote {len(changed)} file(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
