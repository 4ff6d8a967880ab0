"""item_bank.calibration: seeded banked difficulties written into the authoring files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from item_bank.authoring import load
from item_bank.calibration import _rewrite, calibrate, generating_difficulty, main

CONTENT = Path(__file__).resolve().parents[2] / "item_bank" / "content" / "ccm"


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    """A small programme folder: the programme file, a standalone item and a scenario set."""
    root = tmp_path / "ccm"
    (root / "care-coordination").mkdir(parents=True)
    (root / "scenarios").mkdir()
    shutil.copy(CONTENT / "programme.yaml", root)
    shutil.copy(CONTENT / "care-coordination" / "CCM-CC-0001.yaml", root / "care-coordination")
    shutil.copy(CONTENT / "scenarios" / "CCM-S-0001.yaml", root / "scenarios")
    return root


def _strip_difficulty(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True)
                   if not line.lstrip().startswith("difficulty:"))


def test_writes_only_difficulty_lines_and_the_files_stay_valid(bank: Path) -> None:
    before = {p: p.read_text() for p in bank.rglob("*.yaml")}

    assert main([str(bank)]) == 0

    batch = load(bank)
    assert batch.problems == ()
    assert all(isinstance(item.difficulty, float) for item in batch.items)
    for path, text in before.items():
        assert _strip_difficulty(path.read_text()) == _strip_difficulty(text)
    assert main([str(bank), "--check"]) == 0


def test_rerunning_changes_nothing_and_a_stale_value_is_replaced(bank: Path) -> None:
    assert main([str(bank)]) == 0
    item_file = bank / "care-coordination" / "CCM-CC-0001.yaml"
    calibrated = item_file.read_text()
    assert main([str(bank)]) == 0
    assert item_file.read_text() == calibrated

    item_file.write_text(_rewrite(calibrated, {"CCM-CC-0001": 5.5}))
    assert main([str(bank), "--check"]) == 1
    assert main([str(bank)]) == 0
    assert item_file.read_text() == calibrated
    assert calibrated.count("difficulty:") == 1


def test_rewrite_places_the_line_after_each_items_key_at_its_indentation() -> None:
    text = _strip_difficulty((CONTENT / "scenarios" / "CCM-S-0001.yaml").read_text())
    out = _rewrite(text, {"CCM-S-0001-1": 0.25, "CCM-S-0001-3": -1.5})
    parsed = yaml.safe_load(out)
    assert [q.get("difficulty") for q in parsed["questions"]] == [0.25, None, -1.5]
    assert "difficulty" not in parsed  # the set itself has no key


def test_calibration_is_deterministic_and_recovers_the_generating_difficulties(
    bank: Path,
) -> None:
    items = load(bank).items
    first = calibrate(items, seed=7, candidates=3000)
    assert first.banked() == calibrate(items, seed=7, candidates=3000).banked()
    assert first.banked() != calibrate(items, seed=8, candidates=3000).banked()
    assert abs(float(first.estimated.mean())) < 1e-9
    # 3,000 simulated candidates estimate each difficulty to about 0.05 logit.
    centred = first.generating - first.generating.mean()
    assert np.max(np.abs(first.estimated - centred)) < 0.25


def test_an_items_generating_difficulty_depends_only_on_its_id_level_and_seed(
    bank: Path,
) -> None:
    items = load(bank).items
    assert [generating_difficulty(i, 1) for i in items] == \
        [generating_difficulty(i, 1) for i in reversed(items)][::-1]
    assert generating_difficulty(items[0], 1) != generating_difficulty(items[0], 2)


def test_bad_input_is_refused(bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = load(bank).items
    with pytest.raises(ValueError, match="at least 2 items"):
        calibrate(items[:1])
    with pytest.raises(ValueError, match="candidates must be at least 100"):
        calibrate(items, candidates=10)
    broken = bank / "care-coordination" / "CCM-CC-0001.yaml"
    broken.write_text(broken.read_text().replace("key: B", "key: Z"))
    before = {p: p.read_text() for p in bank.rglob("*.yaml")}
    assert main([str(bank)]) == 2
    assert "CCM-CC-0001.yaml" in capsys.readouterr().err
    assert {p: p.read_text() for p in bank.rglob("*.yaml")} == before
