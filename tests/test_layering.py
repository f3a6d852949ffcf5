"""The architecture's layering holds: the import-linter contracts in pyproject.toml (catalog and capacity below
everything, config the ground floor above them, planning pure, no two sibling modules import each other) are
all kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_every_import_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 broken" in result.stdout, result.stdout
    for contract in (
        "catalog and capacity are the bedrock",
        "config is the ground floor",
        "planning is pure functions",
        "no import cycles",
    ):
        assert contract in result.stdout, f"the contract '{contract}' is gone from pyproject.toml"
