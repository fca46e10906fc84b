"""Deliveries as messy as real ones (issue #18, items 2-4): one file identity, deterministic versions.

- A corrected file re-delivered at the same path supersedes the first load: one live load, the old
  audit row marked superseded and named by the new one, the raw zone and tables exactly what a
  warehouse that only ever saw the corrected file holds, the audit consistency check clean.
- Two deliveries with the same stem in one folder (``x.csv`` beside ``x.xlsx``) both stay in raw.
- Versions of cases tied on updated_at, delivered over three days, loaded in all six orders of the
  days: byte-identical marts, and the version the documented order names.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import openpyxl
import pytest
import reliability_helpers as rh

from grassroots.audit_checks import audit_inconsistencies
from grassroots.ingest import ingest_delivery
from grassroots.landing import find_deliveries
from grassroots.mappings import load_mappings
from grassroots.warehouse import connect, ensure_raw_tables

pytestmark = [pytest.mark.slow]

U1, U2 = "110101001001", "110101001002"  # two communities of 东华门街道, 东城区, 北京
CASES = (
    "case_id,unit_code,channel,category,reported_at,assigned_at,first_response_at,closed_at,status,"
    "escalated_to_level,handled_by_unit_code,satisfaction,reporter_phone,description,updated_at"
)
DAYS = ("2024-03-05", "2024-03-06", "2024-03-07")


def case(
    case_id: str,
    status: str,
    updated: str,
    *,
    unit: str = U1,
    category: str = "utilities",
    closed: str = "",
    satisfaction: str = "",
    escalated: str = "none",
    phone: str = "13900000001",
) -> str:
    responded = "2024-03-05 10:00:00" if status in ("in_progress", "closed") else ""
    return (
        f"{case_id},{unit},hotline_12345,{category},2024-03-05 09:00:00,{responded},{responded},{closed},"
        f"{status},{escalated},{unit},{satisfaction},{phone},路灯不亮,{updated}"
    )


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def q(wh: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def inconsistencies(wh: Path) -> list[dict]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return audit_inconsistencies(con)
    finally:
        con.close()


def raw_and_quarantine(data: Path) -> tuple[list, list, list]:
    """raw.case_log and audit.quarantine without load times, and the raw Parquet zone's rows."""
    wh = data / "warehouse.duckdb"
    raw = q(wh, "SELECT * EXCLUDE (loaded_at) FROM raw.case_log ORDER BY ALL")
    quarantine = q(wh, "SELECT * FROM audit.quarantine ORDER BY ALL")
    zone = q(
        wh, f"SELECT * EXCLUDE (loaded_at) FROM read_parquet('{data}/raw/case_log/*/*.parquet') ORDER BY ALL"
    )
    return raw, quarantine, zone


# --- 1. a corrected file at the same path ------------------------------------------------------------


def test_corrected_file_at_the_same_path(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = data / "landing" / "case_log" / DAYS[0] / "case_log_20240305.csv"
    first = [
        CASES,
        case("K1", "open", "2024-03-05 09:00:00"),
        case("K2", "open", "2024-03-05 09:30:00", unit="999999999999"),  # unknown unit: quarantined
        case("K3", "in_progress", "2024-03-05 10:00:00"),
    ]
    corrected = [
        CASES,
        case("K1", "open", "2024-03-05 09:00:00", category="sanitation"),  # recoded
        case("K2", "open", "2024-03-05 09:30:00", unit=U2),  # unit fixed
    ]  # K3 withdrawn
    write(path, first)
    [r1] = rh.ingest_all(data, feeds=("case_log",))
    write(path, corrected)
    [r2] = rh.ingest_all(data, feeds=("case_log",))
    assert (r1.status, r1.rows_in, r1.rows_loaded, r1.rows_quarantined) == ("loaded", 3, 2, 1)
    assert (r2.status, r2.rows_in, r2.rows_loaded, r2.rows_quarantined) == ("loaded", 2, 2, 0)

    wh = data / "warehouse.duckdb"
    assert q(wh, "SELECT load_id, status, supersedes_load_ids FROM audit.load_log ORDER BY finished_at") == [
        (r1.load_id, "superseded", None),
        (r2.load_id, "loaded", r1.load_id),
    ]
    assert inconsistencies(wh) == []  # the project's own check
    totals = rh.audit_consistent(data)  # one live load per file, raw and quarantine counts agree
    assert totals == (2, 2, 0)
    assert [p.name for p in (data / "raw").rglob("*.parquet")] == ["case_log_20240305.csv.parquet"]

    # exactly what a warehouse that only ever received the corrected file holds
    fresh = tmp_path / "fresh"
    write(fresh / "landing" / "case_log" / DAYS[0] / "case_log_20240305.csv", corrected)
    rh.ingest_all(fresh, feeds=("case_log",))
    assert raw_and_quarantine(data) == raw_and_quarantine(fresh)
    assert [r.status for r in rh.ingest_all(data, feeds=("case_log",))] == ["already_loaded"]
    rh.record(
        "deliveries",
        "id-1-corrected",
        "a corrected case file delivered again at the same path (one row recoded, one fixed, one withdrawn)",
        "one live load: the first marked superseded and named in the new row's supersedes_load_ids; raw, "
        "quarantine and raw zone equal to a warehouse that only saw the corrected file; audit check clean",
        rows=totals,
    )


# --- 2. two deliveries with the same stem ------------------------------------------------------------


def test_same_stem_deliveries_both_reach_raw(tmp_path: Path) -> None:
    data = tmp_path / "data"
    folder = data / "landing" / "case_log" / DAYS[0]
    write(folder / "case_log_20240305.csv", [CASES, case("S1", "open", "2024-03-05 09:00:00")])
    wb = openpyxl.Workbook()
    for line in (CASES, case("S2", "open", "2024-03-05 09:10:00", unit=U2)):
        wb.active.append(line.split(","))
    wb.save(folder / "case_log_20240305.xlsx")
    canonical = next(m for m in load_mappings() if m.name == "canonical_case_log")
    mappings = [
        *load_mappings(),
        replace(canonical, name="xlsx_case_log", format="xlsx", file_pattern="case_log_*.xlsx"),
    ]
    with rh.use_data_dir(data):
        results = [
            ingest_delivery(d, mappings=mappings, validate=False)
            for d in find_deliveries(data / "landing", "case_log")
        ]
    assert [(Path(r.source_file).name, r.status, r.rows_loaded) for r in results] == [
        ("case_log_20240305.csv", "loaded", 1),
        ("case_log_20240305.xlsx", "loaded", 1),
    ]
    part = data / "raw" / "case_log" / f"delivery_date={DAYS[0]}"
    assert sorted(p.name for p in part.glob("*.parquet")) == [
        "case_log_20240305.csv.parquet",
        "case_log_20240305.xlsx.parquet",
    ]
    raw, _, zone = raw_and_quarantine(data)
    assert zone == raw and sorted(r[0] for r in raw) == ["S1", "S2"]  # nothing lost in the raw zone
    totals = rh.audit_consistent(data)
    assert inconsistencies(data / "warehouse.duckdb") == []
    rh.record(
        "deliveries",
        "id-2-same-stem",
        "x.csv beside x.xlsx in one landing folder (same stem)",
        "both loaded; two raw Parquet files (x.csv.parquet, x.xlsx.parquet) holding exactly the "
        "warehouse's rows",
        rows=totals,
    )


# --- 3. versions tied on updated_at, loaded in every order ---------------------------------------------

# T1: in_progress, closed, open at one updated_at on three days → closed (status precedence).
# T2: closed then cancelled at one updated_at → closed (closed > cancelled).
# T3: open on three days at one updated_at, each time another escalation level → the 03-07 version.
# T4: a later updated_at on 03-05 beats the tie of 03-06 and 03-07 → the 03-05 version (satisfied).
TIED = {
    DAYS[0]: [
        case("T1", "in_progress", "2024-03-05 12:00:00"),
        case("T2", "closed", "2024-03-05 15:00:00", closed="2024-03-05 15:00:00", satisfaction="satisfied"),
        case("T3", "open", "2024-03-05 11:00:00", escalated="none", phone="13900000003"),
        case("T4", "closed", "2024-03-06 18:00:00", closed="2024-03-06 18:00:00", satisfaction="satisfied"),
        case("N1", "open", "2024-03-05 09:00:00", unit=U2, category="sanitation", phone="13900000005"),
    ],
    DAYS[1]: [
        case("T1", "closed", "2024-03-05 12:00:00", closed="2024-03-05 12:00:00", satisfaction="unsatisfied"),
        case("T2", "cancelled", "2024-03-05 15:00:00"),
        case("T3", "open", "2024-03-05 11:00:00", escalated="township", phone="13900000003"),
        case("T4", "closed", "2024-03-06 17:00:00", closed="2024-03-06 17:00:00", satisfaction="unsatisfied"),
    ],
    DAYS[2]: [
        case("T1", "open", "2024-03-05 12:00:00"),
        case("T3", "open", "2024-03-05 11:00:00", escalated="county", phone="13900000003"),
        case("T4", "in_progress", "2024-03-06 17:00:00"),
    ],
}
EXPECTED = [
    ("N1", "open", None, "none"),
    ("T1", "closed", "unsatisfied", "none"),
    ("T2", "closed", "satisfied", "none"),
    ("T3", "open", None, "county"),
    ("T4", "closed", "satisfied", "none"),
]


def test_tied_versions_in_every_load_order_give_identical_marts(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    for day, rows in TIED.items():
        write(landing / "case_log" / day / f"case_log_{day.replace('-', '')}.csv", [CASES, *rows])
    hashes: dict[tuple[str, ...], dict] = {}
    kept: dict[tuple[str, ...], list] = {}
    totals = None
    for order in itertools.permutations(DAYS):
        root = tmp_path / "-".join(d[-2:] for d in order)
        data = root / "data"
        (data / "landing").mkdir(parents=True)
        shutil.copytree(landing / "case_log", data / "landing" / "case_log")
        for day in order:  # one day per run, in this order: each file gets its own loaded_at
            d = dt.date.fromisoformat(day)
            [res] = rh.ingest_all(data, feeds=("case_log",), since=d, until=d)
            assert res.status == "loaded", (order, res)
        totals = rh.audit_consistent(data)
        rh.load_reference(data)
        wh = data / "warehouse.duckdb"
        with connect(wh) as con:  # the other feeds were never delivered: empty tables
            ensure_raw_tables(con)
        rh.run_dbt(wh, root / "dbt")
        hashes[order] = rh.mart_hashes(wh)
        kept[order] = q(
            wh, "SELECT case_id, status, satisfaction, escalated_to_level FROM marts.fct_cases ORDER BY 1"
        )
    first = hashes[DAYS]
    assert first["fct_cases"][1] == 5 and first["mart_workload"][1] > 0
    differing = {o: sorted(t for t in first if h[t] != first[t]) for o, h in hashes.items() if h != first}
    assert not differing, f"marts differ from the in-order load: {differing}"
    assert all(k == EXPECTED for k in kept.values()), kept
    rh.record(
        "deliveries",
        "id-3-ties",
        "versions of cases tied on updated_at over three daily files, loaded in all 6 orders of the days",
        "byte-identical marts in every order; the kept version is the documented one (updated_at, then "
        "closed > cancelled > in_progress > open, then the later delivery)",
        rows=totals,
        marts_identical=True,
    )
