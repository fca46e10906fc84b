"""Build the dbt project for real (dbt CLI in a subprocess) on hand-made raw tables and check the marts
against hand-computed values, on DuckDB and on PostgreSQL.

One warehouse per adapter and module (fixtures ``duckdb_wh`` / ``postgres_wh``), built the way
production builds it, in three steps that also test the incremental case model:

1. raw tables with the first case batch; ``dbt build`` of seeds and models up to ``fct_cases``;
2. the second case batch appended to raw.case_log; full ``dbt build`` (every model, data test and unit
   test; ``stg_case_log__cases`` and ``fct_cases`` run incrementally);
3. ``stg_case_log__cases`` and ``fct_cases`` are saved, rebuilt with ``--full-refresh`` and compared:
   incremental == full refresh.

Each dbt call has its own target/log paths in a temporary directory, so parallel runs don't collide.
"""

from __future__ import annotations

import math
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import DBT_PROJECT_DIR
from fixtures import (
    COUNTY_A,
    EXPECTED_CASES,
    EXPECTED_COUNTY,
    EXPECTED_SNAPSHOTS,
    EXPECTED_UNITS,
    EXPECTED_WORKLOAD,
    EXPECTED_WORKLOAD_CATEGORY,
    EXPECTED_WORKLOAD_COUNTY,
    EXPECTED_WORKLOAD_TOWNSHIP,
    JAN,
    TA,
    V1,
    V4,
    case_batch_2_rows,
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
           staff_fte_outside_base, posts_to_reallocate, fte_misallocated, allocation_base_coverage,
           d_null_reason
    from marts.mart_staffing_mismatch_county
"""
WORKLOAD_SQL = """
    select unit_code, month, cases_received, cases_cancelled, cases_responded_within_sla, cases_closed,
           cases_closed_within_sla, cases_escalated, cases_rated, cases_satisfied, cases_repeat,
           cases_resident_initiated, cases_digital_channel, backlog_month_end, response_rate,
           resolution_rate, satisfaction_rate, repeat_rate, response_calendar_hours_median,
           closure_working_hours_median, cases_per_fte
    from marts.mart_workload
"""
WORKLOAD_COUNTY_SQL = """
    select county_code, month, cases_received, cases_cancelled, cases_closed, response_rate,
           resolution_rate, satisfaction_rate, escalation_rate, repeat_rate, backlog_month_end,
           response_calendar_hours_median, closure_working_hours_median
    from marts.mart_workload_county
"""
WORKLOAD_CATEGORY_SQL = """
    select county_code, month, category, category_label_en, cases_received, cases_cancelled,
           cases_responded, cases_responded_within_sla, cases_closed, cases_closed_within_sla, cases_rated,
           cases_satisfied, response_rate, responded_within_sla_rate, resolution_rate, closed_within_sla_rate,
           satisfaction_rate, response_calendar_hours_median, response_calendar_hours_p90,
           closure_working_hours_median, closure_working_hours_p90
    from marts.mart_workload_category
"""
WORKLOAD_TOWNSHIP_SQL = """
    select township_code, month, county_code, units_evaluated, has_roster, staff_fte, cases_received,
           cases_cancelled, cases_closed, backlog_month_end, cases_per_fte, backlog_per_fte,
           cases_per_10k_residents, response_rate, responded_within_sla_rate, resolution_rate,
           closed_within_sla_rate, satisfaction_rate, response_calendar_hours_median,
           response_calendar_hours_p90, closure_working_hours_median, closure_working_hours_p90
    from marts.mart_workload_township
"""
CASES_SQL = """
    select case_id, is_repeat, response_hours, closure_hours, is_responded_within_sla, is_closed_within_sla
    from marts.fct_cases
"""
FCT_ALL_SQL = "select * from marts.fct_cases order by case_id"
STG_CASES_ALL_SQL = "select * from staging.stg_case_log__cases order by case_id"

# The analysts' query of the report: one county's two indices and its top three moves.
COUNTY_PLAN_SQL = """
    select
        c.county_code, c.month, c.d_resident, c.d_registered, c.allocated_by_registration,
        p.move_rank, p.from_unit_code, p.from_unit_name, p.to_unit_code, p.to_unit_name,
        round(cast(p.fte as numeric), 2) as fte
    from marts.mart_staffing_mismatch_county as c
    left join marts.mart_reallocation_plan as p
        on p.county_code = c.county_code and p.month = c.month and p.move_rank <= 3
    where c.county_code = '{county}' and c.month = date '{month}'
    order by p.move_rank
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
        cmd, check=False, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({elapsed:.1f}s):\n{proc.stdout}\n{proc.stderr}"
    return proc, elapsed


@dataclass
class Warehouse:
    """A built warehouse: `query(sql) -> rows`, the fct_cases and stg_case_log__cases rows of the
    incremental run and of the full refresh, the names of the schemas, and dbt timings."""

    query: Callable[[str], list[tuple]]
    fct_incremental: list[tuple] = field(default_factory=list)
    fct_full_refresh: list[tuple] = field(default_factory=list)
    stg_incremental: list[tuple] = field(default_factory=list)
    stg_full_refresh: list[tuple] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def build_three_steps(dbt_bin, tmp_path, target, env, query, append_batch_2) -> Warehouse:
    wh = Warehouse(query=query)
    # 1. first batch: seeds and the models up to fct_cases
    _, wh.timings["initial"] = run_dbt(
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
    assert [r[0] for r in query("select case_id from marts.fct_cases order by case_id")] == ["c1", "c2", "c3"]
    # 2. second batch, then the full build (fct_cases incremental, all data and unit tests)
    append_batch_2()
    proc, wh.timings["build"] = run_dbt(dbt_bin, tmp_path, target, env, "build")
    assert "ERROR=0" in proc.stdout.replace(" ", ""), proc.stdout
    wh.fct_incremental = query(FCT_ALL_SQL)
    wh.stg_incremental = query(STG_CASES_ALL_SQL)
    # 3. full refresh of the two incremental case models
    _, wh.timings["full_refresh"] = run_dbt(
        dbt_bin,
        tmp_path,
        target,
        env,
        "run",
        "--select",
        "stg_case_log__cases",
        "fct_cases",
        "--full-refresh",
    )
    wh.fct_full_refresh = query(FCT_ALL_SQL)
    wh.stg_full_refresh = query(STG_CASES_ALL_SQL)
    print(f"dbt on {target}: " + ", ".join(f"{k} {v:.1f}s" for k, v in wh.timings.items()))
    return wh


@pytest.fixture(scope="module")
def duckdb_wh(dbt_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    import duckdb

    tmp_path = tmp_path_factory.mktemp("dbt_duckdb")
    warehouse = tmp_path / "warehouse.duckdb"
    load_duckdb(str(warehouse), cases_batch=1)

    def query(sql: str) -> list[tuple]:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def append_batch_2() -> None:
        names, rows = case_batch_2_rows()
        con = duckdb.connect(str(warehouse))
        try:
            cols = ", ".join(f'"{n}"' for n in names)
            con.executemany(
                f"insert into raw.case_log ({cols}) values ({', '.join('?' for _ in names)})", rows
            )
        finally:
            con.close()

    env = {"GRASSROOTS_WAREHOUSE": str(warehouse)}
    yield build_three_steps(dbt_bin, tmp_path, "duckdb", env, query, append_batch_2)


def _pg_dsn(dbname: str) -> str:
    dsn = f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={dbname} connect_timeout=5"
    return dsn + (f" password={PG_PASSWORD}" if PG_PASSWORD else "")


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def postgres_wh(
    dbt_bin: str, tmp_path_factory: pytest.TempPathFactory, pg_database: str
) -> Iterator[Warehouse]:
    import psycopg2

    tmp_path = tmp_path_factory.mktemp("dbt_postgres")
    dsn = _pg_dsn(pg_database)
    load_postgres(dsn, cases_batch=1)
    con = psycopg2.connect(dsn)
    con.autocommit = True

    def query(sql: str) -> list[tuple]:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def append_batch_2() -> None:
        names, rows = case_batch_2_rows()
        cols = ", ".join(f'"{n}"' for n in names)
        with con.cursor() as cur:
            cur.executemany(
                f"insert into raw.case_log ({cols}) values ({', '.join('%s' for _ in names)})", rows
            )

    try:
        yield build_three_steps(
            dbt_bin, tmp_path, "postgres", {"GRASSROOTS_PG_DBNAME": pg_database}, query, append_batch_2
        )
    finally:
        con.close()


def _close(actual, expected) -> bool:
    if expected is None or actual is None:
        return actual is expected or (actual is None and expected is None)
    if isinstance(expected, bool):  # exactly a boolean: NULL, 0/1 or a string never pass for one
        return isinstance(actual, bool) and actual is expected
    if isinstance(expected, str):
        return actual == expected
    return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-9)


def _as_date(value):
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _check_rows(rows, expected: dict, names: tuple[str, ...], key_width: int = 2) -> None:
    got = {}
    for r in rows:
        key = tuple(_as_date(v) for v in r[:key_width]) if key_width > 1 else r[0]
        got[key] = r[key_width:]
    for key, exp in expected.items():
        assert key in got, f"missing row {key}"
        for name, actual, e in zip(names, got[key], exp, strict=True):
            assert _close(actual, e), f"{key} {name}: got {actual!r}, expected {e!r}"


def check_marts(unit_rows: list[tuple], county_rows: list[tuple]) -> None:
    # one row per unit and month, exactly the evaluated units × both months
    keys = [(r[0], _as_date(r[1])) for r in unit_rows]
    assert len(keys) == len(set(keys)), "duplicate unit-month rows"
    assert set(keys) == set(EXPECTED_UNITS), set(keys) ^ set(EXPECTED_UNITS)
    _check_rows(
        unit_rows,
        EXPECTED_UNITS,
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
    )
    ckeys = [(r[0], _as_date(r[1])) for r in county_rows]
    assert len(ckeys) == len(set(ckeys)), "duplicate county-month rows"
    assert set(ckeys) == set(EXPECTED_COUNTY)
    _check_rows(
        county_rows,
        EXPECTED_COUNTY,
        (
            "d_resident",
            "d_registered",
            "allocated_by_registration",
            "county_staff_fte",
            "staff_fte_outside_base",
            "posts_to_reallocate",
            "fte_misallocated",
            "allocation_base_coverage",
            "d_null_reason",
        ),
    )
    # the reallocation plan keeps each county's total
    sums: dict = {}
    for row in unit_rows:
        if row[9] is not None:
            key = (row[0][:6], _as_date(row[1]))
            sums[key] = sums.get(key, 0.0) + float(row[9])
    assert all(abs(s) < 1e-9 for s in sums.values()), sums


def check_time_semantics_and_plan(query) -> None:
    """One carry-forward rule (roster and population, ages and statuses, EXPECTED_SNAPSHOTS), the spine
    bounded by the evaluation period (the 2011 registration file of V5 adds no month), and the plan's
    size equal to its moves (posts_to_reallocate = Σ fte, planned_change_posts on mart_staffing)."""
    rows = query(
        "select p.unit_code, p.month, p.roster_snapshot_date, p.roster_snapshot_age_days, p.roster_status, "
        "s.has_roster_snapshot_in_month, p.registered_snapshot_age_days, p.resident_snapshot_age_days "
        "from marts.mart_population as p inner join marts.mart_staffing as s "
        "on p.unit_code = s.unit_code and p.month = s.month"
    )
    _check_rows(
        [(r[0], r[1], r[2] and _as_date(r[2]).isoformat(), *r[3:]) for r in rows],
        EXPECTED_SNAPSHOTS,
        ("roster_date", "roster_age", "roster_status", "in_month", "registered_age", "resident_age"),
    )
    # the spine: both counties keep exactly January and February 2024 despite the 2011 file
    months = {_as_date(r[0]) for r in query("select distinct month from intermediate.int_unit_months")}
    assert months == {JAN, JAN.replace(month=2)}, months
    # posts_to_reallocate = Σ fte of the plan per county-month (null where the indices are null)
    plan = dict(
        ((r[0], _as_date(r[1])), float(r[2]))
        for r in query("select county_code, month, sum(fte) from marts.mart_reallocation_plan group by 1, 2")
    )
    for county, month, posts in query(
        "select county_code, month, posts_to_reallocate from marts.mart_staffing_mismatch_county"
    ):
        key = (county, _as_date(month))
        if posts is None:
            assert key not in plan, key
        else:
            assert _close(posts, plan.get(key, 0.0)), (key, posts, plan)
    # per unit, side by side: V2 January gives 3 whole posts; V1 gets 2, V3 1; norm gap still there
    rows = query(
        "select unit_code, planned_change_posts, norm_staffing_gap, staffing_gap from marts.mart_staffing "
        "where month = date '2024-01-01' and county_code = '" + COUNTY_A + "' order by unit_code"
    )
    assert [(r[0], r[1]) for r in rows] == [
        (TA, None),
        (V1, 2),
        (f"{COUNTY_A[:6]}001002", -3),
        (f"{COUNTY_A[:6]}001003", 1),
        (V4, None),
    ], rows
    assert all(_close(r[2], r[3]) for r in rows)


def check_other_models(query) -> None:
    """Staging dedupe, carry-forward and dim details, through a `query(sql) -> rows` callable."""
    # case versions: one row per case, latest version kept
    assert query(
        "select case_id, status, version_count from staging.stg_case_log__cases order by case_id"
    ) == [
        ("c1", "closed", 2),
        ("c2", "in_progress", 1),
        ("c3", "closed", 1),
        ("c4", "cancelled", 1),
        ("c5", "closed", 1),
        ("c6", "closed", 1),
        ("c7", "cancelled", 1),
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
        f"residence_ratio from marts.mart_population where unit_code = '{V1}' order by month"
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
    # dim_unit: names of ancestors, derived urban/rural class, evaluated flags, peer groups
    rows = query(
        "select unit_code, township_name, county_name, province_name, urban_rural_class, is_evaluated, "
        f"peer_group from marts.dim_unit where unit_code in ('{V1}', '{V4}', '{TA}', '110103001001') "
        "order by unit_code"
    )
    assert rows == [
        (TA, "东华门街道", "东城区", "北京市", "urban", True, "urban_all"),
        (V1, "东华门街道", "东城区", "北京市", "urban", True, "urban_small"),  # 4000 residents < 8000
        (V4, "东华门街道", "东城区", "北京市", "rural", True, "rural_unknown"),  # no population
        ("110103001001", "建外街道", "朝阳区", "北京市", "urban", False, "urban_unknown"),
    ]
    # county mart flags County A January as allocated by registration
    rows = query(
        "select allocated_by_registration from marts.mart_staffing_mismatch_county "
        f"where county_code = '{COUNTY_A}' and month = date '2024-01-01'"
    )
    assert rows == [(True,)]


def check_staffing(query) -> None:
    # V1 January (urban, 4000 residents, 1333 resident households; 1 community worker, no grid
    # worker): required 18·4000/10⁴ = 7.2 community workers + ceil(1333/400) = 4 grids → 11.2;
    # gap 11.2 − (1 + 0) = 10.2. Staff 2 → 5 per 10k residents, 10 per 10k registered (2000).
    rows = query(
        "select total_fte, formal_fte, semi_formal_fte, staff_per_10k_residents, staff_per_10k_registered, "
        "required_community_worker_fte, required_grids, required_staff_fte, staffing_gap "
        f"from marts.mart_staffing where unit_code = '{V1}' and month = date '2024-01-01'"
    )
    assert len(rows) == 1
    for actual, exp in zip(rows[0], (2.0, 1.0, 1.0, 5.0, 10.0, 7.2, 4, 11.2, 10.2), strict=True):
        assert _close(actual, exp), rows
    # FTE in mart_staffing = FTE of the roster snapshot (County A January: 8 in villages + 3 township)
    assert _close(
        query(
            f"select sum(total_fte) from marts.mart_staffing where county_code = '{COUNTY_A}' "
            "and month = date '2024-01-01'"
        )[0][0],
        11.0,
    )


def check_workload(query) -> None:
    rows = query(WORKLOAD_SQL)
    assert len({(r[0], _as_date(r[1])) for r in rows}) == len(rows) == 14  # every spine unit-month
    _check_rows(
        rows,
        EXPECTED_WORKLOAD,
        (
            "received",
            "cancelled",
            "responded_within_sla",
            "closed",
            "closed_within_sla",
            "escalated",
            "rated",
            "satisfied",
            "repeat",
            "resident_initiated",
            "digital",
            "backlog",
            "response_rate",
            "resolution_rate",
            "satisfaction_rate",
            "repeat_rate",
            "response_calendar_hours_median",
            "closure_working_hours_median",
            "cases_per_fte",
        ),
    )
    _check_rows(
        query(WORKLOAD_COUNTY_SQL),
        EXPECTED_WORKLOAD_COUNTY,
        (
            "received",
            "cancelled",
            "closed",
            "response_rate",
            "resolution_rate",
            "satisfaction_rate",
            "escalation_rate",
            "repeat_rate",
            "backlog",
            "response_calendar_hours_median",
            "closure_working_hours_median",
        ),
    )
    # per county, month and category: every seed category for every county-month (4 × 10 rows here),
    # and the categories of a county-month add up to the county mart
    rows = query(WORKLOAD_CATEGORY_SQL)
    assert len({(r[0], _as_date(r[1]), r[2]) for r in rows}) == len(rows) == 40
    _check_rows(
        rows,
        EXPECTED_WORKLOAD_CATEGORY,
        (
            "label_en",
            "received",
            "cancelled",
            "responded",
            "responded_within_sla",
            "closed",
            "closed_within_sla",
            "rated",
            "satisfied",
            "response_rate",
            "responded_within_sla_rate",
            "resolution_rate",
            "closed_within_sla_rate",
            "satisfaction_rate",
            "response_calendar_hours_median",
            "response_calendar_hours_p90",
            "closure_working_hours_median",
            "closure_working_hours_p90",
        ),
        key_width=3,
    )
    by_county: dict = {}
    for r in rows:
        key = (r[0], _as_date(r[1]))
        by_county[key] = by_county.get(key, 0) + r[4]
    assert by_county == {key: exp[0] for key, exp in EXPECTED_WORKLOAD_COUNTY.items()}
    # per township and month: one township per county in the fixtures, so they equal the counties
    rows = query(WORKLOAD_TOWNSHIP_SQL)
    assert len({(r[0], _as_date(r[1])) for r in rows}) == len(rows) == 4
    _check_rows(
        rows,
        EXPECTED_WORKLOAD_TOWNSHIP,
        (
            "county_code",
            "units_evaluated",
            "has_roster",
            "staff_fte",
            "received",
            "cancelled",
            "closed",
            "backlog",
            "cases_per_fte",
            "backlog_per_fte",
            "cases_per_10k_residents",
            "response_rate",
            "responded_within_sla_rate",
            "resolution_rate",
            "closed_within_sla_rate",
            "satisfaction_rate",
            "response_calendar_hours_median",
            "response_calendar_hours_p90",
            "closure_working_hours_median",
            "closure_working_hours_p90",
        ),
    )
    _check_rows(
        query(CASES_SQL),
        EXPECTED_CASES,
        ("is_repeat", "response_hours", "closure_hours", "responded_within_sla", "closed_within_sla"),
        key_width=1,
    )


def check_reallocation_and_scorecard(query) -> None:
    # County A January: targets = fair shares 4, 2, 2 (all ≥ the 1-FTE floor); moves: V2 gives 2 to V1
    # and 1 to V3 (V2's surplus 3 laid on [0,3); V1 needs 2 [0,2), V3 1 [2,3))
    rows = query(COUNTY_PLAN_SQL.format(county=COUNTY_A, month="2024-01-01"))
    moves = [(r[5], r[6], r[8], float(r[10])) for r in rows]
    assert moves == [
        (1, f"{COUNTY_A[:6]}001002", V1, 2.0),
        (2, f"{COUNTY_A[:6]}001002", f"{COUNTY_A[:6]}001003", 1.0),
    ]
    assert _close(rows[0][2], 0.375) and _close(rows[0][3], 0.125) and rows[0][4] is True
    # February: staff already at fair shares → no moves, indices still printed
    rows = query(COUNTY_PLAN_SQL.format(county=COUNTY_A, month="2024-02-01"))
    assert len(rows) == 1 and rows[0][5] is None and _close(rows[0][2], 0.0)
    # scorecard: every spine unit-month scored or marked, never dropped
    (n_spine,) = query("select count(*) from intermediate.int_unit_months")[0]
    statuses = dict(
        query("select scoring_status, count(*) from marts.mart_scorecard group by scoring_status")
    )
    assert sum(statuses.values()) == n_spine
    check_scorecard_coverage(query)
    # dim_date: 2027 onwards is the weekday fallback, flagged
    rows = query(
        "select calendar_source, is_working_day from marts.dim_date "
        "where date_day in (date '2024-02-04', date '2024-02-12', date '2027-01-01', date '2027-01-02') "
        "order by date_day"
    )
    assert [(r[0], r[1]) for r in rows] == [
        ("chinese_calendar", True),  # Sunday, make-up working day
        ("chinese_calendar", False),  # Monday, Spring Festival
        ("weekday_fallback", True),  # Friday: New Year's Day 2027 is not known to the package
        ("weekday_fallback", False),  # Saturday
    ]


def check_scorecard_coverage(query) -> None:
    """Scorecard on the fixture (no unit has enough data; ranked units: test_scorecard_build.py).
    Unit-scope weight 80 (seed scorecard_weights): staff shares 10 + 5, case indicators 65; min_cases 5.
    Case rates over the trailing window of case_window_months = 3 (seed scorecard_settings): the
    fixture's months are January and February, so January's window is January alone and February's is
    January + February. V1 Jan: 5 received, 2 cancelled (c4, c7) → every case rate rests on the 3 valid
    cases c1, c3, c6 (< 5: too_few_cases), the median on 3 responded → staff shares only, 15/80 =
    0.1875 < 0.6. V1 Feb: no February case, window January + February = the same 3 → still 0.1875.
    V2 (1 case), V3 and the township office (no case), every County A unit in February (the January
    cases summed in the window stay < 5) and County B's in January: staff shares only, 15/80 = 0.1875.
    V4 (nothing): no_data. County B in February: no roster delivered, January's carried forward
    (29 days ≤ 62, fixtures docstring), so V5 and V6 keep their staff shares (1 staff each): 15/80 =
    0.1875; V5's one February case (c2; window January + February = 1 case) and V6's none are too few
    → insufficient_data. Nobody is ranked."""
    rows = query(
        "select unit_code, month, scoring_status, coverage, composite_score, rank_in_peer_group, "
        "rank_in_county from marts.mart_scorecard"
    )
    expected = {
        (V1, JAN): ("insufficient_data", 0.1875),
        (f"{COUNTY_A[:6]}001002", JAN): ("insufficient_data", 0.1875),
        (f"{COUNTY_A[:6]}001003", JAN): ("insufficient_data", 0.1875),
        (V4, JAN): ("no_data", 0.0),
        (TA, JAN): ("insufficient_data", 0.1875),
        (V1, JAN.replace(month=2)): ("insufficient_data", 0.1875),
        (V4, JAN.replace(month=2)): ("no_data", 0.0),
        ("110102001001", JAN): ("insufficient_data", 0.1875),
        ("110102001001", JAN.replace(month=2)): ("insufficient_data", 0.1875),
        ("110102001002", JAN.replace(month=2)): ("insufficient_data", 0.1875),
    }
    _check_rows([r[:4] for r in rows], expected, ("scoring_status", "coverage"))
    assert all(r[4] is None and r[5] is None and r[6] is None for r in rows), "a unit was ranked"
    reasons = dict(
        query(
            "select indicator_code, score_reason from marts.mart_scorecard_indicators "
            f"where unit_code = '{V1}' and month = date '2024-01-01'"
        )
    )
    assert reasons["satisfaction_rate"] == "too_few_cases"
    assert reasons["response_rate"] == "too_few_cases"  # 3 valid cases in the window (January)
    check_scorecard_values(query)


SCORECARD_VALUES_SQL = """
    select unit_code, month, indicator_code, indicator_value, indicator_denominator, window_months,
           score_reason, score, score_min_max
    from marts.mart_scorecard_indicators
"""


def check_scorecard_values(query) -> None:
    """The indicator values behind the scorecard, by hand from the fixture (EXPECTED_WORKLOAD's
    derivation for the cases; staff: a1 civil servant with an intermediate certificate, a2 community
    worker without, the auxiliary a50 left on 01-20).
    V1 January: certified_share = 1 certified / headcount 2 = 0.5; formal_fte_share = 1 formal FTE
    (a1) / 2 FTE = 0.5; their reason is the unit's scoring status (insufficient_data).
    Cases c1 c3 c4 c6 c7, c4 c7 cancelled → 3 valid: response_rate = in time c3 c6 = 2/3 over 3;
    resolution_rate = closed 3/3 = 1 over 3; satisfaction_rate = satisfied 2 / rated 2 = 1 over 2;
    all below min_cases 5 → too_few_cases.
    V1 February: no case of its own; the 3-month window holds January's, so the same 2/3 over 3, 1 over
    3 and 1 over 2 (a month without cases adds neither numerator nor denominator). Nobody is scored:
    score and score_min_max null everywhere."""
    rows = query(SCORECARD_VALUES_SQL)
    (n_spine,) = query("select count(*) from intermediate.int_unit_months")[0]
    (n_indicators,) = query("select count(*) from staging.scorecard_weights")[0]
    assert len(rows) == n_spine * n_indicators == 14 * 12  # every unit-month × every indicator
    assert all(r[7] is None and r[8] is None for r in rows), "an indicator was scored"
    feb = JAN.replace(month=2)
    expected = {}
    for month in (JAN, feb):
        expected[(V1, month, "response_rate")] = (2 / 3, 3, 3, "too_few_cases")
        expected[(V1, month, "resolution_rate")] = (1.0, 3, 3, "too_few_cases")
        expected[(V1, month, "satisfaction_rate")] = (1.0, 2, 3, "too_few_cases")
    # a staff share is no case rate (window 1); with data, its reason is the unit's status
    expected[(V1, JAN, "certified_share")] = (0.5, 2, 1, "insufficient_data")
    expected[(V1, JAN, "formal_fte_share")] = (0.5, 2.0, 1, "insufficient_data")
    _check_rows(
        [r[:7] for r in rows],
        expected,
        ("indicator_value", "indicator_denominator", "window_months", "score_reason"),
        key_width=3,
    )


# ---- DuckDB -------------------------------------------------------------------------------------


@pytest.mark.dbt
def test_duckdb_schemas_and_mismatch_marts(duckdb_wh: Warehouse) -> None:
    schemas = {r[0] for r in duckdb_wh.query("select schema_name from information_schema.schemata")}
    assert {"raw", "staging", "intermediate", "marts"} <= schemas
    assert not any(s.startswith(("marts_", "main_")) for s in schemas), schemas
    check_marts(duckdb_wh.query(UNIT_SQL), duckdb_wh.query(COUNTY_SQL))
    check_time_semantics_and_plan(duckdb_wh.query)
    check_other_models(duckdb_wh.query)


@pytest.mark.dbt
def test_duckdb_staffing_workload_plan_scorecard(duckdb_wh: Warehouse) -> None:
    check_staffing(duckdb_wh.query)
    check_workload(duckdb_wh.query)
    check_reallocation_and_scorecard(duckdb_wh.query)


@pytest.mark.dbt
def test_duckdb_incremental_equals_full_refresh(duckdb_wh: Warehouse) -> None:
    assert len(duckdb_wh.fct_incremental) == 7
    assert duckdb_wh.fct_incremental == duckdb_wh.fct_full_refresh
    assert len(duckdb_wh.stg_incremental) == 7
    assert duckdb_wh.stg_incremental == duckdb_wh.stg_full_refresh


# ---- PostgreSQL ---------------------------------------------------------------------------------


@pytest.mark.dbt
@pytest.mark.postgres
def test_postgres_schemas_and_mismatch_marts(postgres_wh: Warehouse) -> None:
    schemas = {r[0] for r in postgres_wh.query("select schema_name from information_schema.schemata")}
    assert {"raw", "staging", "intermediate", "marts"} <= schemas
    check_marts(postgres_wh.query(UNIT_SQL), postgres_wh.query(COUNTY_SQL))
    check_time_semantics_and_plan(postgres_wh.query)
    check_other_models(postgres_wh.query)


@pytest.mark.dbt
@pytest.mark.postgres
def test_postgres_staffing_workload_plan_scorecard(postgres_wh: Warehouse) -> None:
    check_staffing(postgres_wh.query)
    check_workload(postgres_wh.query)
    check_reallocation_and_scorecard(postgres_wh.query)


@pytest.mark.dbt
@pytest.mark.postgres
def test_postgres_incremental_equals_full_refresh(postgres_wh: Warehouse) -> None:
    assert len(postgres_wh.fct_incremental) == 7
    assert postgres_wh.fct_incremental == postgres_wh.fct_full_refresh
    assert len(postgres_wh.stg_incremental) == 7
    assert postgres_wh.stg_incremental == postgres_wh.stg_full_refresh


# ---- offline parse ------------------------------------------------------------------------------


@pytest.mark.dbt
def test_dbt_parse_writes_manifest_offline(dbt_bin: str, tmp_path: Path) -> None:
    """Airflow/Cosmos render the DAG from target/manifest.json: parse must work without a warehouse."""
    env = {"GRASSROOTS_WAREHOUSE": str(tmp_path / "absent.duckdb")}
    run_dbt(dbt_bin, tmp_path, "duckdb", env, "parse")
    import json

    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    names = {n["name"] for n in manifest["nodes"].values()}
    assert {
        "mart_staffing_mismatch",
        "mart_staffing_mismatch_county",
        "dim_unit",
        "dim_date",
        "int_unit_months",
        "fct_cases",
        "mart_population",
        "mart_staffing",
        "mart_workload",
        "mart_workload_county",
        "mart_workload_category",
        "mart_workload_township",
        "mart_reallocation_plan",
        "mart_scorecard",
        "mart_scorecard_sensitivity",
        "mart_scorecard_stability",
        "mart_scorecard_correlations",
        "scorecard_settings",
        "holiday_calendar",
        "case_categories",
        "staffing_norms",
        "scorecard_weights",
        "peer_group_bands",
    } <= names
    assert not (tmp_path / "absent.duckdb").exists(), "dbt parse must not open the warehouse"
