"""Hostile files, beyond the defect classes of DESIGN §7 (test_hostile_input.py): a landing zone that
points outside itself, an oversized file, a zip bomb, a mapping with unknown keys, SQL-looking text in
every field and file name, and formula injection up to the report's CSV and Excel exports."""

from __future__ import annotations

import csv
import logging
import re
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
import reliability_helpers as rh
from test_hostile_input import CASES, EARLIER, HR, case_rows, hr_rows, text

from grassroots.config import settings
from grassroots.ingest import ingest_pending
from grassroots.mappings import MappingError

FEB = "2024-02-29"


def _first_load(data_dir: Path, feed: str) -> str:
    name, lines = EARLIER[feed]
    jan = data_dir / "landing" / feed / "2024-01-31" / name
    jan.parent.mkdir(parents=True)
    jan.write_bytes(text(*lines))
    [first] = ingest_pending(feed, validate=False)
    assert first.status == "loaded"
    return rh.warehouse_state(data_dir)


def test_path_traversal_in_the_landing_zone(
    data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = _first_load(data_dir, "household_registration")
    counts = rh.row_counts(data_dir)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "household_registration_secret.csv").write_bytes(text(HR, *hr_rows(FEB)))
    feed_dir = data_dir / "landing" / "household_registration"
    (feed_dir / FEB).mkdir()
    # a file that is a link out of the zone, a day folder that is one, and names with '..' in them
    (feed_dir / FEB / "household_registration_link.csv").symlink_to(
        outside / "household_registration_secret.csv"
    )
    (feed_dir / "2024-03-31").symlink_to(outside, target_is_directory=True)
    (feed_dir / FEB / "..household_registration_dots.csv").write_bytes(text(HR, *hr_rows(FEB)))
    with caplog.at_level(logging.WARNING):
        results = ingest_pending("household_registration", validate=False)
    assert [r.status for r in results] == ["already_loaded"]
    refused = [r.getMessage() for r in caplog.records if "points outside the landing zone" in r.getMessage()]
    assert any("household_registration_link.csv" in m for m in refused)
    assert any("household_registration_secret.csv" in m for m in refused)
    assert rh.warehouse_state(data_dir) == before
    assert not list((data_dir / "raw").rglob("*secret*")) and not list((data_dir / "raw").rglob("*dots*"))
    raw, q, log_rows = (a - b for a, b in zip(rh.row_counts(data_dir), counts, strict=True))
    assert (raw, q, log_rows) == (0, 0, 0)
    links = sum(("_link.csv" in m or "_secret.csv" in m) for m in refused)
    rh.record(
        "hostile",
        "2-path-traversal",
        "path traversal in the landing zone (symlinked file and day folder, '..' names)",
        f"{links} paths refused with an error naming them (points outside the landing zone); "
        f"the '..'-prefixed name not loaded; new rows in raw, quarantine, load log: {raw}, {q}, {log_rows}",
        rows=(None, raw, q),
    )


# What a refused file may cost the load that refuses it (asserted, and shown in docs/reliability.md):
# the whole load, warehouse reads included, in a fresh interpreter.
READ_BOUND, MEMORY_BOUND = 64 * rh.MIB, 256 * rh.MIB


def test_oversized_file_is_refused_unread(data_dir: Path) -> None:
    before = _first_load(data_dir, "household_registration")
    counts = rh.row_counts(data_dir)
    big = data_dir / "landing" / "household_registration" / FEB / "household_registration_202402.csv"
    big.parent.mkdir()
    with big.open("wb") as fh:  # 2 GiB, sparse: no disk used, and the ingest must not read it
        fh.write(text(HR, *hr_rows(FEB)))
        fh.truncate(2 << 30)
    size = big.stat().st_size
    run = rh.measured_ingest(data_dir, "household_registration", big)
    [(status, load_id, error)] = [r for r in run.results if r[0] != "already_loaded"]
    assert status == "rejected" and "rule 'file_too_large'" in error, error
    assert big.name in error and f"{size:,} bytes" in error
    # Unread: never opened, and the whole load read far less than the file holds.
    assert run.opened == 0, f"the oversized file was opened {run.opened} time(s)"
    assert run.bytes_read < READ_BOUND, run
    assert run.peak_growth < MEMORY_BOUND, run
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    audit = con.execute("SELECT status, error FROM audit.load_log WHERE load_id = ?", [load_id]).fetchall()
    con.close()
    assert audit == [("rejected", error)] and before
    rows = rh.audit_rows(data_dir, load_id)
    delta = [a - b for a, b in zip(rh.row_counts(data_dir), counts, strict=True)]
    assert delta == [0, 0, 1], delta  # one audit row, the refusal
    rh.record(
        "hostile",
        "3-oversized",
        f"a {size / (1 << 30):g} GiB file where a small one is expected",
        "rejected unread (rule file_too_large, limit GRASSROOTS_MAX_FILE_BYTES) and audited; measured "
        f"in the load's own process: the file opened {run.opened} times, under {READ_BOUND // rh.MIB} "
        f"MiB read in all (of {size // rh.MIB:,} MiB), peak memory grew under {MEMORY_BOUND // rh.MIB} MiB",
        rows=rows,
    )


def test_zip_bomb_workbook_is_refused_unpacked(data_dir: Path) -> None:
    before = _first_load(data_dir, "staff_roster")
    counts = rh.row_counts(data_dir)
    bomb = data_dir / "landing" / "staff_roster" / FEB / "某县社区工作者名册202402.xlsx"
    bomb.parent.mkdir()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as part:
            chunk = b"<row><c><v>0</v></c></row>" * 40_000
            for _ in range(700):  # ~750 MB of XML, under 2 MB packed
                part.write(chunk)
    packed = bomb.stat().st_size
    with zipfile.ZipFile(bomb) as zf:
        unpacks_to = sum(i.file_size for i in zf.infolist())
    assert packed < 2_000_000 and unpacks_to > 700_000_000
    run = rh.measured_ingest(data_dir, "staff_roster", bomb)
    [(status, load_id, error)] = [r for r in run.results if r[0] != "already_loaded"]
    assert status == "rejected" and "rule 'zip_bomb'" in error, error
    assert bomb.name in error and "sheet1.xml" in error
    # Refused from the archive's directory: not one byte decompressed, memory far below the XML.
    assert run.unpacked == 0, f"{run.unpacked:,} bytes were unpacked before the refusal"
    assert run.peak_growth < MEMORY_BOUND < unpacks_to, run
    after = rh.warehouse_state(data_dir)
    rows = rh.audit_rows(data_dir, load_id)
    delta = [a - b for a, b in zip(rh.row_counts(data_dir), counts, strict=True)]
    assert delta == [0, 0, 1] and after != before, delta  # only the audit row of the refusal is new
    rh.record(
        "hostile",
        "4-zip-bomb",
        f"zip bomb: a workbook of {packed / 1e6:.1f} MB unpacking to {unpacks_to / 1e6:,.0f} MB",
        f"rejected from the archive's directory (rule zip_bomb, names the part) and audited; measured in "
        f"the load's own process: {run.unpacked:,} bytes decompressed, peak memory grew under "
        f"{MEMORY_BOUND // rh.MIB} MiB; no row loaded",
        rows=rows,
    )


def test_mapping_with_unknown_keys_stops_the_run(data_dir: Path) -> None:
    before = _first_load(data_dir, "household_registration")
    counts = rh.row_counts(data_dir)
    mappings = data_dir / "mappings"
    shutil.copytree(settings().mappings_dir, mappings)
    (mappings / "new_supplier.yml").write_text(
        "name: new_supplier\nfeed: household_registration\nfile_pattern: 'hr_*.csv'\n"
        "colums:\n  户籍人口: registered_population\n",
        encoding="utf-8",
    )
    day = data_dir / "landing" / "household_registration" / FEB
    day.mkdir()
    (day / "household_registration_202402.csv").write_bytes(text(HR, *hr_rows(FEB)))
    with pytest.raises(MappingError) as err:
        ingest_pending(
            "household_registration", validate=False, cfg=replace(settings(), mappings_dir=mappings)
        )
    assert "new_supplier.yml" in str(err.value) and "unknown key(s) ['colums']" in str(err.value)
    assert rh.warehouse_state(data_dir) == before
    raw, q, log_rows = (a - b for a, b in zip(rh.row_counts(data_dir), counts, strict=True))
    assert (raw, q, log_rows) == (0, 0, 0)
    rh.record(
        "hostile",
        "5-mapping-unknown-key",
        "a supplier mapping with an unknown key (colums: instead of columns:)",
        "the run stops with an error naming the mapping file and the key; new rows in raw, "
        f"quarantine, load log: {raw}, {q}, {log_rows}",
        rows=(None, raw, q),
    )


SQLISH = "x'); DROP TABLE raw.case_log; --"


def test_sql_looking_text_in_every_field_and_file_name(data_dir: Path, tmp_path: Path) -> None:
    _first_load(data_dir, "case_log")
    counts = rh.row_counts(data_dir)
    fields = CASES.split(",")
    hostile_row = ",".join(f'"{SQLISH}"' for _ in fields)
    # one row of SQL in every field, one good row with SQL in its free text, in a file whose name
    # holds a quote and SQL too
    good = case_rows(FEB)[0].split(",")
    good[fields.index("description")] = f'"{SQLISH}"'
    # a name that closes a quoted path and the call around it, if it were pasted into SQL unquoted
    name = "case_log_20240229_x'); DROP TABLE audit.load_log; --.csv"
    path = data_dir / "landing" / "case_log" / FEB / name
    path.parent.mkdir()
    path.write_bytes(text(CASES, ",".join(good), hostile_row))
    # Every statement DuckDB executes during the load is logged (DuckDB's QueryLog) and parsed.
    with rh.duckdb_statement_log(tmp_path / "statements") as log:
        [res] = [r for r in ingest_pending("case_log", validate=False) if r.status != "already_loaded"]
    statements = log.statements()
    assert log.opened >= 2 and len(statements) > 10, (log.opened, len(statements))
    dropped = [q for kind, q in statements if kind == "DROP" and re.search(r"case_log|load_log", q)]
    assert not dropped, dropped
    # Positive control: the log does see the hostile text, inside the statements that carry it as data.
    assert any("x'')" in q for _, q in statements), "the file name should appear as a quoted literal"
    assert res.status == "loaded", res.error
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            ).fetchall()
        }
        assert {"raw.case_log", "audit.load_log", "audit.quarantine"} <= tables
        [(source_file, rule, sample)] = con.execute(
            "SELECT source_file, rule, sample FROM audit.quarantine WHERE load_id = ?", [res.load_id]
        ).fetchall()
        desc_length = con.execute(
            "SELECT description_length FROM raw.case_log WHERE load_id = ?", [res.load_id]
        ).fetchall()
    finally:
        con.close()
    assert source_file.endswith(name) and rule
    assert SQLISH in sample  # kept as data (the case id is not personal)
    assert desc_length == [(len(SQLISH),)]
    rows = rh.audit_rows(data_dir, res.load_id)
    delta = [a - b for a, b in zip(rh.row_counts(data_dir), counts, strict=True)]
    assert delta == [rows[1], rows[2], 1], delta  # the earlier rows all still there, one more file
    kinds = sorted({k for k, _ in statements})
    rh.record(
        "hostile",
        "6-sql-text",
        "SQL-looking text in every field and in the file name",
        f"stored as data (quarantine rule {rule.split(':')[0]} for the all-SQL row, free text kept as "
        f"its length); DuckDB's statement log of the load ({len(statements)} statements, of kinds "
        f"{', '.join(kinds)}) holds no DROP of raw.case_log or audit.load_log; the earlier rows all "
        "still there; file name with a quote loaded",
        rows=rows,
    )


FORMULA = "=cmd|' /C calc'!A0"


@pytest.mark.slow
def test_formula_injection_never_reaches_a_spreadsheet(reference, tmp_path: Path) -> None:
    """Formula-looking text from a supplier shows up in the report's exports only as text."""
    data = tmp_path / "data"
    shutil.copytree(reference.data, data)
    day = data / "landing" / "household_registration" / "2024-03-15"
    day.mkdir()
    # headers a supplier chose: refused (required columns missing); the error lists them
    (day / "household_registration_202403_formula.csv").write_bytes(
        text(f"unit_code,{FORMULA},+SUM(1;2),@evil", "350206001001,1,2,3")
    )
    [res] = [r for r in rh.ingest_all(data, ["household_registration"]) if r.status != "already_loaded"]
    assert res.status == "rejected" and FORMULA in res.error
    with rh.use_data_dir(data, tmp_path / "reports"):
        from grassroots.report import build_report

        index = build_report("2024-03")
    exports = index.parent / "exports"
    seen_formula = 0
    dangerous = ("=", "+", "-", "@", "\t", "\r")
    for path in sorted(exports.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    seen_formula += FORMULA in cell
                    if cell.startswith(dangerous):
                        float(cell)  # only numbers may start so (a negative delta)
    from openpyxl import load_workbook

    for path in sorted(exports.glob("*.xlsx")):
        for ws in load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{path.name}!{cell.coordinate} is a formula"
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(dangerous), f"{path.name}!{cell.coordinate}"
    assert seen_formula, "the hostile text should appear in the exports (as plain text)"
    rows = rh.audit_rows(data, res.load_id)
    rh.record(
        "hostile",
        "7-formula-injection",
        f"CSV injection: headers {FORMULA!r}, '+SUM(1;2)', '@evil' in a delivery",
        f"file rejected; the report's exports show the text {seen_formula}x inside cells, never at a "
        "cell start; no Excel formula cell in any export",
        rows=rows,
    )
