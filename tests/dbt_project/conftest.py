"""Shared set-up for the dbt project tests: import path, marker, dbt executable."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

for p in (REPO_ROOT / "plugins", Path(__file__).resolve().parent):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "dbt: runs the real dbt CLI against a warehouse (slow-ish)")


def dbt_executable() -> str | None:
    """$GRASSROOTS_DBT_BIN, else the project's .venv-dbt, else dbt on PATH."""
    candidates = [
        os.environ.get("GRASSROOTS_DBT_BIN"),
        str(REPO_ROOT / ".venv-dbt" / "bin" / "dbt"),
        shutil.which("dbt"),
    ]
    for c in candidates:
        if c and Path(c).exists():
            return c
    return None


@pytest.fixture(scope="session")
def dbt_bin() -> str:
    exe = dbt_executable()
    if exe is None:
        pytest.skip("dbt is not installed (set GRASSROOTS_DBT_BIN or create .venv-dbt)")
    return exe
