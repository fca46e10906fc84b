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
County A, February (snapshot 2024-02-29): staff 4/2/2 → shares 0.5/0.25/0.25 = resident shares:
    D_resident = 0; D_registered = ½(0.25 + 0.25 + 0) = 0.25 → not by registration; deltas 0.
County B, January: V5 1000/1000 staff 1, V6 1000/3000 staff 1 → D_resident 0, D_registered 0.25.
County B, February: no roster delivered → staff unknown, indices null.

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
        "pop_total": 708829,
        "pop_urban": 708829,
        "pop_rural": 0,
        "family_households": 280000,
        "share_65plus": 16.5,
    },
    {
        "county_code": B,
        "province": "北京市",
        "city": "北京市",
        "county": "西城区",
        "pop_total": 1106214,
        "pop_urban": 1106214,
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


def _cases() -> list[dict[str, Any]]:
    def version(case_id, unit, reported, updated, status, closed=None, n=1):
        return {
            "case_id": case_id,
            "unit_code": unit,
            "channel": "hotline_12345",
            "category": "neighbour_dispute",
            "reported_at": reported,
            "assigned_at": reported,
            "first_response_at": None if status == "open" else updated,
            "closed_at": closed,
            "status": status,
            "escalated_to_level": "none",
            "handled_by_unit_code": unit,
            "satisfaction": "satisfied" if status == "closed" else None,
            "reporter_phone_hash": f"p-{case_id}",
            "description_length": 42,
            "updated_at": updated,
            **_lineage(updated.date(), f"cases_{updated:%Y%m%d}.csv", n),
        }

    return [
        version("c1", V1, TS(2024, 1, 5, 9), TS(2024, 1, 5, 9), "open"),
        version("c1", V1, TS(2024, 1, 5, 9), TS(2024, 1, 6, 15), "closed", TS(2024, 1, 6, 15)),
        version("c2", V5, TS(2024, 2, 10, 10), TS(2024, 2, 10, 10), "in_progress", n=2),
    ]


def raw_tables() -> dict[str, tuple[list[tuple[str, str]], list[dict[str, Any]]]]:
    """Table name in schema raw → (columns with DuckDB types, rows as dicts)."""
    return {
        "staff_roster": (FEEDS["staff_roster"].raw_columns, _roster()),
        "household_registration": (FEEDS["household_registration"].raw_columns, _registration()),
        "resident_population": (FEEDS["resident_population"].raw_columns, _residents()),
        "case_log": (FEEDS["case_log"].raw_columns, _cases()),
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


def load_duckdb(path: str) -> None:
    import duckdb

    con = duckdb.connect(path)
    try:
        con.execute("create schema if not exists raw")
        for table, (columns, rows) in raw_tables().items():
            cols = ", ".join(f'"{c}" {t}' for c, t in columns)
            con.execute(f"create or replace table raw.{table} ({cols})")
            marks = ", ".join("?" for _ in columns)
            con.executemany(f"insert into raw.{table} values ({marks})", _rows(columns, rows))
    finally:
        con.close()


def load_postgres(dsn: str) -> None:
    import psycopg2

    con = psycopg2.connect(dsn)
    try:
        with con, con.cursor() as cur:
            for schema in ("marts", "intermediate", "staging", "raw"):
                cur.execute(f"drop schema if exists {schema} cascade")
            cur.execute("create schema raw")
            for table, (columns, rows) in raw_tables().items():
                cols = ", ".join(f'"{c}" {PG_TYPES.get(t, t.lower())}' for c, t in columns)
                cur.execute(f"create table raw.{table} ({cols})")
                marks = ", ".join("%s" for _ in columns)
                cur.executemany(f"insert into raw.{table} values ({marks})", _rows(columns, rows))
    finally:
        con.close()


# ---- hand-computed expectations -------------------------------------------------------------

# (county_code, month) → (d_resident, d_registered, allocated_by_registration, county_staff_fte,
#                         staff_fte_outside_base, posts_to_reallocate)
EXPECTED_COUNTY = {
    (COUNTY_A, JAN): (0.375, 0.125, True, 8.0, 3.0, 3.0),
    (COUNTY_A, FEB): (0.0, 0.25, False, 8.0, 3.0, 0.0),
    (COUNTY_B, JAN): (0.0, 0.25, False, 2.0, None, 0.0),
    (COUNTY_B, FEB): (None, None, None, None, None, None),
}

# (unit_code, month) → (resident, registered, staff_fte, staff_share, resident_share,
#                       registered_share, fair_share_staff, reallocation_delta, in_allocation_base)
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
    (V5, FEB): (1000, 1000, None, None, None, None, None, None, False),
    (V6, FEB): (1000, 3000, None, None, None, None, None, None, False),
}
