"""One person at 1.0 FTE in two units counts 1.0 in all, on DuckDB and on PostgreSQL (issue #18 item 7).

The hand-made raw tables of ``fixtures`` with one post added to County B's January roster: the
person of post b1 (community worker, V5, 1.0 FTE) is also listed under staff_id b9 at V6, 1.0 FTE,
with the same ID number (``id_number_hash`` h-b1). A separate build (the shared fixture stays as it
is: its hand-computed values do not change). Real ``dbt build`` (every model, data and unit test).

Hand computation, County B, January 2024 (and February: January's roster carried forward):
    person h-b1: total 2.0 > 1 → a finding; counted 1.0 / 2.0 = 0.5 at V5 and 0.5 at V6.
    V5 = 0.5, V6 = 0.5 + 1.0 (b2) = 1.5; county 2.0 (3.0 if the person counted twice).
    residents 1000 / 1000 → resident shares 0.5 / 0.5; staff shares 0.25 / 0.75
    → D_resident = ½(0.25 + 0.25) = 0.25; registered 1000 / 3000 → shares 0.25 / 0.75 → D_registered 0
    → allocated_by_registration (0 < 0.25); fte_misallocated = 0.25 × 2 = 0.5;
    staff_per_10k_residents (county) = 2 × 10,000 / 2000 = 10; fair shares 1 / 1 → deltas +0.5 / −0.5;
    floors 1 + 1 = 2 = staff: targets 1 / 1; V6's surplus 0.5 is no whole post → posts_to_reallocate 0.
    (Counted twice: V6 2.0, county 3.0, D_resident = ½(|1/3 − ½| × 2) = 1/6, 15 per 10k.)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fixtures import PG_TYPES, V5, V6, B, D, _post, _rows, raw_tables
from test_dbt_build import _pg_dsn, run_dbt

PG_DBNAME = os.environ.get("GRASSROOTS_TEST_PG_DBNAME", "grassroots_test") + "_person_fte"
COUNTY_B = f"{B}000000"

# (unit_code) → (staff_fte, staff_share, fair_share_staff, reallocation_delta), both months
EXPECTED_UNITS = {V5: (0.5, 0.25, 1.0, 0.5), V6: (1.5, 0.75, 1.0, -0.5)}
# county_staff_fte, d_resident, d_registered, allocated_by_registration, fte_misallocated,
# staff_per_10k_residents, posts_to_reallocate
EXPECTED_COUNTY = (2.0, 0.25, 0.0, True, 0.5, 10.0, 0)


def _tables() -> dict:
    tables = raw_tables()
    columns, rows = tables["staff_roster"]
    twin = _post("b9", V6, "community_worker", 1.0, D(2024, 1, 31), D(2024, 2, 4), "roster_B_2024-01.csv", 3)
    twin["id_number_hash"] = "h-b1"  # the same ID number as b1's post at V5
    tables["staff_roster"] = (columns, [*rows, twin])
    return tables


def _load_duckdb(path: str) -> None:
    import duckdb

    con = duckdb.connect(path)
    try:
        con.execute("create schema if not exists raw")
        for table, (columns, rows) in _tables().items():
            cols = ", ".join(f'"{c}" {t}' for c, t in columns)
            con.execute(f"create or replace table raw.{table} ({cols})")
            con.executemany(
                f"insert into raw.{table} values ({', '.join('?' for _ in columns)})", _rows(columns, rows)
            )
    finally:
        con.close()


def _load_postgres(dsn: str) -> None:
    import psycopg2

    con = psycopg2.connect(dsn)
    try:
        with con, con.cursor() as cur:
            for schema in ("marts", "intermediate", "staging", "raw"):
                cur.execute(f"drop schema if exists {schema} cascade")
            cur.execute("create schema raw")
            for table, (columns, rows) in _tables().items():
                cols = ", ".join(f'"{c}" {PG_TYPES.get(t, t.lower())}' for c, t in columns)
                cur.execute(f"create table raw.{table} ({cols})")
                cur.executemany(
                    f"insert into raw.{table} values ({', '.join('%s' for _ in columns)})",
                    _rows(columns, rows),
                )
    finally:
        con.close()


def _build(dbt_bin: str, tmp_path: Path, target: str, env: dict[str, str]) -> dict[str, dict]:
    """Full dbt build; the run results of the tests, by test name prefix."""
    run_dbt(dbt_bin, tmp_path, target, env, "build")
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r for r in results}


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(request, dbt_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    target = request.param
    tmp_path = tmp_path_factory.mktemp(f"person_fte_{target}")
    if target == "duckdb":
        import duckdb

        warehouse = tmp_path / "warehouse.duckdb"
        _load_duckdb(str(warehouse))

        def query(sql: str) -> list[tuple]:
            con = duckdb.connect(str(warehouse), read_only=True)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()

        yield query, _build(dbt_bin, tmp_path, "duckdb", {"GRASSROOTS_WAREHOUSE": str(warehouse)})
        return
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = psycopg2.connect(_pg_dsn("postgres"))
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (PG_DBNAME,))
        if cur.fetchone() is None:
            cur.execute(f'create database "{PG_DBNAME}"')
    admin.close()
    _load_postgres(_pg_dsn(PG_DBNAME))
    con = psycopg2.connect(_pg_dsn(PG_DBNAME))
    con.autocommit = True

    def pg_query(sql: str) -> list[tuple]:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    try:
        yield pg_query, _build(dbt_bin, tmp_path, "postgres", {"GRASSROOTS_PG_DBNAME": PG_DBNAME})
    finally:
        con.close()


def _close(a, b) -> bool:
    if isinstance(b, bool):
        return bool(a) is b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.dbt
def test_person_is_a_finding_and_a_warning(built: tuple[Callable, dict]) -> None:
    query, results = built
    rows = query(
        "select county_code, cast(snapshot_date as varchar), person_key, units, unit_codes, staff_ids,"
        " total_fte, total_fte_capped from intermediate.int_staff_fte_over_one"
    )
    assert len(rows) == 1, rows
    county, snap, person, units, unit_codes, staff_ids, total, capped = rows[0]
    assert (county, snap, person, units) == (COUNTY_B, "2024-01-31", "h-b1", 2)
    assert unit_codes == f"{V5}, {V6}" and staff_ids == "b1, b9"
    assert _close(total, 2.0) and _close(capped, 1.0)
    # the warning test found the person; the build still passed (run_dbt asserts return code 0)
    warn = [r for uid, r in results.items() if ".person_fte_at_most_one_" in uid]
    assert [(r["status"], r["failures"]) for r in warn] == [("warn", 1)]
    capped_tests = [r for uid, r in results.items() if ".person_fte_capped_at_most_one_" in uid]
    assert [r["status"] for r in capped_tests] == ["pass"]


@pytest.mark.dbt
def test_staffing_marts_count_the_person_once(built: tuple[Callable, dict]) -> None:
    query, _ = built
    units = query(
        "select unit_code, cast(month as varchar), staff_fte, staff_share, fair_share_staff,"
        " reallocation_delta"
        f" from marts.mart_staffing_mismatch where county_code = '{COUNTY_B}'"
    )
    assert len(units) == 4, units  # V5, V6 × January, February
    for unit, month, *got in units:
        for g, e in zip(got, EXPECTED_UNITS[unit], strict=True):
            assert _close(g, e), (unit, month, got, EXPECTED_UNITS[unit])
    staffing = dict(
        query(
            "select unit_code, sum(total_fte) from marts.mart_staffing"
            f" where unit_code in ('{V5}', '{V6}') group by 1"
        )
    )
    assert _close(staffing[V5], 1.0) and _close(staffing[V6], 3.0)  # two months each
    county = query(
        "select county_staff_fte, d_resident, d_registered, allocated_by_registration, fte_misallocated,"
        " staff_per_10k_residents, posts_to_reallocate"
        f" from marts.mart_staffing_mismatch_county where county_code = '{COUNTY_B}'"
    )
    assert len(county) == 2
    for row in county:
        for g, e in zip(row, EXPECTED_COUNTY, strict=True):
            assert _close(g, e), (row, EXPECTED_COUNTY)
    moves = query(f"select count(*) from marts.mart_reallocation_plan where county_code = '{COUNTY_B}'")
    assert moves == [(0,)]
