"""Test-wide settings: every test gets its own data directory and a test PII key."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "tests"))

# Under CI=true every skip fails the run, except the documented platform lacks (tests/ci_skips.py).
from ci_skips import pytest_make_collect_report, pytest_runtest_makereport  # noqa: E402, F401

# The same environment the Makefile sources (scripts/env.sh), for runs of pytest on its own.
os.environ.setdefault("AIRFLOW_HOME", str(ROOT / ".airflow"))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
for var, value in {
    "DO_NOT_TRACK": "1",
    "SCARF_ANALYTICS": "false",
    "GX_ANALYTICS_ENABLED": "False",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
}.items():
    os.environ.setdefault(var, value)

TEST_PII_KEY = "test-key-0123456789abcdef-not-a-real-secret"


@pytest.fixture(autouse=True, scope="session")
def _gx_state_outside_the_repo(tmp_path_factory: pytest.TempPathFactory):
    """Great Expectations results written by tests stay out of expectations/gx/uncommitted."""
    if "GRASSROOTS_GX_DIR" not in os.environ:
        os.environ["GRASSROOTS_GX_DIR"] = str(tmp_path_factory.mktemp("gx"))
    yield


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory (landing, raw, quarantine, warehouse) for one test."""
    d = tmp_path / "data"
    (d / "landing").mkdir(parents=True)
    monkeypatch.setenv("GRASSROOTS_DATA_DIR", str(d))
    monkeypatch.setenv("GRASSROOTS_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("GRASSROOTS_PII_KEY", TEST_PII_KEY)
    monkeypatch.delenv("GRASSROOTS_WAREHOUSE", raising=False)
    monkeypatch.delenv("GRASSROOTS_DEMO", raising=False)
    return d
