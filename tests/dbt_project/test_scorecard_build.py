"""The scorecard on a real build (DuckDB and PostgreSQL): the fixtures of fixtures.py plus five villages
of county A with enough January cases to be scored (scorecard_fixtures.py, whose docstring derives
every expected value by hand). Builds only the scorecard marts and their ancestors (with their data and
unit tests), in a warehouse of its own.

Checks: in county A, no unit without enough coverage is ranked (V1–V3 insufficient_data, V4 no_data);
the ranked villages have the hand-computed composite, ranks, rank range, contributions, shrunk values
and scores; the stability and correlation marts agree with the same example. February: the same
villages are scored on January's cases through the three-month window of the case rates.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from fixtures import COUNTY_A, load_duckdb, load_postgres
from scorecard_fixtures import (
    EXPECTED_R_DIGITAL_SATISFACTION,
    EXPECTED_SCORECARD_FEB,
    EXPECTED_SCORECARD_INDICATORS,
    EXPECTED_SCORECARD_INDICATORS_FEB,
    EXPECTED_SCORECARD_JAN,
    EXPECTED_STABILITY_VILLAGE_JAN,
    EXPECTED_V11_CONTRIBUTIONS,
    V11,
    scorecard_extra_rows,
)
from test_dbt_build import _close, _pg_dsn, run_dbt

PG_DBNAME = os.environ.get("GRASSROOTS_TEST_PG_SCORECARD_DBNAME", "grassroots_test_scorecard")
# cautious: leave out the tests that also read models outside the selection (workload roll-ups)
SELECT = [
    "--select",
    "+mart_scorecard",
    "+mart_scorecard_stability",
    "+mart_scorecard_correlations",
    "--indirect-selection",
    "cautious",
]

SCORECARD_SQL = """
    select unit_code, scoring_status, coverage, scoring_peer_group, peer_group_fallback, composite_score,
           rank_in_peer_group, rank_in_county, rank_min, rank_max, rank_range
    from marts.mart_scorecard
    where county_code = '{county}' and month = date '2024-01-01'
"""
CONTRIBUTIONS_SQL = """
    select professionalism_contribution, responsiveness_contribution, self_governance_contribution,
           institutionalisation_contribution, digitalisation_contribution, coverage_contribution
    from marts.mart_scorecard where unit_code = '{unit}' and month = date '2024-01-01'
"""
INDICATORS_SQL = """
    select unit_code, indicator_code, score_reason, scoring_value, peer_mean, score
    from marts.mart_scorecard_indicators where month = date '2024-01-01'
"""
SCORECARD_FEB_SQL = """
    select unit_code, scoring_status, coverage, scoring_peer_group, peer_group_fallback, window_months,
           composite_score, rank_in_peer_group, rank_in_county
    from marts.mart_scorecard
    where scoring_status in ('complete', 'partial') and month = date '2024-02-01'
"""
INDICATORS_FEB_SQL = """
    select unit_code, indicator_code, window_months, indicator_value, indicator_denominator, score_reason,
           scoring_value, score
    from marts.mart_scorecard_indicators where month = date '2024-02-01'
"""
STABILITY_SQL = """
    select scenarios, units_ranked, rank_shift_places, units_moving_more_than_n, max_rank_range
    from marts.mart_scorecard_stability where scoring_peer_group = 'village' and month = date '2024-01-01'
"""
CORRELATION_SQL = """
    select units, pearson_r from marts.mart_scorecard_correlations
    where scoring_peer_group = 'village' and month = date '2024-01-01'
      and indicator_a = 'digital_channel_share' and indicator_b = 'satisfaction_rate'
"""


def check_scorecard(query: Callable[[str], list[tuple]]) -> None:
    rows = {r[0]: r[1:] for r in query(SCORECARD_SQL.format(county=COUNTY_A))}
    assert set(rows) == set(EXPECTED_SCORECARD_JAN), set(rows) ^ set(EXPECTED_SCORECARD_JAN)
    names = (
        "scoring_status",
        "coverage",
        "scoring_peer_group",
        "peer_group_fallback",
        "composite_score",
        "rank_in_peer_group",
        "rank_in_county",
        "rank_min",
        "rank_max",
        "rank_range",
    )
    for unit, expected in EXPECTED_SCORECARD_JAN.items():
        for name, actual, exp in zip(names, rows[unit], expected, strict=True):
            assert _close(actual, exp), f"{unit} {name}: got {actual!r}, expected {exp!r}"
    # nowhere is a unit without enough coverage ranked
    (unranked_with_rank,) = query(
        "select count(*) from marts.mart_scorecard where scoring_status not in ('complete', 'partial') "
        "and (rank_in_peer_group is not null or rank_in_county is not null or composite_score is not null)"
    )[0]
    assert unranked_with_rank == 0
    # decomposition of V11's composite
    (contributions,) = query(CONTRIBUTIONS_SQL.format(unit=V11))
    for actual, exp in zip(contributions, EXPECTED_V11_CONTRIBUTIONS, strict=True):
        assert _close(actual, exp), (contributions, EXPECTED_V11_CONTRIBUTIONS)
    # indicator level: shrinkage, scores, reasons
    got = {(r[0], r[1]): r[2:] for r in query(INDICATORS_SQL)}
    for key, expected in EXPECTED_SCORECARD_INDICATORS.items():
        for name, actual, exp in zip(
            ("score_reason", "scoring_value", "peer_mean", "score"), got[key], expected, strict=True
        ):
            assert _close(actual, exp), f"{key} {name}: got {actual!r}, expected {exp!r}"
    # rank stability and the multivariate check
    assert [tuple(int(x) for x in r) for r in query(STABILITY_SQL)] == [EXPECTED_STABILITY_VILLAGE_JAN]
    ((units, r),) = query(CORRELATION_SQL)
    assert units == 5 and _close(r, EXPECTED_R_DIGITAL_SATISFACTION)
    check_scorecard_window(query)


def check_scorecard_window(query: Callable[[str], list[tuple]]) -> None:
    """February: V7–V11 have no February case and are scored on January's cases through the
    three-month window of the case rates (scorecard_fixtures.py docstring); nobody else is scored."""
    rows = {r[0]: r[1:] for r in query(SCORECARD_FEB_SQL)}
    assert set(rows) == set(EXPECTED_SCORECARD_FEB), set(rows) ^ set(EXPECTED_SCORECARD_FEB)
    names = (
        "scoring_status",
        "coverage",
        "scoring_peer_group",
        "peer_group_fallback",
        "window_months",
        "composite_score",
        "rank_in_peer_group",
        "rank_in_county",
    )
    for unit, expected in EXPECTED_SCORECARD_FEB.items():
        for name, actual, exp in zip(names, rows[unit], expected, strict=True):
            assert _close(actual, exp), f"{unit} February {name}: got {actual!r}, expected {exp!r}"
    got = {(r[0], r[1]): r[2:] for r in query(INDICATORS_FEB_SQL)}
    names = (
        "window_months",
        "indicator_value",
        "indicator_denominator",
        "score_reason",
        "scoring_value",
        "score",
    )
    for key, expected in EXPECTED_SCORECARD_INDICATORS_FEB.items():
        for name, actual, exp in zip(names, got[key], expected, strict=True):
            assert _close(actual, exp), f"{key} February {name}: got {actual!r}, expected {exp!r}"


def _append_duckdb(path: str) -> None:
    import duckdb

    con = duckdb.connect(path)
    try:
        for table, (names, rows) in scorecard_extra_rows().items():
            cols = ", ".join(f'"{n}"' for n in names)
            con.executemany(
                f"insert into raw.{table} ({cols}) values ({', '.join('?' for _ in names)})", rows
            )
    finally:
        con.close()


@pytest.fixture(scope="module")
def scorecard_duckdb(dbt_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable]:
    import duckdb

    tmp_path = tmp_path_factory.mktemp("dbt_scorecard_duckdb")
    warehouse = str(tmp_path / "warehouse.duckdb")
    load_duckdb(warehouse)
    _append_duckdb(warehouse)
    run_dbt(dbt_bin, tmp_path, "duckdb", {"GRASSROOTS_WAREHOUSE": warehouse}, "build", *SELECT)

    def query(sql: str) -> list[tuple]:
        con = duckdb.connect(warehouse, read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    yield query


@pytest.fixture(scope="module")
def scorecard_postgres(dbt_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable]:
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

    tmp_path = tmp_path_factory.mktemp("dbt_scorecard_postgres")
    dsn = _pg_dsn(PG_DBNAME)
    load_postgres(dsn)
    con = psycopg2.connect(dsn)
    con.autocommit = True
    with con.cursor() as cur:
        for table, (names, rows) in scorecard_extra_rows().items():
            cols = ", ".join(f'"{n}"' for n in names)
            cur.executemany(
                f"insert into raw.{table} ({cols}) values ({', '.join('%s' for _ in names)})", rows
            )
    run_dbt(dbt_bin, tmp_path, "postgres", {"GRASSROOTS_PG_DBNAME": PG_DBNAME}, "build", *SELECT)

    def query(sql: str) -> list[tuple]:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    try:
        yield query
    finally:
        con.close()


@pytest.mark.dbt
def test_duckdb_scorecard_hand_computed(scorecard_duckdb: Callable) -> None:
    check_scorecard(scorecard_duckdb)


@pytest.mark.dbt
@pytest.mark.postgres
def test_postgres_scorecard_hand_computed(scorecard_postgres: Callable) -> None:
    check_scorecard(scorecard_postgres)


def test_scorecard_fixture_cases_are_unique() -> None:
    """The extra cases have unique ids and source rows (the staging tests would refuse duplicates)."""
    _, rows = scorecard_extra_rows()["case_log"]
    assert len(rows) == 40 and len({r[0] for r in rows}) == 40
