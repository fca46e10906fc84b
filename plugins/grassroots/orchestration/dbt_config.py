"""How Airflow runs the dbt project (through Cosmos).

dbt lives in its own virtualenv (its pins conflict with Airflow's), so Cosmos calls it as a
subprocess. The warehouse DAG runs one Cosmos `dbt build` task per stage (seeds + staging; the
unit-month marts; the evaluation built on them: reallocation plan and scorecard). Measured here,
a Cosmos task per model costs 4–6 s of dbt start-up each, which made the demo's warehouse run
five times slower than a bare `dbt build`; per-stage tasks keep it close to the bare build, a
failure still names the failing model (in the task log and in `audit.dbt_test_results`), and a
failed stage is retried on its own.
"""

from __future__ import annotations

import os
from pathlib import Path

from grassroots.config import REPO_ROOT

DBT_PROJECT_DIR = Path(os.environ.get("GRASSROOTS_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project"))
DBT_EXECUTABLE = Path(os.environ.get("GRASSROOTS_DBT_EXECUTABLE", REPO_ROOT / ".venv-dbt" / "bin" / "dbt"))
DBT_TARGET = os.environ.get("GRASSROOTS_DBT_TARGET", "duckdb")

# (task id, dbt --select, dbt --exclude) in build order. The evaluation models read the unit-month
# marts, so they form the last stage.
EVALUATION = "int_reallocation_targets+ int_scorecard_indicator_values+"
LAYERS: tuple[tuple[str, str, str | None], ...] = (
    ("dbt_staging", "resource_type:seed path:models/staging", None),
    ("dbt_marts", "path:models/intermediate path:models/marts", EVALUATION),
    ("dbt_evaluation", EVALUATION, None),
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
