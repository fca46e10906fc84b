"""The incremental case models (``stg_case_log__cases`` and ``fct_cases``) through several deliveries,
on DuckDB and PostgreSQL: after each incremental run they must equal a full refresh.

Deliveries, on top of the fixtures' two case batches (see fixtures.py):

1. batch 1, then ``dbt build`` of seeds and the models up to ``fct_cases`` (first run: full build);
2. batch 2 plus a late restatement of c3 (a version loaded on 03-01 but produced *before* the kept
   one): the kept version stays, version_count becomes 2 and last_loaded_at moves (incremental run);
3. a batch loaded at the *same instant* as batch 2 (03-01 06:00), i.e. at the watermark: a new version
   of c2 (now closed) and a new case c8 of reporter p-1 (repeat of c4). ``>=`` must not skip it;
4. an incremental run with no new rows changes nothing (re-processing the watermark's batch is
   idempotent);
5. ``--full-refresh`` of both models gives exactly the incremental tables.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from fixtures import V1, V5, _case, _rows, case_batch_2_rows, load_duckdb, load_postgres
from test_dbt_build import _pg_dsn, run_dbt

from grassroots.feeds import FEEDS

TS = dt.datetime
BATCH_2_LOADED_AT = TS(2024, 3, 1, 6, 0)
PG_DBNAME = os.environ.get("GRASSROOTS_TEST_PG_CASES_DBNAME", "grassroots_test_cases")

STG_SQL = "select * from staging.stg_case_log__cases order by case_id"
FCT_SQL = "select * from marts.fct_cases order by case_id"
MODELS = ("stg_case_log__cases", "fct_cases")


def _late_restatement_of_c3() -> list[dict]:
    # produced 01-20 11:00, before the kept closed version (updated 01-23 16:00), but loaded later
    return [
        _case(
            "c3",
            V1,
            "utilities",
            TS(2024, 1, 20, 10),
            channel="mobile_app",
            responded=TS(2024, 1, 20, 11),
            status="in_progress",
            reporter="p-1",
            loaded=BATCH_2_LOADED_AT,
            n=6,
        )
    ]


def _batch_at_watermark() -> list[dict]:
    same_instant = {"loaded": BATCH_2_LOADED_AT}
    return [
        _case(
            "c2",
            V5,
            "neighbour_dispute",
            TS(2024, 2, 10, 10),
            responded=TS(2024, 2, 10, 10),
            closed=TS(2024, 2, 20, 10),
            status="closed",
            n=7,
            **same_instant,
        ),
        _case("c8", V1, "neighbour_dispute", TS(2024, 1, 29, 9), reporter="p-1", n=8, **same_instant),
    ]


def _case_rows(rows: list[dict]) -> tuple[list[str], list[tuple]]:
    columns = FEEDS["case_log"].raw_columns
    return [c for c, _ in columns], _rows(columns, rows)


def _run_deliveries(
    dbt_bin: str,
    tmp_path: Path,
    target: str,
    env: dict[str, str],
    query: Callable[[str], list[tuple]],
    append: Callable[[list[str], list[tuple]], None],
) -> None:
    def incremental() -> None:
        run_dbt(dbt_bin, tmp_path, target, env, "run", "--select", *MODELS)

    # 1. first batch: full build of the models up to fct_cases
    run_dbt(
        dbt_bin,
        tmp_path,
        target,
        env,
        "build",
        "--select",
        "+fct_cases",
        "--resource-type",
        "seed",
        "--resource-type",
        "model",
    )
    # 2. batch 2 and a late restatement with an older updated_at
    append(*case_batch_2_rows())
    append(*_case_rows(_late_restatement_of_c3()))
    incremental()
    rows = query(
        "select status, version_count, last_loaded_at from staging.stg_case_log__cases where case_id = 'c3'"
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [("closed", 2, BATCH_2_LOADED_AT)]
    # 3. a batch loaded at the same instant as the watermark
    append(*_case_rows(_batch_at_watermark()))
    incremental()
    rows = query(
        "select case_id, status, version_count, last_loaded_at from marts.fct_cases "
        "where case_id in ('c2', 'c8') order by case_id"
    )
    assert rows == [("c2", "closed", 2, BATCH_2_LOADED_AT), ("c8", "in_progress", 1, BATCH_2_LOADED_AT)]
    # c8 (01-29) follows c4 (01-25) of the same reporter and category: a repeat
    assert [bool(r[0]) for r in query("select is_repeat from marts.fct_cases where case_id = 'c8'")] == [True]
    stg_incremental, fct_incremental = query(STG_SQL), query(FCT_SQL)
    assert len(stg_incremental) == len(fct_incremental) == 8
    # 4. nothing new: idempotent
    incremental()
    assert query(STG_SQL) == stg_incremental
    assert query(FCT_SQL) == fct_incremental
    # 5. full refresh of both
    run_dbt(dbt_bin, tmp_path, target, env, "run", "--select", *MODELS, "--full-refresh")
    assert query(STG_SQL) == stg_incremental
    assert query(FCT_SQL) == fct_incremental


@pytest.mark.dbt
def test_duckdb_case_models_incremental_equal_full_refresh(dbt_bin: str, tmp_path: Path) -> None:
    import duckdb

    warehouse = tmp_path / "warehouse.duckdb"
    load_duckdb(str(warehouse), cases_batch=1)

    def query(sql: str) -> list[tuple]:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def append(names: list[str], rows: list[tuple]) -> None:
        con = duckdb.connect(str(warehouse))
        try:
            cols = ", ".join(f'"{n}"' for n in names)
            con.executemany(
                f"insert into raw.case_log ({cols}) values ({', '.join('?' for _ in names)})", rows
            )
        finally:
            con.close()

    _run_deliveries(dbt_bin, tmp_path, "duckdb", {"GRASSROOTS_WAREHOUSE": str(warehouse)}, query, append)


@pytest.mark.dbt
@pytest.mark.postgres
def test_postgres_case_models_incremental_equal_full_refresh(dbt_bin: str, tmp_path: Path) -> None:
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

    dsn = _pg_dsn(PG_DBNAME)
    load_postgres(dsn, cases_batch=1)
    con = psycopg2.connect(dsn)
    con.autocommit = True

    def query(sql: str) -> list[tuple]:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def append(names: list[str], rows: list[tuple]) -> None:
        cols = ", ".join(f'"{n}"' for n in names)
        with con.cursor() as cur:
            cur.executemany(
                f"insert into raw.case_log ({cols}) values ({', '.join('%s' for _ in names)})", rows
            )

    try:
        _run_deliveries(dbt_bin, tmp_path, "postgres", {"GRASSROOTS_PG_DBNAME": PG_DBNAME}, query, append)
    finally:
        con.close()
