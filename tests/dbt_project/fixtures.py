"""Hand-made raw tables for the dbt build tests, and loaders for DuckDB and PostgreSQL.

The raw feed tables get exactly the columns of ``grassroots.feeds.FEEDS[name].raw_columns`` (the
ingest contract); reference tables get the columns the reference loader writes. The numbers are
chosen so that every mart value can be computed by hand (see ``EXPECTED_*`` below).

Layout (12-digit codes):

    110000000000 province 北京市 ─ 110100000000 city 市辖区
      110101000000 county A 东城区 ─ township 110101001000 东华门街道
          villages V1 110101001001, V2 …002, V3 …003, V4 …004 (V4: no data at all)
      110102000000 county B 西城区 ─ township 110102001000 西长安街街道
          villages V5 110102001001, V6 110102001002
      110103000000 county C (no feed mentions it: not evaluated) ─ village 110103001001

Months: January and February 2024.

County A, January (roster snapshot 2024-01-31, as restated on 2024-02-10):
    V1 residents 4000, registered 2000, staff 2   (an auxiliary who left on 01-20 is not counted)
    V2 residents 2000, registered 4000, staff 5
    V3 residents 2000, registered 2000, staff 1   (the first delivery also listed a grid worker
                                                   whom the restatement removed)
    township office staff 3 (outside the allocation base), V4 no population, no staff
    staff shares 0.25/0.625/0.125, resident 0.5/0.25/0.25, registered 0.25/0.5/0.25
    D_resident = ½(0.25 + 0.375 + 0.125) = 0.375; D_registered = ½(0 + 0.125 + 0.125) = 0.125
    → allocated_by_registration; deltas +2, −3, +1; posts_to_reallocate 3
    (an earlier snapshot dated 2024-01-15 is superseded by the 01-31 one)
    allocation_base_coverage = base residents / (known village residents + villages without a figure
    × the median known figure) = 8000 / (8000 + 1 × median(4000, 2000, 2000) = 2000) = 0.8 ≥ 0.8
    (exactly the threshold) → published; the same in February (figures carried forward).
County A, February (snapshot 2024-02-29): staff 4/2/2 → shares 0.5/0.25/0.25 = resident shares:
    D_resident = 0; D_registered = ½(0.25 + 0.25 + 0) = 0.25 → not by registration; deltas 0.
County B, January: V5 1000/1000 staff 1, V6 1000/3000 staff 1; both villages have a resident figure
    and are in the base: coverage 2000 / (2000 + 0 × 1000) = 1.0 ≥ 0.8 → published (its 4000 census
    residents are shown, not used: they would have given 0.5). Staff shares 0.5/0.5, resident
    0.5/0.5, registered 0.25/0.75: D_resident = ½(0 + 0) = 0; D_registered = ½(0.25 + 0.25) = 0.25
    → not by registration; fair shares 2 × 0.5 = 1, 1 → deltas 0; nothing to move (posts 0).
County B, February: no roster delivered → January's carried forward (age 29 days ≤ 62): staff known;
    the same figures and indices. An old (2011) registration file for V5 adds no month to any spine.

Restatements of population: V1's January registration was first delivered as 9999 (2024-02-05)
and restated as 2000 (2024-02-20); V2's resident figure 2500 (2024-01-10) restated as 2000
(2024-01-20); V3's resident figure delivered twice on the same day, 1500 at 08:00 and 2000 at 09:00
(the later load wins). Resident figures are all as of 2023-12-31 and carried forward (age 31 days
at the end of January, 60 at the end of February).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from grassroots.feeds import FEEDS

D = dt.date
TS = dt.datetime

A, B, C = "110101", "110102", "110103"
V1, V2, V3, V4 = (f"{A}001{n:03d}" for n in (1, 2, 3, 4))
TA = f"{A}001000"
V5, V6 = f"{B}001001", f"{B}001002"
TB = f"{B}001000"
VC = f"{C}001001"
COUNTY_A, COUNTY_B = f"{A}000000", f"{B}000000"
JAN, FEB = D(2024, 1, 1), D(2024, 2, 1)

REF_DIVISIONS_COLUMNS: list[tuple[str, str]] = [
    ("unit_code", "VARCHAR"),
    ("name", "VARCHAR"),
    ("level", "VARCHAR"),
    ("parent_code", "VARCHAR"),
    ("province_code", "VARCHAR"),
    ("city_code", "VARCHAR"),
    ("county_code", "VARCHAR"),
    ("township_code", "VARCHAR"),
    ("urban_rural", "VARCHAR"),
]
REF_CENSUS_COLUMNS: list[tuple[str, str]] = [
    ("county_code", "VARCHAR"),
    ("province", "VARCHAR"),
    ("city", "VARCHAR"),
    ("county", "VARCHAR"),
    ("pop_total", "BIGINT"),
    ("pop_urban", "BIGINT"),
    ("pop_rural", "BIGINT"),
    ("family_households", "BIGINT"),
    ("share_65plus", "DOUBLE"),
]


def _division(code: str, name: str, level: str, parent: str | None, urban_rural: str | None = None):
    return {
        "unit_code": code,
        "name": name,
        "level": level,
        "parent_code": parent,
        "province_code": code[:2] + "0" * 10,
        "city_code": code[:4] + "0" * 8 if level != "province" else None,
        "county_code": code[:6] + "0" * 6 if level in ("county", "township", "village") else None,
        "township_code": code[:9] + "000" if level in ("township", "village") else None,
        "urban_rural": urban_rural,
    }


REF_DIVISIONS = [
    _division("110000000000", "北京市", "province", None),
    _division("110100000000", "市辖区", "city", "110000000000"),
    _division(COUNTY_A, "东城区", "county", "110100000000"),
    _division(COUNTY_B, "西城区", "county", "110100000000"),
    _division(f"{C}000000", "朝阳区", "county", "110100000000"),
    _division(TA, "东华门街道", "township", COUNTY_A),
    _division(TB, "西长安街街道", "township", COUNTY_B),
    _division(f"{C}001000", "建外街道", "township", f"{C}000000"),
    _division(V1, "多福巷社区居委会", "village", TA, "urban"),
    _division(V2, "银闸社区居委会", "village", TA, "urban"),
    _division(V3, "东厂社区居委会", "village", TA, "urban"),
    # no delivered class: dim_unit derives "rural" from the name
    _division(V4, "智德村委会", "village", TA, None),
    _division(V5, "西交民巷社区居委会", "village", TB, "urban"),
    _division(V6, "北新华街社区居委会", "village", TB, "urban"),
    _division(VC, "永安里社区居委会", "village", f"{C}001000", "urban"),
]

REF_CENSUS = [
    {
        "county_code": A,
        "province": "北京市",
        "city": "北京市",
        "county": "东城区",
        # a hand-made county total (not the real 708,829), published as census_resident_population
        # for information only: allocation_base_coverage no longer divides by it
        "pop_total": 9000,
        "pop_urban": 9000,
        "pop_rural": 0,
        "family_households": 280000,
        "share_65plus": 16.5,
    },
    {
        "county_code": B,
        "province": "北京市",
        "city": "北京市",
        "county": "西城区",
        # informational (census_resident_population): V5 + V6 = 2000 residents today, all in the base,
        # so coverage is 1.0 whatever this figure (a census denominator would have said 0.5)
        "pop_total": 4000,
        "pop_urban": 4000,
        "pop_rural": 0,
        "family_households": 430000,
        "share_65plus": 17.2,
    },
]


def _lineage(delivery: dt.date, file: str, row: int, loaded: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "delivery_date": delivery,
        "load_id": f"load-{file}",
        "source_file": file,
        "source_row": row,
        "file_sha256": f"sha-{file}",
        "loaded_at": loaded or TS(delivery.year, delivery.month, delivery.day, 6, 0),
    }


def _post(staff_id, unit, category, fte, snapshot, delivery, file, row, *, cert="none", exit_date=None):
    return {
        "staff_id": staff_id,
        "id_number_hash": f"h-{staff_id}",
        "phone_hash": None,
        "unit_code": unit,
        "post_category": category,
        "fte": fte,
        "hire_date": D(2020, 1, 1),
        "exit_date": exit_date,
        "education": "bachelor",
        "social_work_cert": cert,
        "snapshot_date": snapshot,
        **_lineage(delivery, file, row),
    }


def _roster() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # County A, early January snapshot (superseded within the month by the 01-31 snapshot)
    rows.append(_post("a1", V1, "civil_servant", 1.0, D(2024, 1, 15), D(2024, 1, 16), "roster_A_0115.csv", 1))
    rows.append(
        _post("a2", V1, "community_worker", 1.0, D(2024, 1, 15), D(2024, 1, 16), "roster_A_0115.csv", 2)
    )
    rows.append(_post("x1", V1, "grid_worker", 1.0, D(2024, 1, 15), D(2024, 1, 16), "roster_A_0115.csv", 3))

    def jan_a(delivery: dt.date, file: str, restated: bool) -> list[dict[str, Any]]:
        snap = D(2024, 1, 31)
        posts = [
            ("a1", V1, "civil_servant", 1.0, "intermediate", None),
            ("a2", V1, "community_worker", 1.0, "none", None),
            ("a50", V1, "auxiliary", 1.0, "none", D(2024, 1, 20)),  # left before the snapshot
            ("a3", V2, "civil_servant", 1.0, "none", None),
            ("a4", V2, "public_institution", 1.0, "none", None),
            ("a5", V2, "grid_worker" if restated else "auxiliary", 1.0, "none", None),
            ("a6", V2, "community_worker", 1.0, "assistant", None),
            ("a7", V2, "community_worker", 0.5, "none", None),
            ("a8", V2, "auxiliary", 0.5, "none", None),
            ("a9", V3, "community_worker", 1.0, "senior", None),
            ("a10", TA, "civil_servant", 1.0, "none", None),
            ("a11", TA, "civil_servant", 1.0, "none", None),
            ("a12", TA, "public_institution", 1.0, "none", None),
        ]
        if not restated:
            posts.append(("a99", V3, "grid_worker", 1.0, "none", None))  # removed by the restatement
        return [
            _post(s, u, c, f, snap, delivery, file, i + 1, cert=cert, exit_date=ex)
            for i, (s, u, c, f, cert, ex) in enumerate(posts)
        ]

    rows += jan_a(D(2024, 2, 3), "roster_A_2024-01.csv", restated=False)
    rows += jan_a(D(2024, 2, 10), "roster_A_2024-01_corrected.csv", restated=True)

    feb_a = [
        ("a1", V1, "civil_servant", 1.0),
        ("a2", V1, "community_worker", 1.0),
        ("a13", V1, "grid_worker", 1.0),
        ("a14", V1, "grid_worker", 1.0),
        ("a3", V2, "civil_servant", 1.0),
        ("a4", V2, "public_institution", 1.0),
        ("a9", V3, "community_worker", 1.0),
        ("a15", V3, "community_worker", 1.0),
        ("a10", TA, "civil_servant", 1.0),
        ("a11", TA, "civil_servant", 1.0),
        ("a12", TA, "public_institution", 1.0),
    ]
    rows += [
        _post(s, u, c, f, D(2024, 2, 29), D(2024, 3, 3), "roster_A_2024-02.csv", i + 1)
        for i, (s, u, c, f) in enumerate(feb_a)
    ]
    # County B: January only (no February roster)
    rows.append(
        _post("b1", V5, "community_worker", 1.0, D(2024, 1, 31), D(2024, 2, 4), "roster_B_2024-01.csv", 1)
    )
    rows.append(_post("b2", V6, "grid_worker", 1.0, D(2024, 1, 31), D(2024, 2, 4), "roster_B_2024-01.csv", 2))
    return rows


def _registration() -> list[dict[str, Any]]:
    rows = []
    values = {V1: 2000, V2: 4000, V3: 2000, V5: 1000, V6: 3000}
    for month_end, delivery in ((D(2024, 1, 31), D(2024, 2, 5)), (D(2024, 2, 29), D(2024, 3, 5))):
        for i, (unit, reg) in enumerate(values.items()):
            wrong_first = unit == V1 and month_end.month == 1
            rows.append(
                {
                    "unit_code": unit,
                    "as_of_date": month_end,
                    "registered_population": 9999 if wrong_first else reg,
                    "registered_households": reg // 2,
                    "registered_age_65_plus": reg // 10,
                    **_lineage(delivery, f"hukou_{month_end:%Y-%m}.csv", i + 1),
                }
            )
    # an old delivery (2011) for V5 in County B only: outside the evaluation period (from 2020-01),
    # it adds no month to any spine and is superseded by the 2024 snapshots at every month end
    rows.append(
        {
            "unit_code": V5,
            "as_of_date": D(2011, 12, 31),
            "registered_population": 900,
            "registered_households": 450,
            "registered_age_65_plus": 90,
            **_lineage(D(2012, 1, 10), "hukou_2011-12.csv", 1),
        }
    )
    # restatement of V1's January figure
    rows.append(
        {
            "unit_code": V1,
            "as_of_date": D(2024, 1, 31),
            "registered_population": 2000,
            "registered_households": 1000,
            "registered_age_65_plus": 200,
            **_lineage(D(2024, 2, 20), "hukou_2024-01_corrected.csv", 1),
        }
    )
    return rows


def _residents() -> list[dict[str, Any]]:
    as_of = D(2023, 12, 31)

    def row(unit, pop, delivery, file, n, loaded=None):
        return {
            "unit_code": unit,
            "as_of_date": as_of,
            "resident_population": pop,
            "resident_households": pop // 3,
            "floating_population_in": pop // 5,
            "residents_age_65_plus": pop // 8,
            "vulnerable_persons": pop // 50,
            **_lineage(delivery, file, n, loaded),
        }

    d1 = D(2024, 1, 10)
    return [
        row(V1, 4000, d1, "changzhu_2023Q4.csv", 1),
        row(V2, 2500, d1, "changzhu_2023Q4.csv", 2),  # restated below
        row(V5, 1000, d1, "changzhu_2023Q4.csv", 3),
        row(V6, 1000, d1, "changzhu_2023Q4.csv", 4),
        row(V2, 2000, D(2024, 1, 20), "changzhu_2023Q4_corrected.csv", 1),
        # same delivery date twice: the later load wins
        row(V3, 1500, D(2024, 1, 11), "changzhu_2023Q4_v3a.csv", 1, TS(2024, 1, 11, 8, 0)),
        row(V3, 2000, D(2024, 1, 11), "changzhu_2023Q4_v3b.csv", 1, TS(2024, 1, 11, 9, 0)),
    ]


# Case batches: batch 1 is loaded first (2024-02-15), batch 2 later (2024-03-01), so the incremental
# fct_cases can be compared with a full refresh. Unit V1 unless stated; categories neighbour_dispute
# (response 24 calendar hours, resolution 10 working days) and utilities (2 hours, 3 working days).
#   c1 Fri 01-05 09:00, p-1, neighbour: batch 1 open; batch 2 closed Sat 01-06 15:00 (first response
#      then): response 30 h > 24 → late; closure 8 working h (Fri 09–17, Sat off) → in time; satisfied.
#   c3 Sat 01-20 10:00, p-1, utilities, mobile_app: response 11:00 (1 h ≤ 2); closed Tue 01-23 16:00
#      = 15 working h (Mon 8 + Tue 7) ≤ 24; basically satisfied.
#   c6 (batch 2) Tue 01-02 10:00, p-1, neighbour: response 10:30, closed 12:00 (2 working h); not rated.
#      Reported before c1, so c1 becomes a repeat (3 days).
#   c4 (batch 2) Thu 01-25 09:00, p-1, neighbour, walk_in: cancelled; repeat of c1 (20 days).
#   c7 (batch 2) Thu 01-18 08:00, p-1, utilities, grid_patrol: cancelled. Earlier than c3, which
#      becomes a repeat although c3 itself is not re-delivered (the incremental run must catch it).
#   c5 (batch 2) V2 Wed 01-10 14:00, p-5: response 15:00 (1 h); escalated to the township and handled
#      there; closed Fri 02-02 10:00 = 3 + 16·8 + 1 = 132 working h > 80 → late; unsatisfied.
#   c2 V5 Sat 02-10 10:00 (Spring Festival), in progress, first response at once (0 h).
BATCH_1_LOADED_AT = TS(2024, 2, 15, 6, 0)


def _case(
    case_id,
    unit,
    category,
    reported,
    *,
    channel="hotline_12345",
    responded=None,
    closed=None,
    status="in_progress",
    escalated="none",
    handled_by=None,
    satisfaction=None,
    reporter=None,
    loaded=None,
    n=1,
):
    loaded = loaded or BATCH_1_LOADED_AT
    return {
        "case_id": case_id,
        "unit_code": unit,
        "channel": channel,
        "category": category,
        "reported_at": reported,
        "assigned_at": reported,
        "first_response_at": responded,
        "closed_at": closed,
        "status": status,
        "escalated_to_level": escalated,
        "handled_by_unit_code": handled_by or unit,
        "satisfaction": satisfaction,
        "reporter_phone_hash": reporter or f"p-{case_id}",
        "description_length": 42,
        "updated_at": closed or responded or reported,
        **_lineage(loaded.date(), f"cases_{loaded:%Y%m%d}.csv", n, loaded),
    }


def cases_batch_1() -> list[dict[str, Any]]:
    return [
        _case("c1", V1, "neighbour_dispute", TS(2024, 1, 5, 9), status="open", reporter="p-1", n=1),
        _case(
            "c3",
            V1,
            "utilities",
            TS(2024, 1, 20, 10),
            channel="mobile_app",
            responded=TS(2024, 1, 20, 11),
            closed=TS(2024, 1, 23, 16),
            status="closed",
            satisfaction="basically_satisfied",
            reporter="p-1",
            n=2,
        ),
        _case("c2", V5, "neighbour_dispute", TS(2024, 2, 10, 10), responded=TS(2024, 2, 10, 10), n=3),
    ]


def cases_batch_2() -> list[dict[str, Any]]:
    later = {"loaded": TS(2024, 3, 1, 6, 0)}
    return [
        _case(
            "c1",
            V1,
            "neighbour_dispute",
            TS(2024, 1, 5, 9),
            responded=TS(2024, 1, 6, 15),
            closed=TS(2024, 1, 6, 15),
            status="closed",
            satisfaction="satisfied",
            reporter="p-1",
            n=1,
            **later,
        ),
        _case(
            "c6",
            V1,
            "neighbour_dispute",
            TS(2024, 1, 2, 10),
            responded=TS(2024, 1, 2, 10, 30),
            closed=TS(2024, 1, 2, 12),
            status="closed",
            satisfaction="not_rated",
            reporter="p-1",
            n=2,
            **later,
        ),
        _case(
            "c4",
            V1,
            "neighbour_dispute",
            TS(2024, 1, 25, 9),
            channel="walk_in",
            status="cancelled",
            reporter="p-1",
            n=3,
            **later,
        ),
        _case(
            "c7",
            V1,
            "utilities",
            TS(2024, 1, 18, 8),
            channel="grid_patrol",
            status="cancelled",
            reporter="p-1",
            n=4,
            **later,
        ),
        _case(
            "c5",
            V2,
            "neighbour_dispute",
            TS(2024, 1, 10, 14),
            responded=TS(2024, 1, 10, 15),
            closed=TS(2024, 2, 2, 10),
            status="closed",
            escalated="township",
            handled_by=TA,
            satisfaction="unsatisfied",
            reporter="p-5",
            n=5,
            **later,
        ),
    ]


def _cases() -> list[dict[str, Any]]:
    return cases_batch_1() + cases_batch_2()


def raw_tables(
    cases_batch: int | None = None,
) -> dict[str, tuple[list[tuple[str, str]], list[dict[str, Any]]]]:
    """Table name in schema raw → (columns with DuckDB types, rows as dicts). ``cases_batch=1`` loads
    only the first case batch (the second is appended later, see ``case_batch_2_rows``)."""
    cases = cases_batch_1() if cases_batch == 1 else _cases()
    return {
        "staff_roster": (FEEDS["staff_roster"].raw_columns, _roster()),
        "household_registration": (FEEDS["household_registration"].raw_columns, _registration()),
        "resident_population": (FEEDS["resident_population"].raw_columns, _residents()),
        "case_log": (FEEDS["case_log"].raw_columns, cases),
        "ref_divisions": (REF_DIVISIONS_COLUMNS, REF_DIVISIONS),
        "ref_census_county": (REF_CENSUS_COLUMNS, REF_CENSUS),
    }


PG_TYPES = {"DOUBLE": "double precision"}


def _rows(columns, rows):
    names = [c for c, _ in columns]
    for r in rows:
        unknown = set(r) - set(names)
        assert not unknown, f"fixture row has columns outside the contract: {unknown}"
    return [tuple(r.get(n) for n in names) for r in rows]


def case_batch_2_rows() -> tuple[list[str], list[tuple]]:
    """Column names and rows of the second case batch, to append to raw.case_log."""
    columns = FEEDS["case_log"].raw_columns
    return [c for c, _ in columns], _rows(columns, cases_batch_2())


def load_duckdb(path: str, cases_batch: int | None = None) -> None:
    import duckdb

    con = duckdb.connect(path)
    try:
        con.execute("create schema if not exists raw")
        for table, (columns, rows) in raw_tables(cases_batch).items():
            cols = ", ".join(f'"{c}" {t}' for c, t in columns)
            con.execute(f"create or replace table raw.{table} ({cols})")
            marks = ", ".join("?" for _ in columns)
            con.executemany(f"insert into raw.{table} values ({marks})", _rows(columns, rows))
    finally:
        con.close()


def load_postgres(dsn: str, cases_batch: int | None = None) -> None:
    import psycopg2

    con = psycopg2.connect(dsn)
    try:
        with con, con.cursor() as cur:
            for schema in ("marts", "intermediate", "staging", "raw"):
                cur.execute(f"drop schema if exists {schema} cascade")
            cur.execute("create schema raw")
            for table, (columns, rows) in raw_tables(cases_batch).items():
                cols = ", ".join(f'"{c}" {PG_TYPES.get(t, t.lower())}' for c, t in columns)
                cur.execute(f"create table raw.{table} ({cols})")
                marks = ", ".join("%s" for _ in columns)
                cur.executemany(f"insert into raw.{table} values ({marks})", _rows(columns, rows))
    finally:
        con.close()


# ---- hand-computed expectations -------------------------------------------------------------

# (county_code, month) → (d_resident, d_registered, allocated_by_registration, county_staff_fte,
#                         staff_fte_outside_base, posts_to_reallocate, fte_misallocated,
#                         allocation_base_coverage, d_null_reason)
# allocation_base_coverage = Σ_base residents / (Σ known village resident figures + villages without
#   one × the median known figure); the census is not the denominator.
# County A: base V1 + V2 + V3 = 4000 + 2000 + 2000 = 8000 = all known figures; V4 has none and is
#   imputed the median of (4000, 2000, 2000) = 2000 → 8000 / (8000 + 1 × 2000) = 0.8 ≥ 0.8 → published
#   (exactly the threshold; the same in February, figures carried forward).
#   January: targets = fair shares 4, 2, 2 (each ≥ the 1-FTE floor; water-filling floors no unit:
#   V2 first, (8 − 0)·2000 = 16000 ≥ 1·8000); deltas +2, −3, +1. Whole posts: the donor V2 gives
#   floor(3) = 3 = M; receivers' quotas 3·2/3 = 2 (V1), 3·1/3 = 1 (V3), no remainder → plan moves 3
#   posts = posts_to_reallocate; fte_misallocated = ½(2 + 3 + 1) = 3 = 0.375 × 8.
#   February: staff at fair shares → 0 and 0.
# County B: base V5 + V6 = 1000 + 1000 = 2000, no village without a figure → 2000 / (2000 + 0) = 1.0
#   → published. Staff 1 + 1 = 2: staff shares 0.5, 0.5 = resident shares 0.5, 0.5 → D_resident
#   = ½(0 + 0) = 0; registered 1000/4000 = 0.25, 3000/4000 = 0.75 → D_registered = ½(0.25 + 0.25)
#   = 0.25; 0.25 < 0 is false → not by registration. fte_misallocated = ½(0 + 0) = 0; no donor →
#   posts_to_reallocate 0, no move. No unit outside the base (the township office has no staff and
#   is not on the spine) → staff_fte_outside_base null (sum over no row). In February B delivered no
#   roster: the January one (2024-01-31) is carried to 02-29 (age 29 ≤ 62 days), so its staff are
#   known (2 FTE) and every figure is January's.
EXPECTED_COUNTY = {
    (COUNTY_A, JAN): (0.375, 0.125, True, 8.0, 3.0, 3, 3.0, 8000 / (8000 + 1 * 2000), None),
    (COUNTY_A, FEB): (0.0, 0.25, False, 8.0, 3.0, 0, 0.0, 8000 / (8000 + 1 * 2000), None),
    (COUNTY_B, JAN): (0.0, 0.25, False, 2.0, None, 0, 0.0, 2000 / (2000 + 0), None),
    (COUNTY_B, FEB): (0.0, 0.25, False, 2.0, None, 0, 0.0, 2000 / (2000 + 0), None),
}

# (unit_code, month) → (resident, registered, staff_fte, staff_share, resident_share,
#                       registered_share, fair_share_staff, reallocation_delta, in_allocation_base)
# County B (coverage 1.0, published): fair shares 2 × 0.5 = 1.0 each, deltas 1 − 1 = 0.
EXPECTED_UNITS = {
    (V1, JAN): (4000, 2000, 2.0, 0.25, 0.5, 0.25, 4.0, 2.0, True),
    (V2, JAN): (2000, 4000, 5.0, 0.625, 0.25, 0.5, 2.0, -3.0, True),
    (V3, JAN): (2000, 2000, 1.0, 0.125, 0.25, 0.25, 2.0, 1.0, True),
    (V4, JAN): (None, None, 0.0, None, None, None, None, None, False),
    (TA, JAN): (None, None, 3.0, None, None, None, None, None, False),
    (V1, FEB): (4000, 2000, 4.0, 0.5, 0.5, 0.25, 4.0, 0.0, True),
    (V2, FEB): (2000, 4000, 2.0, 0.25, 0.25, 0.5, 2.0, 0.0, True),
    (V3, FEB): (2000, 2000, 2.0, 0.25, 0.25, 0.25, 2.0, 0.0, True),
    (V4, FEB): (None, None, 0.0, None, None, None, None, None, False),
    (TA, FEB): (None, None, 3.0, None, None, None, None, None, False),
    (V5, JAN): (1000, 1000, 1.0, 0.5, 0.5, 0.25, 1.0, 0.0, True),
    (V6, JAN): (1000, 3000, 1.0, 0.5, 0.5, 0.75, 1.0, 0.0, True),
    # January roster carried forward (age 29 days): staff known in February
    (V5, FEB): (1000, 1000, 1.0, 0.5, 0.5, 0.25, 1.0, 0.0, True),
    (V6, FEB): (1000, 3000, 1.0, 0.5, 0.5, 0.75, 1.0, 0.0, True),
}

# (unit_code, month) → roster_snapshot_date (ISO), roster_snapshot_age_days, roster_status,
#   has_roster_snapshot_in_month, registered_snapshot_age_days, resident_snapshot_age_days
#   (mart_population / mart_staffing; roster max age 62, registration 62, resident 400 days)
EXPECTED_SNAPSHOTS = {
    (V1, JAN): ("2024-01-31", 0, "current", True, 0, 31),
    (V1, FEB): ("2024-02-29", 0, "current", True, 0, 60),
    (V5, FEB): ("2024-01-31", 29, "current", False, 0, 60),
}


# ---- workload (hand-computed from the case batches above; see the comment on the cases) ------------

FEB = JAN.replace(month=2)
# (unit_code, month) → received, cancelled, responded within SLA, closed, closed within SLA, escalated,
#   rated, satisfied, repeat, resident-initiated, digital, backlog at month end,
#   response_rate, resolution_rate, satisfaction_rate, repeat_rate, response_calendar_hours_median,
#   closure_working_hours_median, cases_per_fte
# Every count after `cancelled` and every rate is over the valid cases (received − cancelled).
EXPECTED_WORKLOAD = {
    # V1 Jan: c1 c3 c4 c6 c7, cancelled c4 c7 → valid c1 c3 c6 (3); in time c3 c6 → response_rate 2/3;
    # closed c1 c3 c6 (all in time) → 3/3; rated c1 c3 (both satisfied); repeats c1 c3 (c4 is one too
    # but cancelled) → 2/3; resident-initiated c1 c3 c6 (c7 grid patrol and c4 walk-in are cancelled);
    # digital c3. response calendar h 30, 1, 0.5 → median 1; closure working h 8, 15, 2 → median 8.
    # cases_per_fte counts every case received: 5 / 2 FTE = 2.5
    (V1, JAN): (5, 2, 2, 3, 3, 0, 2, 2, 2, 3, 1, 0, 2 / 3, 1.0, 1.0, 2 / 3, 1.0, 8.0, 2.5),
    # V2 Jan: c5 (closed in February, late, escalated, unsatisfied) → backlog 1; staff 5
    (V2, JAN): (1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1.0, 1.0, 0.0, 0.0, 1.0, 132.0, 0.2),
    (V2, FEB): (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, None, None, None, None, None, None, 0.0),
    (V1, FEB): (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, None, None, None, None, None, None, 0.0),
    # V5 Feb: c2 in progress, responded at once → backlog 1; County B delivered no roster in Feb, its
    # January roster is carried forward (age 29 ≤ 62 days): staff 1 → 1 case / 1 FTE = 1.0
    (V5, FEB): (1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1.0, 0.0, None, 0.0, 0.0, None, 1.0),
}
# (county_code, month) → received, cancelled, closed, response_rate, resolution_rate, satisfaction_rate,
#   escalation_rate, repeat_rate, backlog, response_calendar_hours_median, closure_working_hours_median
EXPECTED_WORKLOAD_COUNTY = {
    # A Jan: V1 + V2, valid 6 − 2 = 4 (c1 c3 c5 c6) → in time c3 c6 c5 = 3/4; closed 4/4; satisfied 2
    # of rated 3; escalated 1/4; repeats c1 c3 = 2/4; response calendar h [0.5, 1, 1, 30] → 1; closure
    # working h [2, 8, 15, 132] → (8+15)/2 = 11.5
    (COUNTY_A, JAN): (6, 2, 4, 0.75, 1.0, 2 / 3, 0.25, 0.5, 1, 1.0, 11.5),
    (COUNTY_A, FEB): (0, 0, 0, None, None, None, None, None, 0, None, None),
    (COUNTY_B, JAN): (0, 0, 0, None, None, None, None, None, 0, None, None),
    (COUNTY_B, FEB): (1, 0, 0, 1.0, 0.0, None, 0.0, 0.0, 1, 0.0, None),
}
# (county_code, month, category) → label_en, received, cancelled, responded, responded within SLA,
#   closed, closed within SLA, rated, satisfied, response_rate, responded_within_sla_rate,
#   resolution_rate, closed_within_sla_rate, satisfaction_rate, response_calendar_hours_median,
#   response_calendar_hours_p90, closure_working_hours_median, closure_working_hours_p90
# (both categories have hour response SLAs and working-day resolution SLAs, so these are the values the
# SLA clock gave before the clocks were separated)
# Percentiles are continuous (linear interpolation at (n − 1) × p of the sorted values).
# one row of hand-computed values per key, wrapped like a table
# fmt: off
EXPECTED_WORKLOAD_CATEGORY = {
    # A Jan, neighbour_dispute (response 24 calendar h, resolution 10 working days = 80 working h):
    # c1 c4 c5 c6; cancelled c4 → valid 3; responded c1 (30 h, late) c5 (1 h) c6 (0.5 h) → in time 2 of
    # 3 (response_rate 2/3 over the valid cases, responded_within_sla_rate 2/3);
    # closed c1 (8 h) c5 (132 h > 80, late) c6 (2 h) → in time 2 of 3; rated c1 (satisfied) c5
    # (unsatisfied), c6 not_rated. response h [0.5, 1, 30]: median 1, p90 at 1.8 → 1 + 0.8·29 = 24.2;
    # closure h [2, 8, 132]: median 8, p90 8 + 0.8·124 = 107.2.
    (COUNTY_A, JAN, "neighbour_dispute"): (
        "Neighbour dispute", 4, 1, 3, 2, 3, 2, 2, 1, 2 / 3, 2 / 3, 1.0, 2 / 3, 0.5, 1.0, 24.2, 8.0, 107.2
    ),
    # A Jan, utilities: c3 (1 h, closed in 15 working h ≤ 24, basically satisfied) and c7 (cancelled):
    # valid 1 → response_rate 1/1
    (COUNTY_A, JAN, "utilities"): (
        "Utilities (water, power, gas, heating)", 2, 1, 1, 1, 1, 1, 1, 1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
        15.0, 15.0
    ),
    # every seed category has a row for every county-month: no cases → counts 0, rates null
    (COUNTY_A, FEB, "neighbour_dispute"): (
        "Neighbour dispute", 0, 0, 0, 0, 0, 0, 0, 0, None, None, None, None, None, None, None, None, None
    ),
    (COUNTY_B, FEB, "neighbour_dispute"): (
        "Neighbour dispute", 1, 0, 1, 1, 0, 0, 0, 0, 1.0, 1.0, 0.0, None, None, 0.0, 0.0, None, None
    ),
}
# (township_code, month) → county_code, units_evaluated, has_roster, staff_fte, received, cancelled,
#   closed, backlog, cases_per_fte, backlog_per_fte, cases_per_10k_residents, response_rate,
#   responded_within_sla_rate, resolution_rate, closed_within_sla_rate, satisfaction_rate,
#   response_calendar_hours_median, response_calendar_hours_p90, closure_working_hours_median,
#   closure_working_hours_p90
EXPECTED_WORKLOAD_TOWNSHIP = {
    # TA Jan: units V1–V4 and the township office (5); staff 2 + 5 + 1 + 0 + 3 (office) = 11;
    # residents 4000 + 2000 + 2000 = 8000 (V4 unknown). Cases c1 c3 c4 c6 c7 (V1) and c5 (V2): 6,
    # cancelled c4 c7 → valid 4; responded c1 c3 c5 c6, in time c3 c5 c6 → response_rate 3/4 and
    # responded_within_sla_rate 3/4; closed c1 c3 c5 c6, in time c1 c3
    # c6 → 3/4; backlog c5 (closed in February) → 1. response h [0.5, 1, 1, 30]: median 1, p90 at 2.7
    # → 1 + 0.7·29 = 21.3; closure h [2, 8, 15, 132]: median 11.5, p90 15 + 0.7·117 = 96.9.
    (TA, JAN): (
        COUNTY_A, 5, True, 11.0, 6, 2, 4, 1, 6 / 11, 1 / 11, 7.5, 0.75, 0.75, 1.0, 0.75, 2 / 3, 1.0, 21.3,
        11.5, 96.9
    ),
    # TB Feb: V5 V6 (the office has no staff, so it is not a unit on the spine); c2 open, answered at
    # once; no roster in February, the January one carried forward (age 29 ≤ 62 days): staff 1 + 1 = 2
    # → 1/2 case and 1/2 backlog per FTE; residents 2000 → 5 per 10k.
    (TB, FEB): (
        COUNTY_B, 2, True, 2.0, 1, 0, 0, 1, 0.5, 0.5, 5.0, 1.0, 1.0, 0.0, None, None, 0.0, 0.0, None,
        None
    ),
}
# fmt: on
# fct_cases after both batches: case_id → (is_repeat, response_hours, closure_hours, responded in SLA,
#   closed in SLA)
EXPECTED_CASES = {
    "c1": (True, 30.0, 8.0, False, True),
    "c2": (False, 0.0, None, True, False),
    "c3": (True, 1.0, 15.0, True, True),
    "c4": (True, None, None, False, False),
    "c5": (False, 1.0, 132.0, True, False),
    "c6": (False, 0.5, 2.0, True, True),
    "c7": (False, None, None, False, False),
}


# ---- working hours on the real holiday seed, and unknown SLA / response data (test_workload_holidays) ----
# A warehouse of its own: the feeds above, but raw.case_log replaced by these cases, so the months they
# add to the spine (September, October) touch no other expectation. Working hours 09:00–17:00 on the
# working days of the real seed holiday_calendar (chinese_calendar): 2024-02-10 … 02-17 Spring Festival
# holiday, Sundays 02-04 and 02-18 make-up working days (调休上班); 2024-10-01 … 10-07 National Day,
# Sunday 09-29 a make-up working day (Saturday 09-28 is an ordinary day off). social_assistance: response
# SLA 1 working day (8 h), resolution 10 working days (80 h).
HOLIDAY_FILE = "cases_holidays.csv"
NO_RESPONSE_FILE = "cases_supplier_without_response_times.csv"


def holiday_cases() -> list[dict[str, Any]]:
    loaded = {"loaded": TS(2024, 11, 1, 6, 0)}

    def case(case_id, unit, category, reported, file=HOLIDAY_FILE, n=1, **kw):
        row = _case(case_id, unit, category, reported, reporter=f"p-{case_id}", n=n, **loaded, **kw)
        row["source_file"] = file
        return row

    return [
        # h1 Fri 02-09 15:00 → response Sun 02-18 (make-up) 11:00 → closed Mon 02-19 12:00
        case(
            "h1",
            V5,
            "social_assistance",
            TS(2024, 2, 9, 15),
            responded=TS(2024, 2, 18, 11),
            closed=TS(2024, 2, 19, 12),
            status="closed",
            n=1,
        ),
        # h2 Sat 02-03 10:00 (day off) → response Sun 02-04 (make-up) 10:30 → closed Mon 02-05 09:00
        case(
            "h2",
            V5,
            "social_assistance",
            TS(2024, 2, 3, 10),
            responded=TS(2024, 2, 4, 10, 30),
            closed=TS(2024, 2, 5, 9),
            status="closed",
            n=2,
        ),
        # h3 Fri 09-27 16:00 → response Sun 09-29 (make-up) 10:00 → closed Tue 10-08 10:00
        case(
            "h3",
            V5,
            "social_assistance",
            TS(2024, 9, 27, 16),
            responded=TS(2024, 9, 29, 10),
            closed=TS(2024, 10, 8, 10),
            status="closed",
            n=3,
        ),
        # u1 a category absent from the SLA seed, in a file that carries response times
        case(
            "u1",
            V3,
            "pet_nuisance",
            TS(2024, 2, 6, 10),
            responded=TS(2024, 2, 6, 11),
            closed=TS(2024, 2, 7, 10),
            status="closed",
            n=4,
        ),
        # u2, u3 from a supplier whose file has no first_response_at in any row
        case("u2", V6, "utilities", TS(2024, 2, 6, 10), file=NO_RESPONSE_FILE, n=1),
        case(
            "u3",
            V6,
            "utilities",
            TS(2024, 2, 7, 10),
            closed=TS(2024, 2, 8, 10),
            status="closed",
            file=NO_RESPONSE_FILE,
            n=2,
        ),
    ]


# case_id → response_calendar_hours, response_working_hours, closure_calendar_hours,
#   closure_working_hours, response_hours, closure_hours, is_responded, is_responded_within_sla,
#   is_closed_within_sla, sla_status, response_data_status
EXPECTED_HOLIDAY_CASES = {
    # h1 response: Fri 15–17 = 2 h, 02-10 … 02-17 holiday 0, Sun 02-18 09–11 = 2 h → 4 working h;
    #    calendar 02-09 15:00 → 02-18 11:00 = 9 d − 4 h = 212 h. Closure: 2 + Sun 8 + Mon 09–12 3 = 13
    #    working h; calendar 02-09 15:00 → 02-19 12:00 = 10 d − 3 h = 237 h. 4 ≤ 8 and 13 ≤ 80: in time.
    "h1": (212.0, 4.0, 237.0, 13.0, 4.0, 13.0, True, True, True, "known", "known"),
    # h2 response: Sat off 0 + Sun 02-04 09:00–10:30 = 1.5 working h; calendar 24.5 h. Closure: Sun 8 +
    #    Mon 02-05 at 09:00 0 = 8 working h; calendar 02-03 10:00 → 02-05 09:00 = 47 h.
    "h2": (24.5, 1.5, 47.0, 8.0, 1.5, 8.0, True, True, True, "known", "known"),
    # h3 response: Fri 16–17 = 1 + Sat 09-28 off + Sun 09-29 09–10 = 1 → 2 working h; calendar 42 h.
    #    Closure: Fri 1 + Sun 8 + Mon 09-30 8 + 10-01 … 10-07 holiday 0 + Tue 10-08 09–10 1 = 18 working
    #    h; calendar 09-27 16:00 → 10-08 10:00 = 11 d − 6 h = 258 h.
    "h3": (42.0, 2.0, 258.0, 18.0, 2.0, 18.0, True, True, True, "known", "known"),
    # u1 no SLA: hours kept on both clocks (Tue 10:00 → 11:00: 1 h; → Wed 10:00: 24 calendar, 8 working),
    #    SLA-clock hours and within-SLA flags null (unknown, not false)
    "u1": (1.0, 1.0, 24.0, 8.0, None, None, True, None, None, "no_sla_for_category", "known"),
    # u2, u3: the file has no response time at all → responded unknown
    "u2": (None, None, None, None, None, None, None, None, False, "known", "no_response_data"),
    "u3": (None, None, 24.0, 8.0, None, 8.0, None, None, True, "known", "no_response_data"),
}
# (unit_code, month) → cases_received, cases_valid, cases_without_sla, cases_without_response_data,
#   response_rate, response_rate_denominator, response_rate_null_reason, responded_share,
#   responded_share_null_reason, resolution_rate, closed_within_sla_rate, closed_within_sla_rate_null_reason
EXPECTED_HOLIDAY_WORKLOAD = {
    # V3 Feb: u1 only, no SLA → response_rate null (denominator 0, no_sla_for_category), responded 1/1,
    #   closed 1/1, closed_within_sla_rate null (no_sla_for_category)
    (V3, FEB): (1, 1, 1, 0, None, 0, "no_sla_for_category", 1.0, None, 1.0, None, "no_sla_for_category"),
    # V6 Feb: u2 u3 without response data → response_rate and responded_share null (no_response_data),
    #   never 0; resolution 1/2 (u3 closed); closed within SLA 1/1 (u3: 8 working h ≤ 24)
    (V6, FEB): (2, 2, 0, 2, None, 0, "no_response_data", None, "no_response_data", 0.5, 1.0, None),
    # V5 Feb: h1 h2, both answered in time → 2/2
    (V5, FEB): (2, 2, 0, 0, 1.0, 2, None, 1.0, None, 1.0, 1.0, None),
}
