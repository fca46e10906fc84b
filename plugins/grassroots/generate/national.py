"""Benchmark data at any scope up to the whole country, generated in DuckDB SQL (issue #8).

    from grassroots.generate.national import generate_national
    summary = generate_national(Path("/work/benchdata/national/landing"), scope="national",
                                month="2024-03", case_days=None, extra_day=True)

The skeleton is the real 2023 division codes (``include/reference/divisions_2023.parquet``): every
village and community of the scope, every township. Residents per county follow the 2020 census
(falling back to 2,000 per village where a county has no census row), spread over the county's
villages with log-normal weights; registered population is residents divided by a residence ratio
set by the city's 2010→2020 trend (out-migration cities register more people than live there).
Staff are allocated 60 % by registration and 40 % by residence, so the mismatch the product
measures is really there; township offices get formal staff of their own. Cases arrive in
proportion to residents, about 1.25 million new cases a day nationally plus the next-day closure
versions of a fifth of them: ~1.5 million case rows a day, ~46 million a month.

Everything is a pure function of (seed, key) through DuckDB's ``hash``: no Python loop over rows,
the same arguments give the same files. Files use the canonical layouts (``include/mappings/
canonical_*.yml``) so the real ingest loads them: rosters one file per province (a national
roster per county would be 2,900 files a month), registrations one national file a month,
resident population one file per quarter end, case logs one file a day. Every row is valid (no
quarantine), so the bare-DuckDB lower bound and the marts see the same rows.
"""

from __future__ import annotations

import calendar
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from grassroots.feeds import (
    CASE_CATEGORIES,
    CASE_LOG,
    HOUSEHOLD_REGISTRATION,
    RESIDENT_POPULATION,
    STAFF_ROSTER,
)
from grassroots.generate.feeds_writer import select_list
from grassroots.idcard import CHECK_CHARS, WEIGHTS
from grassroots.reference import divisions_path

# Scopes: a name, or "province:<2-digit code>[,<code>…]", or "county:<6-digit code>[,…]".
SCOPES = {
    # two real counties: an out-migration rural county and a fast-growing urban district
    "tiny": "county:220622,350206",
    # one mid-size province (吉林省: 9 cities, ~9,300 villages and communities)
    "province": "province:22",
    "national": "national",
}
NATIONAL_NEW_CASES_PER_DAY = 1_250_000
CHINA_RESIDENTS_2020 = 1_411_778_724
STAFF_PER_1000 = 3.0  # village-level posts per 1000 people (plus township offices): ~5 M nationally
TOWNSHIP_OFFICE_STAFF = 20
SECOND_VERSION_SHARE = 0.2  # cases closed the next day: delivered again on that day


@dataclass
class NationalSummary:
    out_dir: Path
    scope: str
    month: str
    case_days: list[str]
    villages: int = 0
    townships: int = 0
    counties: int = 0
    residents: int = 0
    files: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "scope": self.scope,
            "month": self.month,
            "case_days": self.case_days,
            "villages": self.villages,
            "townships": self.townships,
            "counties": self.counties,
            "residents": self.residents,
            "files": self.files,
            "rows": self.rows,
            "bytes": self.bytes,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def _scope_filter(scope: str) -> str:
    spec = SCOPES.get(scope, scope)
    if spec == "national":
        return "TRUE"
    kind, _, codes = spec.partition(":")
    items = [c.strip() for c in codes.split(",") if c.strip()]
    if kind == "province" and items and all(len(c) == 2 and c.isdigit() for c in items):
        return "substr(unit_code, 1, 2) IN (" + ", ".join(f"'{c}'" for c in items) + ")"
    if kind == "county" and items and all(len(c) == 6 and c.isdigit() for c in items):
        return "substr(unit_code, 1, 6) IN (" + ", ".join(f"'{c}'" for c in items) + ")"
    raise ValueError(
        f"unknown scope {scope!r}: tiny, province, national, province:<2 digits>, county:<6 digits>"
    )


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _u(seed: int, *parts: str) -> str:
    """A uniform number in [0, 1) from the hash of (seed, parts)."""
    key = " || '|' || ".join([f"'{seed}'", *parts])
    return f"((hash({key}) % 1000003) / 1000003.0)"


def _normal(seed: int, *parts: str) -> str:
    """A standard normal variate (Box–Muller over two hashed uniforms)."""
    a = _u(seed, *parts, _lit("n1"))
    b = _u(seed, *parts, _lit("n2"))
    return f"(sqrt(-2 * ln(1 - {a})) * cos(2 * pi() * {b}))"


def _id_check_expr(first17: str) -> str:
    total = " + ".join(f"CAST(substr({first17}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(WEIGHTS))
    return f"substr('{CHECK_CHARS}', (({total}) % 11) + 1, 1)"


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    year, mon = (int(x) for x in month.split("-"))
    return dt.date(year, mon, 1), dt.date(year, mon, calendar.monthrange(year, mon)[1])


def _quarter_end_before(day: dt.date) -> dt.date:
    """The last quarter end strictly before `day`'s quarter (the previous resident snapshot)."""
    q_start_month = 3 * ((day.month - 1) // 3) + 1
    return dt.date(day.year, q_start_month, 1) - dt.timedelta(days=1)


def build_units(con: duckdb.DuckDBPyConnection, scope: str, seed: int) -> None:
    """Temp tables `villages` (with base residents, registered, staff count) and `townships`."""
    ref = str(Path(__file__).resolve().parents[3] / "include" / "reference")
    where = _scope_filter(scope)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE divisions AS
        SELECT * FROM read_parquet('{divisions_path()}') WHERE level IN ('village', 'township') AND {where}
        """
    )
    w = f"exp(0.45 * {_normal(seed, 'unit_code', _lit('w'))})"
    ratio_noise = _normal(seed, "unit_code", _lit("r"))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE villages AS
        WITH v AS (
            SELECT unit_code, county_code, township_code, city_code,
                   coalesce(urban_rural, 'rural') AS urban_rural,
                   {w} AS weight
            FROM divisions WHERE level = 'village'
        ),
        counties AS (
            SELECT v.county_code, count(*) AS n, sum(weight) AS wsum,
                   coalesce(max(c.pop_total), count(*) * 2000) AS pop_total
            FROM v LEFT JOIN read_parquet('{ref}/census_county_2020.parquet') c
                ON c.county_code = v.county_code AND c.level = 'county'
            GROUP BY v.county_code
        ),
        trend AS (
            SELECT city_code, popu_2020::DOUBLE / nullif(popu_2010, 0) - 1 AS change
            FROM read_parquet('{ref}/census_city_2010_2020.parquet')
        ),
        sized AS (
            SELECT v.*,
                   greatest(50, round(counties.pop_total * v.weight / counties.wsum))::BIGINT AS residents,
                   coalesce(trend.change, 0) AS change
            FROM v JOIN counties USING (county_code) LEFT JOIN trend USING (city_code)
        )
        SELECT *,
            greatest(40, round(residents / CASE
                WHEN change < -0.05 THEN least(0.95, greatest(0.55, 0.8 + 0.1 * {ratio_noise}))
                WHEN change > 0.05 THEN least(1.6, greatest(0.95, 1.25 + 0.12 * {ratio_noise}))
                ELSE least(1.25, greatest(0.8, 1 + 0.08 * {_normal(seed, "unit_code", _lit("r"))}))
            END))::BIGINT AS registered
        FROM sized
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE villages AS
        SELECT *, greatest(1, round((0.6 * registered + 0.4 * residents) * {STAFF_PER_1000} / 1000
                  * (0.8 + 0.4 * {_u(seed, "unit_code", _lit("s"))})))::INTEGER AS staff_n
        FROM villages
        """
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE townships AS SELECT unit_code, county_code FROM divisions "
        "WHERE level = 'township' AND unit_code IN (SELECT DISTINCT township_code FROM villages)"
    )


def _write(con: duckdb.DuckDBPyConnection, feed, query: str, path: Path) -> tuple[int, int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    con.execute(
        f"COPY (SELECT {select_list(feed)} FROM ({query})) TO '{tmp}' "
        "(FORMAT csv, HEADER true, DELIMITER ',')"
    )
    rows = con.execute(
        f"SELECT count(*) FROM read_csv('{tmp}', header = true, all_varchar = true)"
    ).fetchone()[0]
    tmp.replace(path)
    return int(rows), path.stat().st_size


def _registration_sql(as_of: dt.date, seed: int) -> str:
    drift = _u(seed, "unit_code", f"'reg{as_of}'")
    return f"""
        SELECT unit_code, DATE '{as_of}' AS as_of_date,
               round(registered * (0.995 + 0.01 * {drift}))::BIGINT AS registered_population,
               round(registered * (0.995 + 0.01 * {drift}) / 2.8)::BIGINT AS registered_households,
               round(registered * (0.995 + 0.01 * {drift}) * 0.16)::BIGINT AS registered_age_65_plus
        FROM villages ORDER BY unit_code"""


def _resident_sql(as_of: dt.date, seed: int) -> str:
    drift = _u(seed, "unit_code", f"'res{as_of}'")
    pop = f"round(residents * (0.99 + 0.02 * {drift}))"
    return f"""
        SELECT unit_code, DATE '{as_of}' AS as_of_date,
               {pop}::BIGINT AS resident_population,
               round({pop} / 2.6)::BIGINT AS resident_households,
               round({pop} * CASE WHEN urban_rural = 'urban' THEN 0.2 ELSE 0.03 END)::BIGINT
                   AS floating_population_in,
               round({pop} * 0.14)::BIGINT AS residents_age_65_plus,
               round({pop} * 0.02)::BIGINT AS vulnerable_persons
        FROM villages ORDER BY unit_code"""


_VILLAGE_POSTS = (
    "community_worker",
    "community_worker",
    "grid_worker",
    "grid_worker",
    "auxiliary",
    "public_institution",
)
POSTS_VILLAGE = "[" + ", ".join(f"'{p}'" for p in _VILLAGE_POSTS) + "]"
POSTS_TOWNSHIP = "['civil_servant', 'civil_servant', 'public_institution', 'auxiliary']"
EDUCATION = "['junior_high', 'senior_high', 'vocational', 'college', 'bachelor', 'postgraduate']"
CERTS = "['none', 'none', 'assistant', 'intermediate', 'senior']"


def _roster_sql(snapshot: dt.date, province: str, seed: int) -> str:
    first17 = (
        "substr(unit_code, 1, 6) || strftime(DATE '1965-01-01' + CAST(floor(u_birth * 12000) AS INTEGER), "
        "'%Y%m%d') || lpad(CAST(hash(staff_id) % 1000 AS VARCHAR), 3, '0')"
    )
    return f"""
        WITH posts AS (
            SELECT unit_code, 'S' || unit_code || lpad(CAST(i AS VARCHAR), 4, '0') AS staff_id,
                   {POSTS_VILLAGE} AS posts
            FROM (SELECT unit_code, unnest(range(staff_n)) AS i FROM villages
                  WHERE substr(unit_code, 1, 2) = '{province}')
            UNION ALL
            SELECT unit_code, 'S' || unit_code || lpad(CAST(i AS VARCHAR), 4, '0'), {POSTS_TOWNSHIP}
            FROM (SELECT unit_code, unnest(range({TOWNSHIP_OFFICE_STAFF})) AS i FROM townships
                  WHERE substr(unit_code, 1, 2) = '{province}')
        ),
        drawn AS (
            SELECT *, {_u(seed, "staff_id", _lit("b"))} AS u_birth,
                   {_u(seed, "staff_id", _lit("p"))} AS u_post,
                   {_u(seed, "staff_id", _lit("h"))} AS u_hire, {_u(seed, "staff_id", _lit("x"))} AS u_exit,
                   {_u(seed, "staff_id", _lit("e"))} AS u_edu
            FROM posts
        ),
        people AS (
            SELECT *, {first17} AS first17,
                   DATE '2005-01-01' + CAST(floor(u_hire * 6900) AS INTEGER) AS hire_date
            FROM drawn
        )
        SELECT staff_id,
               '职工' || right(staff_id, 4) AS name,
               first17 || {_id_check_expr("first17")} AS id_number,
               '13' || lpad(CAST(hash(staff_id, 'phone') % 1000000000 AS VARCHAR), 9, '0') AS phone,
               unit_code,
               posts[1 + CAST(floor(u_post * len(posts)) AS INTEGER)] AS post_category,
               CASE WHEN u_post < 0.08 THEN 0.5 ELSE 1.0 END AS fte,
               least(hire_date, DATE '{snapshot}' - 30) AS hire_date,
               CASE WHEN u_exit < 0.02 THEN least(hire_date, DATE '{snapshot}' - 30) + 10 END AS exit_date,
               {EDUCATION}[1 + CAST(floor(u_edu * 6) AS INTEGER)] AS education,
               {CERTS}[1 + CAST(floor(u_exit * 5) AS INTEGER)] AS social_work_cert,
               DATE '{snapshot}' AS snapshot_date
        FROM people ORDER BY staff_id, unit_code, post_category"""


def _cases_of_day_sql(day: dt.date, new_per_resident: float, seed: int) -> str:
    """The cases reported on `day` (version 1 fields and the state drawn for later)."""
    d = day.isoformat()
    channels = (
        "['hotline_12345', 'hotline_12345', 'hotline_12345', 'grid_patrol', 'mobile_app', 'walk_in', "
        "'online_portal']"
    )
    cats = "[" + ", ".join(f"'{c}'" for c in CASE_CATEGORIES) + "]"
    sats = "['satisfied', 'satisfied', 'satisfied', 'basically_satisfied', 'unsatisfied', 'not_rated']"
    return f"""
        SELECT unit_code, case_id, TIMESTAMP '{d}' AS day0,
               {_u(seed, "case_id", _lit("t"))} AS u_t, {_u(seed, "case_id", _lit("s"))} AS u_s,
               {_u(seed, "case_id", _lit("c"))} AS u_c, {_u(seed, "case_id", _lit("k"))} AS u_k,
               {_u(seed, "case_id", _lit("r"))} AS u_r, {_u(seed, "case_id", _lit("q"))} AS u_q,
               {channels} AS channels, {cats} AS cats, {sats} AS sats
        FROM (
            SELECT unit_code,
                   'C{day:%Y%m%d}' || unit_code || lpad(CAST(unnest(range(n)) AS VARCHAR), 4, '0') AS case_id
            FROM (
                SELECT unit_code,
                       CAST(floor(residents * {new_per_resident} + {_u(seed, "unit_code", _lit("n" + d))})
                            AS INTEGER) AS n
                FROM villages
            )
        )"""


def _case_rows_sql(day: dt.date, new_per_resident: float, seed: int, *, with_previous: bool = True) -> str:
    """Every case version delivered on `day`: new cases, and (`with_previous`) next-day closures of
    yesterday's (not on the first generated day: yesterday's cases were never delivered)."""
    prev = day - dt.timedelta(days=1)
    body = """
        SELECT case_id, unit_code,
               channels[1 + CAST(floor(u_c * len(channels)) AS INTEGER)] AS channel,
               cats[1 + CAST(floor(u_k * len(cats)) AS INTEGER)] AS category,
               reported_at, assigned_at, first_response_at,
               {closed_at} AS closed_at, {status} AS status,
               CASE WHEN u_q < 0.04 THEN 'township' WHEN u_q < 0.05 THEN 'county' ELSE 'none' END
                   AS escalated_to_level,
               CASE WHEN u_q < 0.04 THEN substr(unit_code, 1, 9) || '000' ELSE unit_code END
                   AS handled_by_unit_code,
               {satisfaction} AS satisfaction,
               '1' || lpad(CAST(hash(unit_code, floor(u_r * 400)) % 10000000000 AS VARCHAR), 10, '0')
                   AS reporter_phone,
               '居民反映问题' || CAST(floor(u_r * 100) AS INTEGER) AS description,
               {updated_at} AS updated_at
        FROM (
            SELECT *, day0 + to_seconds(CAST(floor(u_t * 64800) AS BIGINT)) AS reported_at,
                   day0 + to_seconds(CAST(floor(u_t * 64800) AS BIGINT) + 60
                                     + CAST(floor(u_s * 1740) AS BIGINT))
                       AS assigned_at,
                   day0 + to_seconds(CAST(floor(u_t * 64800) AS BIGINT) + 1800
                                     + CAST(floor(u_r * 10800) AS BIGINT))
                       AS first_response_at
            FROM ({cases})
        )"""
    # u_s: < 0.02 cancelled, < 0.6 closed the same day, < 0.8 closed the next day (second version),
    # else still in progress.
    same_day_closed = "first_response_at + to_seconds(600 + CAST(floor(u_k * 3000) AS BIGINT))"
    sat = "CASE WHEN {closed} THEN sats[1 + CAST(floor(u_q * 1000) % 6 AS INTEGER)] END"
    v1 = body.format(
        cases=_cases_of_day_sql(day, new_per_resident, seed),
        closed_at=f"CASE WHEN u_s >= 0.02 AND u_s < 0.6 THEN {same_day_closed} END",
        status="CASE WHEN u_s < 0.02 THEN 'cancelled' WHEN u_s < 0.6 THEN 'closed' ELSE 'in_progress' END",
        satisfaction=sat.format(closed="u_s >= 0.02 AND u_s < 0.6"),
        updated_at=f"CASE WHEN u_s >= 0.02 AND u_s < 0.6 THEN {same_day_closed} ELSE first_response_at END",
    )
    next_day_closed = (
        f"TIMESTAMP '{day.isoformat()}' + to_seconds(28800 + CAST(floor(u_k * 36000) AS BIGINT))"
    )
    v2 = body.format(
        cases=f"SELECT * FROM ({_cases_of_day_sql(prev, new_per_resident, seed)}) "
        f"WHERE u_s >= 0.6 AND u_s < {0.6 + SECOND_VERSION_SHARE}",
        closed_at=next_day_closed,
        status=_lit("closed"),
        satisfaction=sat.format(closed="TRUE"),
        updated_at=next_day_closed,
    )
    union = (
        f"SELECT * FROM ({v1}) UNION ALL SELECT * FROM ({v2})" if with_previous else f"SELECT * FROM ({v1})"
    )
    return f"{union} ORDER BY updated_at, case_id"


def generate_national(
    out_dir: Path,
    scope: str = "national",
    month: str = "2024-03",
    *,
    case_days: int | None = None,
    extra_day: bool = True,
    seed: int = 8,
    new_cases_per_day: int | None = None,
    threads: int = 2,
    memory_limit: str = "8GB",
    skip_existing: bool = True,
) -> NationalSummary:
    """Write one month of deliveries of all four feeds (and, with `extra_day`, the case log of the
    first day of the next month, for the daily-incremental scenario) under `out_dir`.

    `case_days` limits the case log to the first N days of the month (default: all). Existing files
    are kept when `skip_existing` (generation is resumable and reused between runs).
    """
    out_dir = Path(out_dir)
    first, last = _month_bounds(month)
    n_days = (last - first).days + 1 if case_days is None else case_days
    days = [first + dt.timedelta(days=i) for i in range(n_days)]
    if extra_day:
        days.append(last + dt.timedelta(days=1))
    summary = NationalSummary(out_dir, scope, month, [d.isoformat() for d in days])
    con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit})
    con.execute("SET enable_progress_bar = false")
    try:
        t0 = time.perf_counter()
        build_units(con, scope, seed)
        summary.villages, summary.residents = con.execute(
            "SELECT count(*), sum(residents) FROM villages"
        ).fetchone()
        summary.townships = con.execute("SELECT count(*) FROM townships").fetchone()[0]
        summary.counties = con.execute("SELECT count(DISTINCT county_code) FROM villages").fetchone()[0]
        summary.seconds["units"] = time.perf_counter() - t0
        per_resident = (new_cases_per_day or NATIONAL_NEW_CASES_PER_DAY) / CHINA_RESIDENTS_2020

        def emit(feed, query: str, path: Path) -> None:
            name = feed.name
            summary.files[name] = summary.files.get(name, 0) + 1
            if skip_existing and path.exists():
                rows = con.execute(f"SELECT count(*) FROM read_csv('{path}', all_varchar = true)").fetchone()[
                    0
                ]
                size = path.stat().st_size
            else:
                t = time.perf_counter()
                rows, size = _write(con, feed, query, path)
                summary.seconds[name] = summary.seconds.get(name, 0.0) + time.perf_counter() - t
            summary.rows[name] = summary.rows.get(name, 0) + rows
            summary.bytes[name] = summary.bytes.get(name, 0) + size

        provinces = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT substr(unit_code, 1, 2) FROM villages ORDER BY 1"
            ).fetchall()
        ]
        for p in provinces:
            emit(
                STAFF_ROSTER,
                _roster_sql(last, p, seed),
                out_dir / "staff_roster" / last.isoformat() / f"staff_roster_{p}0000_{last:%Y%m}.csv",
            )
        emit(
            HOUSEHOLD_REGISTRATION,
            _registration_sql(last, seed),
            out_dir / "household_registration" / last.isoformat() / f"household_registration_{last:%Y%m}.csv",
        )
        snapshots = [_quarter_end_before(first)]
        if last.month % 3 == 0:
            snapshots.append(last)
        for as_of in snapshots:
            emit(
                RESIDENT_POPULATION,
                _resident_sql(as_of, seed),
                out_dir
                / "resident_population"
                / as_of.isoformat()
                / f"resident_population_{as_of:%Y%m%d}.csv",
            )
        for day in days:
            emit(
                CASE_LOG,
                _case_rows_sql(day, per_resident, seed, with_previous=day > first),
                out_dir / "case_log" / day.isoformat() / f"case_log_{day:%Y%m%d}.csv",
            )
    finally:
        con.close()
    return summary
