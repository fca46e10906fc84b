"""How Airflow runs the dbt project (through Cosmos).

dbt lives in its own virtualenv (its pins conflict with Airflow's), so Cosmos calls it as a
subprocess. The warehouse DAG runs one Cosmos `dbt build` task per layer: seeds + staging, then
intermediate + marts (the unit-month marts and the evaluation built on them). Measured here, a
Cosmos task per model costs 4–6 s of dbt start-up each, which made the demo's warehouse run five
times slower than a bare `dbt build`; each extra stage costs one dbt start-up and partial parse
(bench/warehouse_vs_dbt.py: three stages were 1.48× the bare build under load, two are below).
A failure still names the failing model (task log, `audit.dbt_test_results`, the run's findings),
a failed layer is retried on its own, and one model alone is rebuilt with the manual DAG
`grassroots_dbt_manual` (`select`).
"""

from __future__ import annotations

import os
from pathlib import Path

from grassroots.config import REPO_ROOT

DBT_PROJECT_DIR = Path(os.environ.get("GRASSROOTS_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project"))
DBT_EXECUTABLE = Path(os.environ.get("GRASSROOTS_DBT_EXECUTABLE", REPO_ROOT / ".venv-dbt" / "bin" / "dbt"))
DBT_TARGET = os.environ.get("GRASSROOTS_DBT_TARGET", "duckdb")

# (task id, dbt --select, dbt --exclude) in build order.
LAYERS: tuple[tuple[str, str, str | None], ...] = (
    ("dbt_staging", "resource_type:seed path:models/staging", None),
    ("dbt_marts", "path:models/intermediate path:models/marts", None),
)


def profile_config():
    from cosmos import ProfileConfig

    return ProfileConfig(
        profile_name="grassroots",
        target_name=DBT_TARGET,
        profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
    )


def build_operator_kwargs() -> dict:
    """Arguments shared by every Cosmos dbt operator of the project."""
    from cosmos.constants import InvocationMode

    return {
        "project_dir": str(DBT_PROJECT_DIR),
        "profile_config": profile_config(),
        "dbt_executable_path": str(DBT_EXECUTABLE),
        "invocation_mode": InvocationMode.SUBPROCESS,
        "install_deps": False,
        # Start from the partial-parse state of `make dbt-manifest` (and keep the newest one):
        # without it every Cosmos task re-parses the whole project (~5 s each).
        "cache_dir": Path(os.environ.get("GRASSROOTS_COSMOS_CACHE", REPO_ROOT / ".cosmos_cache")),
        # dbt needs the warehouse location and the rest of the platform's environment.
        "append_env": True,
        "env": {"DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        "emit_datasets": False,
        # A test runs in the stage where all it reads exists: with dbt's default (eager) a
        # reconciliation of a staging model with a mart would run in the staging stage.
        "indirect_selection": "buildable",
        # Called with the temporary project dir after dbt ran (also when tests failed): every test
        # result goes to audit.dbt_test_results for the auditors.
        "callback": "grassroots.dbt_results.cosmos_callback",
    }
