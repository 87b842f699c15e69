"""The one direction of flow (docs/architecture.md) is kept by import contracts that
import-linter checks (pyproject.toml, [tool.importlinter]); a break fails here. So does a
type error mypy finds in scanner/ (pyproject.toml, [tool.mypy])."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run(
        [lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


# Declarative schemas may be long: they are read as a table, not followed as code.
DECLARATIVE = {"scanner/store/schema.py"}
MAX_LINES = 450


def test_no_module_is_over_450_lines_declarative_schemas_aside():
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "scanner").rglob("*.py")
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert set(long) <= DECLARATIVE, long


def test_mypy_is_clean():
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (the test extra has it: pip install -e '.[test]')")
    # The cache outside the checkout, one per checkout: a second run checks only what changed.
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"mpscan-mypy-cache-{checkout}"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "scanner"],
        cwd=ROOT,
        env={**os.environ, "MYPY_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
