"""Deliveries as suppliers really send them, on the shared region: twice, out of order, restated,
a case changing status over several days, a very late case update, units that no longer exist.

`test_scrambled_deliveries_give_the_reference_marts` ingests the region month by month in reverse
order with duplicates mixed in and must give the reference marts. `test_corrections_after_the_fact`
starts from the reference warehouse (marts built), adds the corrections production would receive
later, rebuilds incrementally as the nightly run does and checks each change by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import duckdb
import pytest
import reliability_helpers as rh
from conftest import Reference, fresh_data_dir

pytestmark = [pytest.mark.slow]

MONTHS = (
    (dt.date(2024, 3, 1), None),
    (dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
    (None, dt.date(2024, 1, 31)),
)


def test_scrambled_deliveries_give_the_reference_marts(reference: Reference, tmp_path: Path) -> None:
    data = fresh_data_dir(tmp_path, reference.landing)
    landing = data / "landing"
    # Two files delivered again later, one under its own name in a later folder and one renamed.
    roster = next((landing / "staff_roster" / "2024-01-31").iterdir())
    again = landing / "staff_roster" / "2024-04-02" / roster.name
    again.parent.mkdir()
    shutil.copy2(roster, again)
    case_day = sorted((landing / "case_log").iterdir())[10]
    case_file = next(case_day.iterdir())
    renamed = landing / "case_log" / "2024-04-02" / f"{case_file.stem}_resent.csv"
    renamed.parent.mkdir()
    shutil.copy2(case_file, renamed)

    results = []
    for since, until in MONTHS:  # March first, then February, then January
        results += rh.ingest_all(data, since=since, until=until)
    results += rh.ingest_all(data)  # and the re-sent files
    statuses = sorted(r.status for r in results if r.status != "already_loaded")
    assert statuses.count("duplicate") == 2 and set(statuses) == {"loaded", "duplicate"}
    dupes = {r.source_file: r.error for r in results if r.status == "duplicate"}
    assert all("same content (sha256)" in e for e in dupes.values()), dupes
    totals = rh.audit_consistent(data)
    assert totals == reference.totals, "nothing doubled, nothing lost"
    rh.load_reference(data)
    rh.run_dbt(data / "warehouse.duckdb", tmp_path / "dbt")
    identical = rh.mart_hashes(data / "warehouse.duckdb") == reference.marts
    assert identical
    rh.record(
        "deliveries",
        "1-scrambled",
        "out-of-order months (March, February, January) and two files delivered twice",
        f"{len(dupes)} re-sent files recognised by checksum (status duplicate), not loaded again; "
        "same raw rows as the in-order run",
        rows=totals,
        marts_identical=identical,
    )


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames), list(reader)


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _query(wh: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_corrections_after_the_fact(reference: Reference, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(reference.data, data)
    wh = data / "warehouse.duckdb"
    landing = data / "landing"
    ref_wh = reference.warehouse

    # 1. Restatement: the 2023-12-31 resident figures (carried forward into January and February;
    #    March has its own snapshot) corrected on 2024-04-05 for one village: +500 residents.
    original = landing / "resident_population" / "2023-12-31" / "resident_population_20231231.csv"
    header, rows = _csv(original)
    village = rows[0]["unit_code"]
    rows[0]["resident_population"] = str(int(rows[0]["resident_population"]) + 500)
    _write_csv(
        landing / "resident_population" / "2024-04-05" / "resident_population_20231231_v2.csv", header, rows
    )

    # 2. A new case changing status over three daily files; the last file also carries a case of a
    #    unit that no longer exists in the 2023 division codes (quarantined).
    case_header = _csv(next((landing / "case_log" / "2024-03-05").iterdir()))[0]
    base = {c: "" for c in case_header} | {
        "case_id": "RELCASE0001",
        "unit_code": village,
        "channel": "hotline_12345",
        "category": "utilities",
        "reported_at": "2024-03-05 09:00:00",
        "escalated_to_level": "none",
        "handled_by_unit_code": village,
        "description": "路灯不亮",
    }
    versions = {
        "2024-03-05": base | {"status": "open", "updated_at": "2024-03-05 09:00:00"},
        "2024-03-06": base
        | {
            "status": "in_progress",
            "assigned_at": "2024-03-05 10:00:00",
            "first_response_at": "2024-03-06 09:00:00",
            "updated_at": "2024-03-06 09:00:00",
        },
        "2024-03-08": base
        | {
            "status": "closed",
            "assigned_at": "2024-03-05 10:00:00",
            "first_response_at": "2024-03-06 09:00:00",
            "closed_at": "2024-03-08 16:00:00",
            "satisfaction": "satisfied",
            "updated_at": "2024-03-08 16:00:00",
        },
    }
    retired = base | {
        "case_id": "RELCASE0002",
        "unit_code": "350206999001",
        "handled_by_unit_code": "350206999001",
        "status": "open",
        "updated_at": "2024-03-08 10:00:00",
    }
    for day, version in versions.items():
        extra = [retired] if day == "2024-03-08" else []
        _write_csv(
            landing / "case_log" / day / f"case_log_{day.replace('-', '')}_supplement.csv",
            case_header,
            [
                version,
                *extra,
            ],
        )

    # 3. A very late update: a January case closed as satisfied is re-rated unsatisfied on 2024-04-20.
    late = _query(
        ref_wh,
        "SELECT case_id, unit_code FROM marts.fct_cases "
        "WHERE status = 'closed' AND satisfaction = 'satisfied' "
        "AND reported_at < TIMESTAMP '2024-01-20' ORDER BY case_id LIMIT 1",
    )
    [(late_case, late_unit)] = late
    con = duckdb.connect()
    [latest] = (
        con.execute(
            f"SELECT * FROM read_csv('{landing}/case_log/*/*.csv', all_varchar=true, union_by_name=true) "
            "WHERE case_id = ? ORDER BY updated_at DESC LIMIT 1",
            [late_case],
        )
        .df()
        .to_dict("records")
    )
    con.close()
    latest = {c: ("" if latest.get(c) is None else str(latest[c])) for c in case_header}
    latest |= {"satisfaction": "unsatisfied", "updated_at": "2024-04-20 10:00:00"}
    _write_csv(landing / "case_log" / "2024-04-20" / "case_log_20240420.csv", case_header, [latest])

    # 4. Registration figures for units that were abolished (not in the 2023 codes): refused whole.
    hr_header = _csv(next((landing / "household_registration" / "2024-03-31").iterdir()))[0]
    gone = [
        dict(zip(hr_header, [code, "2024-03-31", "1200", "400", "100"], strict=True))
        for code in ("350206999001", "350206999002")
    ]
    _write_csv(
        landing / "household_registration" / "2024-04-06" / "household_registration_202403_abolished.csv",
        hr_header,
        gone,
    )

    results = {r.source_file: r for r in rh.ingest_all(data) if r.status != "already_loaded"}
    by_name = {Path(k).name: v for k, v in results.items()}
    restated = by_name["resident_population_20231231_v2.csv"]
    abolished = by_name["household_registration_202403_abolished.csv"]
    day3 = by_name["case_log_20240308_supplement.csv"]
    assert restated.status == "loaded" and restated.supersedes, "the audit names the load it restates"
    original_load = _query(
        wh, "SELECT load_id FROM audit.load_log WHERE source_file LIKE '%/resident_population_20231231.csv'"
    )
    assert restated.supersedes == [original_load[0][0]]
    assert _query(
        wh, "SELECT supersedes_load_ids FROM audit.load_log WHERE load_id = ?", [restated.load_id]
    ) == [(original_load[0][0],)]
    assert abolished.status == "blocked" and "unknown_unit_code" in abolished.error, abolished.error
    assert (day3.rows_in, day3.rows_loaded, day3.rows_quarantined) == (2, 1, 1)
    assert _query(wh, "SELECT rule FROM audit.quarantine WHERE load_id = ?", [day3.load_id]) == [
        ("unknown_unit_code:unit_code",)
    ]
    totals = rh.audit_consistent(data)

    rh.run_dbt(wh, tmp_path / "dbt")  # incremental, as the nightly run
    before, after = rh.mart_hashes(ref_wh), rh.mart_hashes(wh)
    identical = before == after
    assert not identical, "the corrections must change the marts"
    assert before["dim_unit"] == after["dim_unit"] and before["dim_date"] == after["dim_date"]

    pop_sql = (
        "SELECT month, unit_code, resident_population, registered_population FROM marts.mart_population "
        "ORDER BY 1, 2"
    )
    old = {(m, u): (r, g) for m, u, r, g in _query(ref_wh, pop_sql)}
    new = {(m, u): (r, g) for m, u, r, g in _query(wh, pop_sql)}
    assert old.keys() == new.keys()
    changed = {k for k in old if old[k] != new[k]}
    jan, feb, mar = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)
    assert changed == {(jan, village), (feb, village)}, changed  # March has its own snapshot
    for month in (jan, feb):
        assert new[(month, village)][0] == old[(month, village)][0] + 500
    county_sql = (
        "SELECT month, county_resident_population, d_resident "
        "FROM marts.mart_staffing_mismatch_county ORDER BY 1"
    )
    old_c, new_c = _query(ref_wh, county_sql), _query(wh, county_sql)
    county_delta = [n[1] - o[1] for o, n in zip(old_c, new_c, strict=True)]
    assert county_delta == [500, 500, 0]
    assert new_c[2] == old_c[2] and new_c[0][2] != old_c[0][2]  # later months recomputed, March as before

    # the case: once, in its last state; counted once in March
    case = _query(
        wh, "SELECT status, closed_at, satisfaction FROM marts.fct_cases WHERE case_id = 'RELCASE0001'"
    )
    assert case == [("closed", dt.datetime(2024, 3, 8, 16), "satisfied")]
    assert _query(wh, "SELECT count(*) FROM marts.fct_cases WHERE case_id = 'RELCASE0002'") == [(0,)]
    wl_sql = (
        "SELECT cases_received, cases_closed, cases_satisfied FROM marts.mart_workload "
        "WHERE unit_code = ? AND month = ?"
    )
    o, n = _query(ref_wh, wl_sql, [village, mar])[0], _query(wh, wl_sql, [village, mar])[0]
    march = (n[0] - o[0], n[1] - o[1], n[2] - o[2])
    assert march == (1, 1, 1)

    # the very late update: the January case's latest version, still one case
    assert _query(wh, "SELECT satisfaction FROM marts.fct_cases WHERE case_id = ?", [late_case]) == [
        ("unsatisfied",)
    ]
    o, n = _query(ref_wh, wl_sql, [late_unit, jan])[0], _query(wh, wl_sql, [late_unit, jan])[0]
    january = (n[0] - o[0], n[1] - o[1], n[2] - o[2])
    assert january == (0, 0, -1)
    fct = _query(wh, "SELECT count(*), count(DISTINCT case_id) FROM marts.fct_cases")[0]
    assert fct[0] == fct[1] == _query(ref_wh, "SELECT count(*) FROM marts.fct_cases")[0][0] + 1

    status_files = [by_name[f"case_log_{d.replace('-', '')}_supplement.csv"] for d in versions]
    status_rows = [rh.audit_rows(data, r.load_id) for r in status_files]
    assert [r[2] for r in status_rows] == [0, 0, 1]  # the third file's quarantined row: RELCASE0002
    fct_rows = _query(wh, "SELECT count(*) FROM marts.fct_cases WHERE case_id = 'RELCASE0001'")[0][0]
    abolished_rows = rh.audit_rows(data, abolished.load_id)
    assert abolished_rows == (len(gone), 0, 0), abolished_rows
    late_file = by_name["case_log_20240420.csv"]
    fct_once = fct[0] == fct[1]

    def signed(values) -> str:
        return ", ".join(f"{v:+,}" for v in values)

    rh.record(
        "deliveries",
        "2-restatement",
        "restatement of the 2023-12-31 resident snapshot (+500 in one village), delivered 2024-04-05",
        f"loaded; audit names the superseded load; county residents by month (Jan, Feb, Mar): "
        f"{signed(county_delta)}; county D changed in January, March (own snapshot) unchanged",
        rows=rh.audit_rows(data, restated.load_id),
        marts_identical=identical,
    )
    rh.record(
        "deliveries",
        "3-case-status",
        "a case open, in progress, closed over three daily files",
        f"{fct_rows} row in fct_cases, closed and satisfied; its village's March workload (received, "
        f"closed, satisfied): {signed(march)}; the third file's other row, of an abolished unit, "
        "quarantined under unknown_unit_code:unit_code",
        rows=tuple(sum(r[i] for r in status_rows) for i in range(3)),
        marts_identical=identical,
    )
    rh.record(
        "deliveries",
        "4-late-update",
        "a January case re-rated three months later (2024-04-20)",
        f"incremental build took the latest version; its unit's January workload (received, closed, "
        f"satisfied): {signed(january)}; fct_cases one row per case: {'yes' if fct_once else 'no'}",
        rows=rh.audit_rows(data, late_file.load_id),
        marts_identical=identical,
    )
    rh.record(
        "deliveries",
        "5-abolished-units",
        "a registration file of units no longer in the 2023 division codes",
        f"blocked whole (status {abolished.status}, rule unknown_unit_code): its {abolished_rows[0]} rows "
        "counted, none loaded, none quarantined",
        rows=abolished_rows,
        marts_identical=None,
    )
    assert totals[0] > reference.totals[0]
