"""A roster listing one person (one ID number) at 1.0 FTE in three units (issue #18 item 7).

The region's January roster gets two more rows for a person already on it at 1.0 FTE: the same ID
number (and name and phone) at two other units, 1.0 each, one row under the same staff_id, one under
another. Real ingest (the roster validated by its Great Expectations suite), real reference tables,
real `dbt build` with every data test. Expected: the delivery loads whole with the suite's warning
fte.person_total_at_most_one on its three posts (ID number masked); the build passes with the
warning test person_fte_at_most_one reporting one person; int_staff_fte_over_one lists that person by
the pseudonymised ID number, three units, 3.0 FTE; the staffing marts count the person once, 1/3 at
each unit (docs/methodology.md, "One person's FTE across units").
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
import reliability_helpers as rh

SNAPSHOT = "2024-01-31"


def _query(wh: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _active(row: dict) -> bool:
    return row["hire_date"] <= SNAPSHOT and (not row["exit_date"] or row["exit_date"] > SNAPSHOT)


def _add_person_in_three_units(roster: Path) -> tuple[dict, list[str]]:
    """Append two posts of an existing 1.0-FTE village worker at two other village units; the
    person's row and their three units."""
    with roster.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    villages = sorted({r["unit_code"] for r in rows if not r["unit_code"].endswith("000")})
    person = next(
        r
        for r in rows
        if r["fte"] == "1.0" and _active(r) and not r["unit_code"].endswith("000") and r["exit_date"] == ""
    )
    others = [u for u in villages if u != person["unit_code"]][:2]
    assert len(others) == 2, villages
    added = [
        {**person, "unit_code": others[0]},  # same staff_id, another unit
        {**person, "staff_id": person["staff_id"] + "B", "unit_code": others[1]},  # another staff_id
    ]
    with roster.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows + added)
    return person, [person["unit_code"], *others]


@pytest.mark.slow
def test_one_person_at_full_time_in_three_units(region: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(region, data / "landing")
    roster = data / "landing" / "staff_roster" / SNAPSHOT / "staff_roster_350206_202401.csv"
    person, units = _add_person_in_three_units(roster)

    results = rh.ingest_all(data, ["staff_roster"], validate=True)
    results += rh.ingest_all(data, [f for f in rh.FEEDS if f != "staff_roster"])
    assert {r.status for r in results} == {"loaded"}, [(r.source_file, r.status, r.error) for r in results]
    january = next(r for r in results if r.source_file.endswith("staff_roster_350206_202401.csv"))
    assert january.rows_quarantined == 0 and january.rows_loaded == january.rows_in

    # at ingest: the roster suite's warning (the delivery is published), ID numbers masked
    checks = _query(
        data / "warehouse.duckdb",
        "SELECT file, success, severity, unexpected_count, unexpected_sample FROM audit.validation_results "
        "WHERE feed = 'staff_roster' AND expectation = 'expect_column_sum_within_groups_to_be_at_most' "
        "ORDER BY file",
    )
    assert [(Path(f).name, ok, sev, n) for f, ok, sev, n, _ in checks] == [
        ("staff_roster_350206_202401.csv", False, "warning", 3),
        ("staff_roster_350206_202402.csv", True, "warning", 0),
        ("staff_roster_350206_202403.csv", True, "warning", 0),
    ]
    assert "sha256:" in checks[0][4] and person["id_number"] not in checks[0][4]
    # ... and in Data Docs, where the auditor looks: the rule rendered, no identifier of the person
    with rh.use_data_dir(data, tmp_path / "reports"):
        from grassroots import data_docs

        site = data_docs.build("reliability").parent
    pages = "".join(p.read_text(encoding="utf-8", errors="replace") for p in site.rglob("*.html"))
    assert "fte sums to at most 1 within each id_number and snapshot_date" in pages
    leaks, scanned = rh.scan_tree(site, {person["id_number"], person["phone"]}, {person["name"]})
    assert scanned and not leaks, leaks

    rh.load_reference(data)
    wh = data / "warehouse.duckdb"
    work = tmp_path / "dbt"
    rh.run_dbt(wh, work, "build")  # every data test: passes (the finding is a warning)
    run_results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    warned = [r for r in run_results if ".person_fte_at_most_one_" in r["unique_id"]]
    assert [(r["status"], r["failures"]) for r in warned] == [("warn", 1)]

    # the finding: the person by their pseudonymised ID number, never in clear
    (pseudonym,) = {
        h
        for (h,) in _query(
            wh,
            "SELECT DISTINCT id_number_hash FROM raw.staff_roster WHERE staff_id = ?",
            [person["staff_id"]],
        )
    }
    assert pseudonym and pseudonym != person["id_number"]
    findings = _query(
        wh,
        "SELECT CAST(snapshot_date AS VARCHAR), person_key, units, unit_codes, staff_ids, total_fte, "
        "total_fte_capped FROM intermediate.int_staff_fte_over_one",
    )
    assert findings == [
        (
            SNAPSHOT,
            pseudonym,
            3,
            ", ".join(sorted(units)),
            f"{person['staff_id']}, {person['staff_id']}B",
            3.0,
            pytest.approx(1.0, abs=1e-12),
        )
    ]

    # the staffing marts count the person once: 1/3 at each of the three units. Expected from the
    # loaded raw rows (the ingest's output, no dbt): active posts of the January snapshot.
    raw = _query(
        wh,
        "SELECT unit_code, fte, id_number_hash FROM raw.staff_roster "
        "WHERE snapshot_date = DATE '2024-01-31' AND (hire_date IS NULL OR hire_date <= snapshot_date) "
        "AND (exit_date IS NULL OR exit_date > snapshot_date)",
    )
    expected: dict[str, float] = defaultdict(float)
    for unit, fte, id_hash in raw:
        expected[unit] += 1 / 3 if id_hash == pseudonym else fte
    got = dict(
        _query(wh, "SELECT unit_code, total_fte FROM marts.mart_staffing WHERE month = DATE '2024-01-01'")
    )
    on_spine = {u: f for u, f in got.items() if f is not None}
    for unit in units:
        assert math.isclose(on_spine[unit], expected[unit], abs_tol=1e-9), (
            unit,
            on_spine[unit],
            expected[unit],
        )
    assert all(math.isclose(on_spine[u], expected.get(u, 0.0), abs_tol=1e-9) for u in on_spine)
    listed = sum(fte for _, fte, _ in raw)
    assert math.isclose(sum(on_spine.values()), listed - 2.0, abs_tol=1e-9)  # counted 1.0, not 3.0
    mismatch = dict(
        _query(
            wh,
            "SELECT unit_code, staff_fte FROM marts.mart_staffing_mismatch WHERE month = DATE '2024-01-01'",
        )
    )
    for unit in units:
        assert math.isclose(mismatch[unit], expected[unit], abs_tol=1e-9)

    rh.record(
        "deliveries",
        "7-fte-across-units",
        "one person (same ID number) at 1.0 FTE in three units of a roster, under two staff_ids",
        "loaded whole; roster suite warns (3 posts, ID masked); dbt warning test person_fte_at_most_one "
        "lists the pseudonymised person (3 units, 3.0 FTE); staffing marts count 1/3 per unit (1.0 in all)",
        rows=(january.rows_in, january.rows_loaded, january.rows_quarantined),
        marts_identical=False,
    )
