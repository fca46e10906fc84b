"""The pinned environments resolved to what the platform needs (a silent fallback would pass pip check)."""

from __future__ import annotations

import json
import subprocess
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DBT_PYTHON = ROOT / ".venv-dbt" / "bin" / "python"


def _major_minor(v: str) -> tuple[int, int]:
    major, minor = v.split(".")[:2]
    return int(major), int(minor)


def test_airflow_environment_versions() -> None:
    # Unpinned, pip resolves great-expectations 0.18 with the GX Airflow provider 0.3: never that.
    assert _major_minor(version("great-expectations"))[0] == 1
    assert _major_minor(version("apache-airflow"))[:1] == (3,) and _major_minor(
        version("apache-airflow")
    ) >= (3, 3)
    assert _major_minor(version("astronomer-cosmos")) >= (1, 15)
    assert version("duckdb") == "1.5.5"
    for ext in ("excel", "encodings", "postgres-scanner", "icu"):
        assert version(f"duckdb-extension-{ext}") == version("duckdb")


def test_dbt_environment_versions_and_one_duckdb() -> None:
    out = subprocess.run(
        [
            str(DBT_PYTHON),
            "-c",
            (
                "import json; from importlib.metadata import version as v; "
                "print(json.dumps({p: v(p) for p in ('dbt-core', 'dbt-duckdb', 'dbt-postgres', 'duckdb')}))"
            ),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    versions = json.loads(out.stdout)
    assert _major_minor(versions["dbt-core"]) == (1, 11)
    assert _major_minor(versions["dbt-duckdb"]) == (1, 11)
    assert _major_minor(versions["dbt-postgres"]) == (1, 11)
    # A DuckDB file written by one version must open in the other: one version everywhere.
    assert versions["duckdb"] == version("duckdb")


def test_lock_files_are_fully_pinned_with_hashes() -> None:
    for lock in (ROOT / "requirements").glob("*.lock"):
        lines = [ln for ln in lock.read_text().splitlines() if ln and not ln.startswith((" ", "#"))]
        assert lines, lock
        for line in lines:
            assert "==" in line and line.rstrip().endswith("\\"), f"{lock.name}: {line}"
