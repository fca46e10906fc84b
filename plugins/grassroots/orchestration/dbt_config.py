"""Cosmos configuration for the dbt project, rendered from a precompiled manifest.

Rendering from `target/manifest.json` (LoadMode.DBT_MANIFEST) keeps DAG parsing cheap: no dbt
subprocess at parse time. `make dbt-manifest` (part of `make setup`) writes the manifest.
dbt lives in its own virtualenv, so Cosmos calls it as a subprocess.
"""

from __future__ import annotations

import os
from pathlib import Path

from grassroots.config import REPO_ROOT

DBT_PROJECT_DIR = Path(os.environ.get("GRASSROOTS_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project"))
DBT_MANIFEST = Path(os.environ.get("GRASSROOTS_DBT_MANIFEST", DBT_PROJECT_DIR / "target" / "manifest.json"))
DBT_EXECUTABLE = Path(os.environ.get("GRASSROOTS_DBT_EXECUTABLE", REPO_ROOT / ".venv-dbt" / "bin" / "dbt"))
DBT_TARGET = os.environ.get("GRASSROOTS_DBT_TARGET", "duckdb")


def cosmos_configs(select: list[str] | None = None):
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    if not DBT_MANIFEST.exists():
        raise FileNotFoundError(
            f"dbt manifest {DBT_MANIFEST} is missing: run `make dbt-manifest` (part of `make setup`)"
        )
    project = ProjectConfig(
        dbt_project_path=DBT_PROJECT_DIR,
        manifest_path=DBT_MANIFEST,
        env_vars={"DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    profile = ProfileConfig(
        profile_name="grassroots",
        target_name=DBT_TARGET,
        profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
    )
    mode = ExecutionMode(os.environ.get("GRASSROOTS_COSMOS_MODE", "watcher"))
    execution = ExecutionConfig(
        execution_mode=mode,
        invocation_mode=InvocationMode.SUBPROCESS,
        dbt_executable_path=str(DBT_EXECUTABLE),
    )
    render = RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        invocation_mode=InvocationMode.SUBPROCESS,
        dbt_executable_path=str(DBT_EXECUTABLE),
        test_behavior=TestBehavior.AFTER_EACH,
        select=select or [],
    )
    return project, profile, execution, render
