"""One file identity (issue #18, items 2 and 4): a delivery is (feed, delivery date, path).

New content at the same path supersedes the earlier load explicitly (its audit row says so, its
rows leave raw and the quarantine, the new row names it); the raw and quarantine Parquet files are
named after the whole delivered file name, so two deliveries of one folder never share one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import duckdb
from test_ingest import HR_HEADER, U1, U2, deliver, run

from grassroots.audit_checks import audit_inconsistencies
from grassroots.config import settings
from grassroots.ingest import ingest_delivery, zone_file
from grassroots.landing import Delivery, find_deliveries
from grassroots.mappings import load_mappings

FEED = "household_registration"
DAY = "2024-01-31"
NAME = "household_registration_202401.csv"


def _hr(unit: str, pop: str) -> str:
    return f"{unit},2024-01-31,{pop},400,150"


def _q(data_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _inconsistencies(data_dir: Path) -> list[dict]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return audit_inconsistencies(con)
    finally:
        con.close()


def test_zone_file_keeps_the_extension() -> None:
    landing = Path("/l")
    for name in ("x.csv", "x.xlsx", "x", "x.tar.csv"):
        d = Delivery(FEED, dt.date(2024, 1, 31), landing / FEED / DAY / name, landing)
        assert zone_file(Path("/raw"), d) == Path(f"/raw/{FEED}/delivery_date={DAY}/{name}.parquet")


def test_corrected_file_at_the_same_path_supersedes_the_old_load(data_dir: Path) -> None:
    # First content: two good rows and one of an unknown unit (quarantined).
    deliver(data_dir, FEED, DAY, NAME, [HR_HEADER, _hr(U1, "1000"), _hr(U2, "900"), _hr("999999999999", "5")])
    [first] = run(FEED)
    assert (first.status, first.rows_loaded, first.rows_quarantined) == ("loaded", 2, 1)
    # The supplier corrects the file in place: the unknown unit removed, one figure changed.
    deliver(data_dir, FEED, DAY, NAME, [HR_HEADER, _hr(U1, "1001"), _hr(U2, "900")])
    [second] = run(FEED)
    assert (second.status, second.rows_loaded, second.rows_quarantined) == ("loaded", 2, 0)
    assert second.load_id != first.load_id
    assert second.supersedes == [first.load_id]

    log = _q(
        data_dir,
        "SELECT load_id, status, supersedes_load_ids, error FROM audit.load_log ORDER BY finished_at",
    )
    assert [(lid, st, sup) for lid, st, sup, _ in log] == [
        (first.load_id, "superseded", None),
        (second.load_id, "loaded", first.load_id),
    ]
    assert f"superseded by load {second.load_id}" in log[0][3]
    # exactly one live load, and only its rows in raw and in the quarantine
    assert _q(data_dir, f"SELECT DISTINCT load_id FROM raw.{FEED}") == [(second.load_id,)]
    assert _q(data_dir, f"SELECT registered_population FROM raw.{FEED} ORDER BY 1") == [(900,), (1001,)]
    assert _q(data_dir, "SELECT count(*) FROM audit.quarantine") == [(0,)]
    assert _inconsistencies(data_dir) == []
    # one Parquet file for the path in each zone, holding the new content
    raw_files = list((data_dir / "raw").rglob("*.parquet"))
    assert [p.name for p in raw_files] == [f"{NAME}.parquet"]
    assert _q(data_dir, f"SELECT DISTINCT load_id FROM read_parquet('{raw_files[0]}')") == [(second.load_id,)]
    # the file's state is the new load; the superseded one is history
    assert _q(
        data_dir, "SELECT files, files_loaded, rows_loaded, rows_quarantined FROM audit.delivery_status"
    ) == [(1, 1, 2, 0)]
    # a rerun changes nothing
    assert [r.status for r in run(FEED)] == ["already_loaded"]
    assert len(_q(data_dir, "SELECT * FROM audit.load_log")) == 2


def test_content_put_back_at_the_path_supersedes_the_correction(data_dir: Path) -> None:
    a = [HR_HEADER, _hr(U1, "1000"), _hr(U2, "900")]
    deliver(data_dir, FEED, DAY, NAME, a)
    [first] = run(FEED)
    deliver(data_dir, FEED, DAY, NAME, [HR_HEADER, _hr(U1, "1")])
    [second] = run(FEED)
    deliver(data_dir, FEED, DAY, NAME, a)  # the supplier reverts the correction
    [third] = run(FEED)
    assert third.status == "loaded" and third.supersedes == [second.load_id]
    assert third.load_id == first.load_id  # same path, same content: the same deterministic id
    assert _q(data_dir, "SELECT status, count(*) FROM audit.load_log GROUP BY 1 ORDER BY 1") == [
        ("loaded", 1),
        ("superseded", 2),
    ]
    assert _q(data_dir, f"SELECT registered_population FROM raw.{FEED} ORDER BY 1") == [(900,), (1000,)]
    assert _inconsistencies(data_dir) == []


def test_refused_correction_leaves_the_loaded_content(data_dir: Path) -> None:
    deliver(data_dir, FEED, DAY, NAME, [HR_HEADER, _hr(U1, "1000"), _hr(U2, "900")])
    [first] = run(FEED)
    deliver(data_dir, FEED, DAY, NAME, ["unit_code,as_of_date", f"{U1},2024-01-31"])  # a column missing
    [second] = run(FEED)
    assert second.status == "rejected"
    # nothing already loaded is harmed: the loaded content stays live
    assert _q(data_dir, "SELECT status FROM audit.load_log WHERE load_id = ?", [first.load_id]) == [
        ("loaded",)
    ]
    assert _q(data_dir, f"SELECT count(*) FROM raw.{FEED}") == [(2,)]
    assert _inconsistencies(data_dir) == []


def test_same_stem_deliveries_both_stay_in_raw(data_dir: Path) -> None:
    """`x.csv` beside `x.txt` in one folder: two deliveries, two raw files, nothing lost."""
    deliver(data_dir, FEED, DAY, NAME, [HR_HEADER, _hr(U1, "1000")])
    deliver(data_dir, FEED, DAY, NAME.replace(".csv", ".txt"), [HR_HEADER, _hr(U2, "900")])
    canonical = next(m for m in load_mappings() if m.name == "canonical_household_registration")
    mappings = [
        *load_mappings(),
        replace(canonical, name="txt_hr", file_pattern="household_registration_*.txt"),
    ]
    results = [
        ingest_delivery(d, mappings=mappings, validate=False)
        for d in find_deliveries(settings().landing_dir, FEED)
    ]
    assert [(Path(r.source_file).name, r.status) for r in results] == [
        (NAME, "loaded"),
        (NAME.replace(".csv", ".txt"), "loaded"),
    ]
    part = data_dir / "raw" / FEED / f"delivery_date={DAY}"
    files = sorted(p.name for p in part.glob("*.parquet"))
    assert files == [f"{NAME}.parquet", NAME.replace(".csv", ".txt.parquet")]
    # the raw zone holds what the warehouse holds, file by file
    zone = _q(data_dir, f"SELECT source_file, unit_code FROM read_parquet('{part}/*.parquet') ORDER BY 1")
    assert zone == _q(data_dir, f"SELECT source_file, unit_code FROM raw.{FEED} ORDER BY 1")
    assert len(zone) == 2
    assert _inconsistencies(data_dir) == []


def test_audit_check_sees_two_live_loads_of_one_path(data_dir: Path) -> None:
    deliver(data_dir, FEED, DAY, NAME, [HR_HEADER, _hr(U1, "1000"), _hr(U2, "900")])
    run(FEED)
    deliver(data_dir, FEED, DAY, NAME, [HR_HEADER, _hr(U1, "1001"), _hr(U2, "900")])
    [second] = run(FEED)
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    # as the ingest did before the fix: the old load left 'loaded'
    con.execute("UPDATE audit.load_log SET status = 'loaded' WHERE status = 'superseded'")
    problems = sorted(b["problem"].split(":")[0].split(" differs")[0] for b in audit_inconsistencies(con))
    assert problems == ["rows_loaded 2", "several live loads of one file (feed, delivery date, path)"]
    # and raw rows of a load that is not live
    con.execute("UPDATE audit.load_log SET status = 'superseded' WHERE load_id <> ?", [second.load_id])
    con.execute("DELETE FROM audit.load_log WHERE load_id = ?", [second.load_id])
    [orphan] = audit_inconsistencies(con)
    assert (orphan["load_id"], orphan["status"]) == (second.load_id, "not live")
    con.close()


def test_zone_file_of_the_old_stem_name_is_replaced(data_dir: Path) -> None:
    """A zone written before the extension was kept: a re-delivery leaves one file per path, and a
    legacy file holding another same-stem delivery's rows stays."""
    deliver(data_dir, FEED, DAY, NAME, [HR_HEADER, _hr(U1, "1000"), _hr("999999999999", "5")])
    run(FEED)
    legacy = "household_registration_202401.parquet"
    raw_part = data_dir / "raw" / FEED / f"delivery_date={DAY}"
    q_part = data_dir / "quarantine" / FEED / f"delivery_date={DAY}"
    (q_part / f"{NAME}.parquet").rename(q_part / legacy)  # this delivery's, under the old name
    (raw_part / f"{NAME}.parquet").unlink()
    other = f"{FEED}/{DAY}/{NAME.replace('.csv', '.txt')}"
    duckdb.sql(f"COPY (SELECT '{other}' AS source_file) TO '{raw_part / legacy}' (FORMAT parquet)")
    deliver(data_dir, FEED, DAY, NAME, [HR_HEADER, _hr(U1, "1001")])
    [res] = run(FEED)
    assert res.status == "loaded"
    names = sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*.parquet"))
    assert names == [
        f"quarantine/{FEED}/delivery_date={DAY}/{NAME}.parquet",
        f"raw/{FEED}/delivery_date={DAY}/{NAME}.parquet",
        f"raw/{FEED}/delivery_date={DAY}/{legacy}",
    ]
