"""The lower bound: the core evaluation aggregates in one bare DuckDB script, straight from the landing CSVs.

No validation, no typing rules, no hashing, no audit, no orchestration, no intermediate tables kept:
what any pipeline computing these figures must at least do (read every delivered row once and
aggregate it). Same definitions as the marts (DESIGN §5, dbt_project/models):

- per unit and month: resident and registered population (latest snapshot at or before month end),
  staff FTE (posts active on the county's latest roster snapshot of the month);
- per county and month: D_resident and D_registered over the allocation base (village-level units
  with both populations and a roster);
- per unit and month: cases received (latest version of each case, by reported month) and the three
  接诉即办 rates: response rate (responded within SLA / received), resolution rate
  (closed / (received − cancelled)), satisfaction rate ((basically) satisfied / rated); SLA clocks
  in working hours for SLAs in working days (the dbt seeds' holiday calendar).

    .venv/bin/python bench/lower_bound.py --landing /work/benchdata/national/month/landing --month 2024-03
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "dbt_project" / "seeds"
DIVISIONS = ROOT / "include" / "reference" / "divisions_2023.parquet"
WORK_START_H, WORK_END_H = 9, 17  # dbt vars working_day_start_hour / working_day_end_hour
WORK_S = (WORK_END_H - WORK_START_H) * 3600


def _csv(landing: Path, feed: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f"'{k}': '{v}'" for k, v in columns.items())
    return f"read_csv('{landing}/{feed}/*/*.csv', header = true, columns = {{{cols}}})"


def _clock(ts: str, cal: str) -> str:
    sod = f"(extract(epoch FROM {ts}) - extract(epoch FROM date_trunc('day', {ts})))"
    return (
        f"({cal}.working_days_before * {WORK_S} + CASE WHEN {cal}.is_working_day "
        f"THEN least(greatest({sod} - {WORK_START_H * 3600}, 0), {WORK_S}) ELSE 0 END)"
    )


def compute(con: duckdb.DuckDBPyConnection, landing: Path, month: str) -> dict[str, float]:
    """Create tables lb_units (unit × month), lb_counties (county × month); return stage seconds."""
    month_start = f"DATE '{month}-01'"
    month_end = f"(DATE '{month}-01' + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE"
    t = {}
    t0 = time.perf_counter()
    roster = _csv(
        landing,
        "staff_roster",
        {
            "staff_id": "VARCHAR",
            "name": "VARCHAR",
            "id_number": "VARCHAR",
            "phone": "VARCHAR",
            "unit_code": "VARCHAR",
            "post_category": "VARCHAR",
            "fte": "DOUBLE",
            "hire_date": "DATE",
            "exit_date": "DATE",
            "education": "VARCHAR",
            "social_work_cert": "VARCHAR",
            "snapshot_date": "DATE",
        },
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE lb_staff AS
        WITH posts AS (
            SELECT unit_code, substr(unit_code, 1, 6) || '000000' AS county_code, fte, snapshot_date,
                   coalesce(nullif(upper(trim(id_number)), ''), 'staff_id:' || staff_id) AS person_key,
                   (hire_date IS NULL OR hire_date <= snapshot_date)
                   AND (exit_date IS NULL OR exit_date > snapshot_date) AS active
            FROM {roster} WHERE date_trunc('month', snapshot_date) = {month_start}
        ),
        latest AS (SELECT county_code, max(snapshot_date) AS snap FROM posts GROUP BY 1),
        snapshot AS (
            SELECT posts.*,
                   -- One person counts at most 1.0 FTE in a county snapshot (docs/methodology.md).
                   sum(CASE WHEN active THEN fte ELSE 0 END)
                       OVER (PARTITION BY posts.county_code, snapshot_date, person_key) AS person_total
            FROM latest JOIN posts
                ON posts.county_code = latest.county_code AND posts.snapshot_date = latest.snap
        )
        SELECT latest.county_code, snapshot.unit_code,
               sum(CASE WHEN active THEN
                   CASE WHEN person_total > 1 + 1e-9 THEN fte / person_total ELSE fte END END) AS staff_fte
        FROM latest LEFT JOIN snapshot ON snapshot.county_code = latest.county_code
        GROUP BY ALL
        """
    )
    t["staff_roster"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for feed, col, extra in (
        ("household_registration", "registered_population", "registered_households BIGINT"),
        ("resident_population", "resident_population", "resident_households BIGINT"),
    ):
        columns = {"unit_code": "VARCHAR", "as_of_date": "DATE", col: "BIGINT"}
        columns[extra.split()[0]] = "BIGINT"
        if feed == "household_registration":
            columns["registered_age_65_plus"] = "BIGINT"
        else:
            columns.update(
                floating_population_in="BIGINT", residents_age_65_plus="BIGINT", vulnerable_persons="BIGINT"
            )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE lb_{feed} AS
            SELECT unit_code, arg_max({col}, as_of_date) AS {col}
            FROM {_csv(landing, feed, columns)} WHERE as_of_date <= {month_end} GROUP BY unit_code
            """
        )
    t["population"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cases = _csv(
        landing,
        "case_log",
        {
            "case_id": "VARCHAR",
            "unit_code": "VARCHAR",
            "channel": "VARCHAR",
            "category": "VARCHAR",
            "reported_at": "TIMESTAMP",
            "assigned_at": "TIMESTAMP",
            "first_response_at": "TIMESTAMP",
            "closed_at": "TIMESTAMP",
            "status": "VARCHAR",
            "escalated_to_level": "VARCHAR",
            "handled_by_unit_code": "VARCHAR",
            "satisfaction": "VARCHAR",
            "reporter_phone": "VARCHAR",
            "description": "VARCHAR",
            "updated_at": "TIMESTAMP",
        },
    )
    # the delivery file of every row (DuckDB's `filename` column): a file without any first_response_at
    # is a supplier that sends no response times, whose cases leave the response rate (as in fct_cases)
    cases = cases[:-1] + ", filename = true)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE lb_calendar AS
        WITH days AS (SELECT CAST(d AS DATE) AS day FROM range(DATE '{int(month[:4]) - 1}-01-01',
                      DATE '{int(month[:4]) + 1}-12-31', INTERVAL 1 DAY) AS r(d)),
        official AS (SELECT calendar_date, is_working_day
                     FROM read_csv('{SEEDS}/holiday_calendar.csv', header = true,
                     columns = {{'calendar_date': 'DATE', 'day_type': 'VARCHAR', 'is_working_day': 'BOOLEAN',
                     'holiday_name': 'VARCHAR', 'holiday_name_zh': 'VARCHAR',
                     'calendar_first_year': 'INTEGER',
                     'calendar_last_year': 'INTEGER', 'source': 'VARCHAR'}}))
        SELECT day, coalesce(official.is_working_day, isodow(day) < 6) AS is_working_day,
               coalesce(sum(CASE WHEN coalesce(official.is_working_day, isodow(day) < 6) THEN 1 ELSE 0 END)
                   OVER (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
               AS working_days_before
        FROM days LEFT JOIN official ON official.calendar_date = days.day
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE lb_cases AS
        WITH latest AS (
            SELECT arg_max({{'unit_code': unit_code, 'category': category, 'reported_at': reported_at,
                       'first_response_at': first_response_at, 'closed_at': closed_at, 'status': status,
                       'satisfaction': satisfaction, 'source_file': filename}}, updated_at) AS c
            FROM {cases} GROUP BY case_id
        ),
        response_files AS (  -- a delivery file with no first_response_at in any row: response unknown
            SELECT filename AS source_file, count(first_response_at) > 0 AS has_response_data
            FROM {cases} GROUP BY filename
        ),
        flat AS (
            SELECT c.unit_code, c.category, c.reported_at, c.first_response_at, c.closed_at, c.status,
                   c.satisfaction,
                   c.first_response_at IS NOT NULL OR coalesce(f.has_response_data, true) AS response_known
            FROM latest LEFT JOIN response_files AS f ON f.source_file = c.source_file
            WHERE date_trunc('month', c.reported_at) = {month_start}
        ),
        sla AS (
            SELECT flat.*, cat.response_sla_unit,
                   CASE cat.response_sla_unit WHEN 'hours' THEN cat.response_sla
                        WHEN 'working_days' THEN cat.response_sla * {WORK_END_H - WORK_START_H} END
                       AS response_sla_hours,
                   CASE WHEN cat.response_sla_unit = 'working_days'
                        THEN ({_clock("first_response_at", "rd")} - {_clock("reported_at", "pd")}) / 3600.0
                        ELSE date_diff('second', reported_at, first_response_at) / 3600.0 END
                   AS response_hours
            FROM flat
            LEFT JOIN read_csv('{SEEDS}/case_categories.csv', header = true) AS cat USING (category)
            LEFT JOIN lb_calendar AS pd ON pd.day = CAST(flat.reported_at AS DATE)
            LEFT JOIN lb_calendar AS rd ON rd.day = CAST(flat.first_response_at AS DATE)
        )
        SELECT unit_code, count(*) AS cases_received,
               count(*) FILTER (WHERE status = 'cancelled') AS cases_cancelled,
               count(*) FILTER (WHERE status <> 'cancelled' AND first_response_at IS NOT NULL
                                AND response_hours <= response_sla_hours) AS cases_responded_within_sla,
               count(*) FILTER (WHERE status <> 'cancelled' AND response_sla_hours IS NOT NULL
                                AND response_known) AS response_rate_denominator,
               count(*) FILTER (WHERE status = 'closed') AS cases_closed,
               count(*) FILTER (WHERE status <> 'cancelled'
                                AND satisfaction IN ('satisfied', 'basically_satisfied', 'unsatisfied'))
                   AS cases_rated,
               count(*) FILTER (WHERE status <> 'cancelled'
                                AND satisfaction IN ('satisfied', 'basically_satisfied')) AS cases_satisfied
        FROM sla GROUP BY unit_code
        """
    )
    t["case_log"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE lb_units AS
        WITH feed_counties AS (
            SELECT county_code FROM lb_staff
            UNION SELECT substr(unit_code, 1, 6) || '000000' FROM lb_household_registration
            UNION SELECT substr(unit_code, 1, 6) || '000000' FROM lb_resident_population
            UNION SELECT substr(unit_code, 1, 6) || '000000' FROM lb_cases
        ),
        units AS (
            SELECT d.unit_code, d.county_code, d.level AS unit_level
            FROM read_parquet('{DIVISIONS}') d JOIN feed_counties USING (county_code)
            WHERE d.level = 'village'
            UNION ALL
            SELECT d.unit_code, d.county_code, d.level FROM read_parquet('{DIVISIONS}') d
            WHERE d.level = 'township' AND d.unit_code IN (SELECT unit_code FROM lb_staff)
        ),
        joined AS (
            SELECT units.*, {month_start} AS month,
                   res.resident_population, reg.registered_population,
                   CASE WHEN roster.county_code IS NOT NULL THEN coalesce(s.staff_fte, 0) END AS staff_fte,
                   coalesce(c.cases_received, 0) AS cases_received,
                   coalesce(c.cases_cancelled, 0) AS cases_cancelled,
                   coalesce(c.cases_responded_within_sla, 0) AS cases_responded_within_sla,
                   coalesce(c.response_rate_denominator, 0) AS response_rate_denominator,
                   coalesce(c.cases_closed, 0) AS cases_closed,
                   coalesce(c.cases_rated, 0) AS cases_rated,
                   coalesce(c.cases_satisfied, 0) AS cases_satisfied
            FROM units
            LEFT JOIN lb_resident_population res USING (unit_code)
            LEFT JOIN lb_household_registration reg USING (unit_code)
            LEFT JOIN (SELECT DISTINCT county_code FROM lb_staff) roster USING (county_code)
            LEFT JOIN lb_staff s USING (unit_code)
            LEFT JOIN lb_cases c USING (unit_code)
        ),
        base AS (
            SELECT *, coalesce(unit_level = 'village' AND resident_population IS NOT NULL
                       AND registered_population IS NOT NULL AND staff_fte IS NOT NULL, false) AS in_base
            FROM joined
        ),
        shares AS (
            SELECT *,
                CASE WHEN in_base THEN staff_fte / nullif(sum(CASE WHEN in_base THEN staff_fte END)
                    OVER (PARTITION BY county_code), 0) END AS staff_share,
                CASE WHEN in_base THEN resident_population
                    / nullif(sum(CASE WHEN in_base THEN resident_population END)
                    OVER (PARTITION BY county_code), 0) END AS resident_share,
                CASE WHEN in_base THEN registered_population / nullif(sum(CASE WHEN in_base
                    THEN registered_population END) OVER (PARTITION BY county_code), 0) END
                    AS registered_share
            FROM base
        )
        SELECT *,
            0.5 * sum(abs(staff_share - resident_share)) OVER (PARTITION BY county_code) AS d_resident,
            0.5 * sum(abs(staff_share - registered_share)) OVER (PARTITION BY county_code) AS d_registered,
            cases_responded_within_sla / nullif(response_rate_denominator, 0) AS response_rate,
            cases_closed / nullif(cases_received - cases_cancelled, 0) AS resolution_rate,
            cases_satisfied / nullif(cases_rated, 0) AS satisfaction_rate
        FROM shares
        """
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lb_counties AS SELECT county_code, month, "
        "max(d_resident) AS d_resident, "
        "max(d_registered) AS d_registered FROM lb_units GROUP BY ALL"
    )
    t["aggregate"] = time.perf_counter() - t0
    return t


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--landing", type=Path, required=True)
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, help="write the unit and county aggregates as Parquet here")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    con = duckdb.connect(config={"threads": args.threads})
    stages = compute(con, args.landing, args.month)
    total = time.perf_counter() - t0
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY lb_units TO '{args.out}/lb_units.parquet' (FORMAT parquet)")
        con.execute(f"COPY lb_counties TO '{args.out}/lb_counties.parquet' (FORMAT parquet)")
    units, counties = con.execute(
        "SELECT (SELECT count(*) FROM lb_units), (SELECT count(*) FROM lb_counties)"
    ).fetchone()
    print(json.dumps({"seconds": round(total, 3), "stages": stages, "units": units, "counties": counties}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
