"""Build the dbt project for real (dbt CLI in a subprocess) on hand-made raw tables and check the
staffing-mismatch marts against hand-computed values, on DuckDB and on PostgreSQL.

Each test runs `dbt build` (models, data tests and unit tests) with its own target/log paths in a
temporary directory, so parallel runs don't collide.
"""

from __future__ import annotations

import math
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import DBT_PROJECT_DIR
from fixtures import (
    COUNTY_A,
    EXPECTED_COUNTY,
    EXPECTED_UNITS,
    JAN,
    TA,
    V1,
    V4,
    load_duckdb,
    load_postgres,
)

PG_DBNAME = os.environ.get("GRASSROOTS_TEST_PG_DBNAME", "grassroots_test")
PG_HOST = os.environ.get("GRASSROOTS_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("GRASSROOTS_PG_PORT", "5432")
PG_USER = os.environ.get("GRASSROOTS_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("GRASSROOTS_PG_PASSWORD", "")

UNIT_SQL = """
    select unit_code, month, resident_population, registered_population, staff_fte, staff_share,
           resident_share, registered_share, fair_share_staff, reallocation_delta, in_allocation_base
    from marts.mart_staffing_mismatch
"""
COUNTY_SQL = """
    select county_code, month, d_resident, d_registered, allocated_by_registration, county_staff_fte,
           staff_fte_outside_base, posts_to_reallocate
    from marts.mart_staffing_mismatch_county
"""


def run_dbt(dbt_bin: str, tmp_path: Path, target: str, env_extra: dict[str, str], *args: str):
    env = {
        **os.environ,
        **env_extra,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
    }
    cmd = [
        dbt_bin,
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        target,
        "--target-path",
        str(tmp_path / "target"),
        "--log-path",
        str(tmp_path / "logs"),
    ]
    started = time.monotonic()
    proc = subprocess.run(
        cmd, check=False, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({elapsed:.1f}s):\n{proc.stdout}\n{proc.stderr}"
    return proc, elapsed


def _close(actual, expected) -> bool:
    if expected is None or actual is None:
        return actual is expected or (actual is None and expected is None)
    if isinstance(expected, bool):
        return bool(actual) is expected
    return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-9)


def _as_date(value):
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def check_marts(unit_rows: list[tuple], county_rows: list[tuple]) -> None:
    # one row per unit and month, exactly the evaluated units × both months
    keys = [(r[0], _as_date(r[1])) for r in unit_rows]
    assert len(keys) == len(set(keys)), "duplicate unit-month rows"
    assert set(keys) == set(EXPECTED_UNITS), set(keys) ^ set(EXPECTED_UNITS)
    for row in unit_rows:
        key = (row[0], _as_date(row[1]))
        expected = EXPECTED_UNITS[key]
        for name, actual, exp in zip(
            (
                "resident",
                "registered",
                "staff_fte",
                "staff_share",
                "resident_share",
                "registered_share",
                "fair_share_staff",
                "reallocation_delta",
                "in_allocation_base",
            ),
            row[2:],
            expected,
        ):
            assert _close(actual, exp), f"{key} {name}: got {actual!r}, expected {exp!r}"

    ckeys = [(r[0], _as_date(r[1])) for r in county_rows]
    assert len(ckeys) == len(set(ckeys)), "duplicate county-month rows"
    assert set(ckeys) == set(EXPECTED_COUNTY)
    for row in county_rows:
        key = (row[0], _as_date(row[1]))
        for name, actual, exp in zip(
            (
                "d_resident",
                "d_registered",
                "allocated_by_registration",
                "county_staff_fte",
                "staff_fte_outside_base",
                "posts_to_reallocate",
            ),
            row[2:],
            EXPECTED_COUNTY[key],
        ):
            assert _close(actual, exp), f"{key} {name}: got {actual!r}, expected {exp!r}"

    # the reallocation plan keeps each county's total
    sums: dict = {}
    for row in unit_rows:
        if row[9] is not None:
            sums[(row[0][:6], _as_date(row[1]))] = sums.get((row[0][:6], _as_date(row[1])), 0.0) + float(
                row[9]
            )
    assert all(abs(s) < 1e-9 for s in sums.values()), sums


def check_other_models(query) -> None:
    """Staging dedupe, carry-forward and dim details, through a `query(sql) -> rows` callable."""
    # case versions: one row per case, latest version kept
    assert query(
        "select case_id, status, version_count from staging.stg_case_log__cases order by case_id"
    ) == [
        ("c1", "closed", 2),
        ("c2", "in_progress", 1),
    ]
    # roster restatement: a99 (dropped by the corrected file) is gone, a5 re-categorised
    rows = query(
        "select staff_id, post_category from staging.stg_staff_roster__staff_posts "
        "where snapshot_date = date '2024-01-31' and staff_id in ('a5', 'a99')"
    )
    assert rows == [("a5", "grid_worker")]
    # resident population carried forward from 2023-12-31 with its age
    rows = query(
        "select month, resident_population, resident_snapshot_age_days, registered_snapshot_age_days, "
        f"residence_ratio from intermediate.int_population_unit_months where unit_code = '{V1}' order by month"
    )
    assert [(_as_date(r[0]), r[1], r[2], r[3]) for r in rows] == [
        (JAN, 4000, 31, 0),
        (JAN.replace(month=2), 4000, 60, 0),
    ]
    assert [float(r[4]) for r in rows] == [2.0, 2.0]
    # staffing detail of V1 in January: 1 formal + 1 semi-formal, the leaver excluded
    rows = query(
        "select formal_fte, semi_formal_fte, headcount, certified_share from "
        f"intermediate.int_staffing_unit_months where unit_code = '{V1}' and month = date '2024-01-01'"
    )
    assert [tuple(float(x) for x in r) for r in rows] == [(1.0, 1.0, 2.0, 0.5)]
    # dim_unit: names of ancestors, derived urban/rural class, evaluated flags
    rows = query(
        "select unit_code, township_name, county_name, province_name, urban_rural_class, is_evaluated "
        f"from marts.dim_unit where unit_code in ('{V4}', '{TA}', '110103001001') order by unit_code"
    )
    assert rows == [
        (TA, "东华门街道", "东城区", "北京市", "urban", True),
        (V4, "东华门街道", "东城区", "北京市", "rural", True),
        ("110103001001", "建外街道", "朝阳区", "北京市", "urban", False),
    ]
    # county mart flags County A January as allocated by registration
    rows = query(
        "select allocated_by_registration from marts.mart_staffing_mismatch_county "
        f"where county_code = '{COUNTY_A}' and month = date '2024-01-01'"
    )
    assert [bool(r[0]) for r in rows] == [True]


@pytest.mark.dbt
def test_dbt_build_duckdb(dbt_bin: str, tmp_path: Path) -> None:
    import duckdb

    warehouse = tmp_path / "warehouse.duckdb"
    load_duckdb(str(warehouse))
    proc, elapsed = run_dbt(dbt_bin, tmp_path, "duckdb", {"GRASSROOTS_WAREHOUSE": str(warehouse)}, "build")
    print(f"dbt build on DuckDB: {elapsed:.1f}s")
    assert "ERROR=0" in proc.stdout.replace(" ", ""), proc.stdout

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        schemas = {
            r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()
        }
        assert {"raw", "staging", "intermediate", "marts"} <= schemas
        assert not any(s.startswith(("marts_", "main_")) for s in schemas), schemas
        check_marts(con.execute(UNIT_SQL).fetchall(), con.execute(COUNTY_SQL).fetchall())
        check_other_models(lambda sql: con.execute(sql).fetchall())
    finally:
        con.close()


def _pg_dsn(dbname: str) -> str:
    dsn = f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={dbname} connect_timeout=5"
    return dsn + (f" password={PG_PASSWORD}" if PG_PASSWORD else "")


@pytest.fixture
def pg_database() -> str:
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        con = psycopg2.connect(_pg_dsn("postgres"))
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {exc}")
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (PG_DBNAME,))
        if cur.fetchone() is None:
            cur.execute(f'create database "{PG_DBNAME}"')
    con.close()
    return PG_DBNAME


@pytest.mark.dbt
def test_dbt_build_postgres(dbt_bin: str, tmp_path: Path, pg_database: str) -> None:
    import psycopg2

    load_postgres(_pg_dsn(pg_database))
    proc, elapsed = run_dbt(dbt_bin, tmp_path, "postgres", {"GRASSROOTS_PG_DBNAME": pg_database}, "build")
    print(f"dbt build on PostgreSQL: {elapsed:.1f}s")
    assert "ERROR=0" in proc.stdout.replace(" ", ""), proc.stdout

    con = psycopg2.connect(_pg_dsn(pg_database))
    try:
        with con.cursor() as cur:
            cur.execute("select schema_name from information_schema.schemata")
            schemas = {r[0] for r in cur.fetchall()}
            assert {"raw", "staging", "intermediate", "marts"} <= schemas
            cur.execute(UNIT_SQL)
            units = cur.fetchall()
            cur.execute(COUNTY_SQL)
            counties = cur.fetchall()
            check_marts(units, counties)

            def query(sql: str):
                cur.execute(sql)
                return cur.fetchall()

            check_other_models(query)
    finally:
        con.close()


@pytest.mark.dbt
def test_dbt_parse_writes_manifest_offline(dbt_bin: str, tmp_path: Path) -> None:
    """Airflow/Cosmos render the DAG from target/manifest.json: parse must work without a warehouse."""
    env = {"GRASSROOTS_WAREHOUSE": str(tmp_path / "absent.duckdb")}
    run_dbt(dbt_bin, tmp_path, "duckdb", env, "parse")
    import json

    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    names = {n["name"] for n in manifest["nodes"].values()}
    assert {"mart_staffing_mismatch", "mart_staffing_mismatch_county", "dim_unit", "int_unit_months"} <= names
    assert not (tmp_path / "absent.duckdb").exists(), "dbt parse must not open the warehouse"
