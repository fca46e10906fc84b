"""Working hours on the real ``holiday_calendar`` seed (no stubbed calendar), and unknown SLA / response
data, on a real dbt build (DuckDB and PostgreSQL).

A warehouse of its own: the feeds of fixtures.py with raw.case_log replaced by ``holiday_cases()``
(cases across the 2024 Spring Festival and the National Day make-up Sunday, a category absent from the
SLA seed, a supplier file without response times). Its cases add months to the evaluation spine
(September, October), so assertions are on fct_cases and on named unit-months of mart_workload only,
never on which months exist. Expected values are hand-computed in fixtures.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from fixtures import (
    EXPECTED_HOLIDAY_CASES,
    EXPECTED_HOLIDAY_WORKLOAD,
    _rows,
    holiday_cases,
    load_duckdb,
    load_postgres,
)
from test_dbt_build import PG_DBNAME, _check_rows, _pg_dsn, run_dbt

from grassroots.feeds import FEEDS

PG_HOLIDAYS_DBNAME = os.environ.get("GRASSROOTS_TEST_PG_HOLIDAYS_DBNAME", f"{PG_DBNAME}_holidays")

CASES_SQL = """
    select case_id, response_calendar_hours, response_working_hours, closure_calendar_hours,
           closure_working_hours, response_hours, closure_hours, is_responded, is_responded_within_sla,
           is_closed_within_sla, sla_status, response_data_status
    from marts.fct_cases
"""
WORKLOAD_SQL = """
    select unit_code, month, cases_received, cases_valid, cases_without_sla, cases_without_response_data,
           response_rate, response_rate_denominator, response_rate_null_reason, responded_share,
           responded_share_null_reason, resolution_rate, closed_within_sla_rate,
           closed_within_sla_rate_null_reason
    from marts.mart_workload
"""
SELECT = ("--select", "+fct_cases", "+mart_workload", "--resource-type", "seed", "--resource-type", "model")


def _replace_cases(insert: Callable[[str, list[tuple]], None]) -> None:
    names = [c for c, _ in FEEDS["case_log"].raw_columns]
    insert(", ".join(f'"{n}"' for n in names), _rows(FEEDS["case_log"].raw_columns, holiday_cases()))


def _check(query: Callable[[str], list[tuple]]) -> None:
    rows = query(CASES_SQL)
    assert sorted(r[0] for r in rows) == sorted(EXPECTED_HOLIDAY_CASES)
    _check_rows(
        rows,
        EXPECTED_HOLIDAY_CASES,
        (
            "response_calendar_hours",
            "response_working_hours",
            "closure_calendar_hours",
            "closure_working_hours",
            "response_hours",
            "closure_hours",
            "is_responded",
            "is_responded_within_sla",
            "is_closed_within_sla",
            "sla_status",
            "response_data_status",
        ),
        key_width=1,
    )
    _check_rows(
        query(WORKLOAD_SQL),
        EXPECTED_HOLIDAY_WORKLOAD,
        (
            "cases_received",
            "cases_valid",
            "cases_without_sla",
            "cases_without_response_data",
            "response_rate",
            "response_rate_denominator",
            "response_rate_null_reason",
            "responded_share",
            "responded_share_null_reason",
            "resolution_rate",
            "closed_within_sla_rate",
            "closed_within_sla_rate_null_reason",
        ),
    )


@pytest.mark.dbt
def test_duckdb_holiday_working_hours_and_unknowns(dbt_bin: str, tmp_path: Path) -> None:
    import duckdb

    warehouse = str(tmp_path / "holidays.duckdb")
    load_duckdb(warehouse, cases_batch=1)
    con = duckdb.connect(warehouse)
    try:
        con.execute("delete from raw.case_log")

        def insert(cols: str, rows: list[tuple]) -> None:
            con.executemany(
                f"insert into raw.case_log ({cols}) values ({', '.join('?' for _ in cols.split(','))})", rows
            )

        _replace_cases(insert)
    finally:
        con.close()
    run_dbt(dbt_bin, tmp_path, "duckdb", {"GRASSROOTS_WAREHOUSE": warehouse}, "build", *SELECT)

    def query(sql: str) -> list[tuple]:
        c = duckdb.connect(warehouse, read_only=True)
        try:
            return c.execute(sql).fetchall()
        finally:
            c.close()

    _check(query)


@pytest.mark.dbt
@pytest.mark.postgres
def test_postgres_holiday_working_hours_and_unknowns(dbt_bin: str, tmp_path: Path) -> None:
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = psycopg2.connect(_pg_dsn("postgres"))
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (PG_HOLIDAYS_DBNAME,))
        if cur.fetchone() is None:
            cur.execute(f'create database "{PG_HOLIDAYS_DBNAME}"')
    admin.close()
    dsn = _pg_dsn(PG_HOLIDAYS_DBNAME)
    load_postgres(dsn, cases_batch=1)
    con = psycopg2.connect(dsn)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute("delete from raw.case_log")

            def insert(cols: str, rows: list[tuple]) -> None:
                marks = ", ".join("%s" for _ in cols.split(","))
                cur.executemany(f"insert into raw.case_log ({cols}) values ({marks})", rows)

            _replace_cases(insert)
        run_dbt(dbt_bin, tmp_path, "postgres", {"GRASSROOTS_PG_DBNAME": PG_HOLIDAYS_DBNAME}, "build", *SELECT)

        def query(sql: str) -> list[tuple]:
            with con.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()

        _check(query)
    finally:
        con.close()
