"""The demo data generator: determinism, layout, census consistency and the built-in mismatch."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from grassroots import reference
from grassroots.feeds import FEEDS
from grassroots.generate import DEFAULT_COUNTIES, GenerationSummary, generate, main
from grassroots.idcard import id_check_sql, is_valid_id_number

SCALE = 0.2
START = "2024-01"
MONTHS = 2
DECLINING = ("220622", "231224")  # 白山市, 绥化市: lost people 2010→2020
GROWING = ("350206",)  # 厦门市 湖里区


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("landing")
    summary = generate(out, None, START, MONTHS, seed=42, scale=SCALE)
    return out, summary


@pytest.fixture(scope="module")
def con(landing: tuple[Path, GenerationSummary]) -> duckdb.DuckDBPyConnection:
    out, _ = landing
    c = duckdb.connect()
    for feed in FEEDS:
        c.execute(
            f"CREATE VIEW {feed} AS SELECT *, filename AS file "
            f"FROM read_csv('{out}/{feed}/*/*.csv', all_varchar = true, filename = true)"
        )
    c.execute(f"CREATE VIEW div AS SELECT * FROM read_parquet('{reference.divisions_path()}')")
    c.execute(f"CREATE VIEW census AS SELECT * FROM read_parquet('{reference.census_county_path()}')")
    yield c
    c.close()


def q(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_deterministic_byte_identical(landing: tuple[Path, GenerationSummary], tmp_path: Path) -> None:
    out, _ = landing
    again = generate(tmp_path / "again", None, START, MONTHS, seed=42, scale=SCALE)
    first, second = _digests(out), _digests(again.out_dir)
    assert first and first == second
    other = generate(tmp_path / "other", ["220622"], START, 1, seed=43, scale=SCALE)
    assert _digests(other.out_dir) != {k: v for k, v in first.items() if k in _digests(other.out_dir)}


def test_layout_and_headers(landing: tuple[Path, GenerationSummary]) -> None:
    out, summary = landing
    expected = {
        "staff_roster/2024-01-31/staff_roster_220622_202401.csv",
        "staff_roster/2024-02-29/staff_roster_350206_202402.csv",
        "household_registration/2024-01-31/household_registration_202401.csv",
        "household_registration/2024-02-29/household_registration_202402.csv",
        "resident_population/2023-12-31/resident_population_20231231.csv",
        "case_log/2024-01-01/case_log_20240101.csv",
        "case_log/2024-02-29/case_log_20240229.csv",
    }
    files = {str(p.relative_to(out)) for p in out.rglob("*.csv")}
    assert expected <= files
    assert not any(f.startswith("resident_population/2024-03") for f in files)
    assert len([f for f in files if f.startswith("staff_roster/")]) == 3 * MONTHS
    assert len([f for f in files if f.startswith("resident_population/")]) == 1
    assert len([f for f in files if f.startswith("case_log/")]) == 60
    for path in out.rglob("*.csv"):
        feed = path.relative_to(out).parts[0]
        header = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
        assert header == ",".join(FEEDS[feed].column_names), path
    assert summary.rows["household_registration"] == MONTHS * summary.villages
    assert sum(len(v) for v in summary.files.values()) == len(files)
    assert summary.villages <= 600 and summary.townships <= 40


def test_formats(con: duckdb.DuckDBPyConnection) -> None:
    date, ts = (
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}",
    )
    assert q(
        con,
        f"""SELECT count(*) FROM staff_roster WHERE NOT regexp_full_match(hire_date, '{date}')
            OR NOT regexp_full_match(snapshot_date, '{date}')
            OR (exit_date IS NOT NULL AND NOT regexp_full_match(exit_date, '{date}'))
            OR fte NOT IN ('1.0', '0.5')""",
    ) == [(0,)]
    assert q(
        con,
        f"""SELECT count(*) FROM case_log WHERE NOT regexp_full_match(reported_at, '{ts}')
            OR NOT regexp_full_match(updated_at, '{ts}')
            OR (closed_at IS NOT NULL AND NOT regexp_full_match(closed_at, '{ts}'))""",
    ) == [(0,)]


def test_id_numbers_and_phones_valid(con: duckdb.DuckDBPyConnection) -> None:
    rows = q(
        con,
        f"""SELECT count(*), sum(({id_check_sql("id_number")})::INT),
                   sum(regexp_full_match(phone, '1[3-9][0-9]{{9}}')::INT),
                   sum((substr(id_number, 1, 6) = substr(unit_code, 1, 6))::INT),
                   sum((substr(id_number, 7, 4) BETWEEN '1960' AND '2002')::INT)
            FROM staff_roster""",
    )
    n = rows[0][0]
    assert n > 0 and rows == [(n, n, n, n, n)]
    sample = [r[0] for r in q(con, "SELECT DISTINCT id_number FROM staff_roster ORDER BY 1")]
    assert all(is_valid_id_number(s) for s in sample)
    # one person, one ID number
    assert q(
        con,
        "SELECT count(DISTINCT staff_id) - count(DISTINCT id_number) FROM staff_roster",
    ) == [(0,)]
    assert q(
        con,
        """SELECT count(*) FROM case_log WHERE reporter_phone IS NOT NULL
           AND NOT regexp_full_match(reporter_phone, '1[3-9][0-9]{9}')""",
    ) == [(0,)]


def test_units_are_real_and_in_requested_counties(
    con: duckdb.DuckDBPyConnection,
) -> None:
    counties = [c.ljust(12, "0") for c in DEFAULT_COUNTIES]
    for feed, col, level in (
        ("household_registration", "unit_code", "village"),
        ("resident_population", "unit_code", "village"),
        ("case_log", "unit_code", "village"),
        ("staff_roster", "unit_code", None),
    ):
        level_cond = f"AND d.level = '{level}'" if level else "AND d.level IN ('village', 'township')"
        bad = q(
            con,
            f"""SELECT count(*) FROM {feed} f
                WHERE NOT EXISTS (SELECT 1 FROM div d WHERE d.unit_code = f.{col} {level_cond}
                                  AND d.county_code IN (SELECT unnest(?::VARCHAR[])))""".replace(
                "?", "['" + "','".join(counties) + "']"
            ),
        )
        assert bad == [(0,)], feed
    # staff work in villages and in townships (codes ending 000)
    kinds = q(
        con,
        "SELECT DISTINCT unit_code LIKE '%000' FROM staff_roster ORDER BY 1",
    )
    assert kinds == [(False,), (True,)]
    # every village of the region is covered
    assert q(
        con,
        f"""SELECT count(*) FROM div WHERE level = 'village'
            AND county_code IN ('{"','".join(counties)}') AND unit_code <> township_code
            AND unit_code NOT IN (SELECT unit_code FROM household_registration)""",
    ) == [(0,)]


def test_resident_population_matches_census(con: duckdb.DuckDBPyConnection) -> None:
    rows = q(
        con,
        """SELECT r.as_of_date, substr(r.unit_code, 1, 6) AS county,
                  sum(CAST(r.resident_population AS BIGINT)) AS residents, any_value(c.pop_total)
           FROM resident_population r
           JOIN census c ON c.county_code = rpad(substr(r.unit_code, 1, 6), 12, '0')
           GROUP BY ALL ORDER BY ALL""",
    )
    assert {r[1] for r in rows} == set(DEFAULT_COUNTIES)
    for _, county, residents, census in rows:
        assert abs(residents / (census * SCALE) - 1) < 0.03, county


def test_registered_vs_resident_by_trend(con: duckdb.DuckDBPyConnection) -> None:
    rows = {
        r[0]: r[1:]
        for r in q(
            con,
            """SELECT substr(h.unit_code, 1, 6),
                      sum(CAST(registered_population AS BIGINT)),
                      sum(CAST(resident_population AS BIGINT)),
                      sum((CAST(registered_population AS BIGINT)
                           < CAST(resident_population AS BIGINT))::INT),
                      count(*)
               FROM household_registration h JOIN resident_population r USING (unit_code)
               WHERE h.as_of_date = '2024-01-31' GROUP BY 1""",
        )
    }
    for county in DECLINING:
        registered, resident, _, _ = rows[county]
        assert registered > resident
        assert 0.6 <= resident / registered <= 0.9
    for county in GROWING:
        registered, resident, n_less, n = rows[county]
        assert registered < resident
        assert n_less > n / 2  # many units hold more residents than registrations


def test_staffing_mismatch_present(con: duckdb.DuckDBPyConnection) -> None:
    rows = q(
        con,
        """WITH st AS (
               SELECT unit_code, sum(CAST(fte AS DOUBLE)) AS fte FROM staff_roster
               WHERE snapshot_date = '2024-01-31' AND exit_date IS NULL GROUP BY 1),
           j AS (
               SELECT substr(r.unit_code, 1, 6) AS county, coalesce(st.fte, 0) AS fte,
                      CAST(r.resident_population AS DOUBLE) AS res
               FROM resident_population r LEFT JOIN st USING (unit_code)),
           s AS (
               SELECT county, fte / sum(fte) OVER w AS fs, res / sum(res) OVER w AS rs
               FROM j WINDOW w AS (PARTITION BY county))
           SELECT county, 0.5 * sum(abs(fs - rs)) FROM s GROUP BY 1 ORDER BY 1""",
    )
    assert len(rows) == 3
    for county, d_resident in rows:
        assert d_resident > 0.02, county


def test_staff_stable_across_months(con: duckdb.DuckDBPyConnection) -> None:
    ((jan, feb, both),) = q(
        con,
        """SELECT count(DISTINCT staff_id) FILTER (snapshot_date = '2024-01-31'),
                  count(DISTINCT staff_id) FILTER (snapshot_date = '2024-02-29'),
                  count(*) FILTER (n = 2)
           FROM (SELECT staff_id, any_value(snapshot_date) AS snapshot_date, count(*) AS n
                 FROM staff_roster GROUP BY staff_id)""",
    )
    assert both > 0.9 * min(jan, feb)
    mix = dict(q(con, "SELECT post_category, count(*) FROM staff_roster GROUP BY 1"))
    assert set(mix) == {
        "civil_servant",
        "public_institution",
        "community_worker",
        "grid_worker",
        "auxiliary",
    }


def test_case_timestamps_and_versions(con: duckdb.DuckDBPyConnection) -> None:
    assert q(
        con,
        """SELECT count(*) FROM case_log WHERE NOT (
               coalesce(assigned_at >= reported_at, true)
               AND coalesce(first_response_at >= assigned_at, true)
               AND coalesce(closed_at >= first_response_at, true)
               AND updated_at >= reported_at
               AND (first_response_at IS NULL OR assigned_at IS NOT NULL)
               AND (closed_at IS NULL OR first_response_at IS NOT NULL)
               AND (status <> 'closed' OR closed_at IS NOT NULL)
               AND updated_at <= '2024-02-29 23:59:59'
               AND reported_at >= '2024-01-01 00:00:00'
               AND file LIKE '%/case_log/' || substr(updated_at, 1, 10) || '/case_log_'
                   || replace(substr(updated_at, 1, 10), '-', '') || '.csv')""",
    ) == [(0,)]
    # (case_id, updated_at) is the key; some cases appear in two or more daily files
    assert q(con, "SELECT count(*) - count(DISTINCT (case_id, updated_at)) FROM case_log") == [(0,)]
    (multi,) = q(
        con,
        """SELECT count(*) FROM (SELECT case_id FROM case_log GROUP BY 1
                                 HAVING count(DISTINCT file) >= 2)""",
    )
    assert multi[0] > 0
    assert q(
        con,
        """SELECT count(*) FROM case_log
           WHERE NOT regexp_full_match(case_id, 'C[0-9]{6}[0-9]{8}[0-9]+')
              OR substr(case_id, 2, 6) <> substr(unit_code, 1, 6)""",
    ) == [(0,)]


def test_case_mix(con: duckdb.DuckDBPyConnection) -> None:
    latest = """(SELECT * FROM case_log
                 QUALIFY row_number() OVER (PARTITION BY case_id ORDER BY updated_at DESC) = 1)"""
    statuses = dict(q(con, f"SELECT status, count(*) FROM {latest} GROUP BY 1"))
    assert statuses["closed"] > statuses.get("in_progress", 0) > 0
    assert statuses.get("cancelled", 0) > 0
    assert {r[0] for r in q(con, f"SELECT DISTINCT escalated_to_level FROM {latest}")} >= {
        "none",
        "township",
        "county",
    }
    sats = {r[0] for r in q(con, f"SELECT DISTINCT satisfaction FROM {latest}")}
    assert {"satisfied", "basically_satisfied", "unsatisfied", "not_rated"} <= sats
    # digital channels are more common in the urban district
    share = dict(
        q(
            con,
            f"""SELECT substr(unit_code, 1, 6),
                       avg((channel IN ('mobile_app', 'online_portal'))::INT)
                FROM {latest} GROUP BY 1""",
        )
    )
    assert share["350206"] > share["231224"]
    # repeat reports: same reporter, same category, within 30 days
    (repeats,) = q(
        con,
        f"""SELECT count(*) FROM {latest} a JOIN {latest} b
            ON a.reporter_phone = b.reporter_phone AND a.category = b.category
           AND a.case_id <> b.case_id
           AND CAST(b.reported_at AS TIMESTAMP) > CAST(a.reported_at AS TIMESTAMP)
           AND CAST(b.reported_at AS TIMESTAMP)
               <= CAST(a.reported_at AS TIMESTAMP) + INTERVAL 30 DAY""",
    )
    assert repeats[0] > 0
    # cases arrive in proportion to residents: per-1,000 rates of the counties are similar
    rates = q(
        con,
        f"""SELECT c.county, c.cases * 1000.0 / r.res / {MONTHS}
            FROM (SELECT substr(unit_code, 1, 6) AS county, count(*) AS cases
                  FROM {latest} GROUP BY 1) c
            JOIN (SELECT substr(unit_code, 1, 6) AS county,
                         sum(CAST(resident_population AS BIGINT)) AS res
                  FROM resident_population GROUP BY 1) r USING (county)""",
    )
    for county, rate in rates:
        assert 1.5 < rate < 5.0, county


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    rc = main(
        ["--out", str(out), "--counties", "220622", "--start", "2023-12", "--months", "1",
         "--seed", "1", "--scale", "0.05"]
    )  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    assert "case_log" in printed and "220622" in printed
    assert (out / "staff_roster/2023-12-31/staff_roster_220622_202312.csv").exists()
    # a window starting in December: the base snapshot is 2023-11-30, Dec 31 is a quarter end
    assert (out / "resident_population/2023-11-30/resident_population_20231130.csv").exists()
    assert (out / "resident_population/2023-12-31/resident_population_20231231.csv").exists()
    assert main(["--out", str(out), "--counties", "999999"]) == 2
    with pytest.raises(ValueError):
        generate(out, ["110101"], "2024-13", 1, 1)
