"""Paths and settings, all overridable from the environment.

Defaults are the embedded ones (DuckDB file, local landing zone under ``data/``) so that a fresh
clone runs without configuration; production sets the environment variables instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).resolve() if value else default


@dataclass(frozen=True)
class Settings:
    home: Path
    data_dir: Path
    landing_dir: Path
    raw_dir: Path
    quarantine_dir: Path
    warehouse_path: Path
    reports_dir: Path
    reference_dir: Path
    mappings_dir: Path
    dbt_project_dir: Path
    expectations_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        home = _path("GRASSROOTS_HOME", REPO_ROOT)
        data_dir = _path("GRASSROOTS_DATA_DIR", home / "data")
        return cls(
            home=home,
            data_dir=data_dir,
            landing_dir=_path("GRASSROOTS_LANDING_DIR", data_dir / "landing"),
            raw_dir=_path("GRASSROOTS_RAW_DIR", data_dir / "raw"),
            quarantine_dir=_path("GRASSROOTS_QUARANTINE_DIR", data_dir / "quarantine"),
            warehouse_path=_path("GRASSROOTS_WAREHOUSE", data_dir / "warehouse.duckdb"),
            reports_dir=_path("GRASSROOTS_REPORTS_DIR", home / "reports"),
            reference_dir=home / "include" / "reference",
            mappings_dir=home / "include" / "mappings",
            dbt_project_dir=home / "dbt_project",
            expectations_dir=home / "expectations",
        )


def settings() -> Settings:
    """Read settings now (not at import), so tests and DAG runs can point elsewhere."""
    return Settings.from_env()
