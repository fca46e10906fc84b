"""Messy values and folders, as real suppliers send them (issue #18, items 5, 6 and 8).

One scenario per defect: a workbook whose first sheet is a hidden stale copy, two visible data sheets,
a year typed 2204, each malformed number or date kind, landing folders that are not exact ISO dates
(a compact date, an impossible date), a folder dated in the future, and a formula cell saved without
its value. Each runs the real ingest on a fresh data directory and reads the outcome from the audit
tables (audit.load_log, audit.quarantine) and the raw table, never from the ingest's return value
alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import duckdb
import openpyxl
import pytest
import reliability_helpers as rh

from grassroots.audit_checks import audit_inconsistencies
from grassroots.audit_summary import audit_summary
from grassroots.config import settings
from grassroots.ingest import ingest_pending
from grassroots.ingest_report import format_ingest_summary

U1, U2, TOWN = "110101001001", "110101001002", "110101001000"
HR = "unit_code,as_of_date,registered_population,registered_households,registered_age_65_plus"
HEAD = HR.split(",")
FEED = "household_registration"
DAY = "2024-01-31"
HR_XLSX_MAPPING = (
    "name: hr_xlsx\nfeed: household_registration\nfile_pattern: 'hr_*.xlsx'\nformat: xlsx\npriority: 5\n"
)


def rows(day: str = DAY, town: str | None = None) -> list[str]:
    return [
        f"{U1},{day},3200,1100,400",
        f"{U2},{day},2100,800,300",
        town or f"{TOWN},{day},900,300,100",
    ]


def deliver_csv(
    data_dir: Path, folder: str, lines: list[str], name: str = "household_registration_x.csv"
) -> Path:
    path = data_dir / "landing" / FEED / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HR, *lines]) + "\n", encoding="utf-8")
    return path


def deliver_xlsx(
    data_dir: Path, sheets: list[tuple[str, str, list[list]]], name: str = "hr_202401.xlsx"
) -> Path:
    path = data_dir / "landing" / FEED / DAY / name
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, state, body in sheets:
        ws = wb.create_sheet(title)
        ws.sheet_state = state
        ws.append(HEAD)
        for r in body:
            ws.append(r)
    wb.save(path)
    return path


def xlsx_ingest(data_dir: Path) -> list:
    mappings = data_dir / "mappings"
    mappings.mkdir(exist_ok=True)
    (mappings / "hr_xlsx.yml").write_text(HR_XLSX_MAPPING, encoding="utf-8")
    return ingest_pending(FEED, validate=False, cfg=replace(settings(), mappings_dir=mappings))


def audit(data_dir: Path, source_file: str) -> tuple[list[tuple], list[tuple]]:
    """(load_log rows: status, rows_in, rows_loaded, rows_quarantined, error;
    quarantine rows: source_row, rule, detail, sample) of one delivery file."""
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        log = con.execute(
            "SELECT status, rows_in, rows_loaded, rows_quarantined, error FROM audit.load_log "
            "WHERE source_file = ? ORDER BY finished_at",
            [source_file],
        ).fetchall()
        quarantine = con.execute(
            "SELECT source_row, rule, detail, sample FROM audit.quarantine WHERE source_file = ? ORDER BY 1",
            [source_file],
        ).fetchall()
        return log, quarantine
    finally:
        con.close()


def raw_values(data_dir: Path, column: str) -> list:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return [r[0] for r in con.execute(f"SELECT {column} FROM raw.{FEED} ORDER BY unit_code").fetchall()]
    finally:
        con.close()


def rel(path: Path, data_dir: Path) -> str:
    return path.relative_to(data_dir / "landing").as_posix()


# --- workbooks ----------------------------------------------------------------------------------


def test_hidden_stale_first_sheet_is_not_read(data_dir: Path) -> None:
    """Defect 5: the first sheet is a hidden stale copy; the visible roster is the one loaded."""
    stale = [[U1, DAY, 1111, 1, 1], [U2, DAY, 2222, 2, 2]]
    good = [[U1, DAY, 3200, 1100, 400], [U2, DAY, 2100, 800, 300], [TOWN, DAY, 900, 300, 100]]
    path = deliver_xlsx(data_dir, [("旧表", "hidden", stale), ("户籍人口", "visible", good)])
    [res] = xlsx_ingest(data_dir)
    log, quarantine = audit(data_dir, rel(path, data_dir))
    assert [r[:4] for r in log] == [("loaded", 3, 3, 0)], log
    assert quarantine == []
    assert raw_values(data_dir, "registered_population") == [900, 3200, 2100]
    rh.record(
        "hostile",
        "8-hidden-sheet",
        "workbook whose first sheet is a hidden stale copy (household_registration)",
        "only the visible sheet read: its 3 rows loaded, none of the hidden sheet's",
        rows=log[0][1:4],
    )


def test_two_visible_data_sheets_are_refused(data_dir: Path) -> None:
    """Which of two visible data sheets is meant would be a guess: refused, naming both sheets."""
    body = [[U1, DAY, 3200, 1100, 400]]
    path = deliver_xlsx(data_dir, [("一月", "visible", body), ("二月", "visible", body)])
    [res] = xlsx_ingest(data_dir)
    log, quarantine = audit(data_dir, rel(path, data_dir))
    assert [r[:4] for r in log] == [("rejected", 0, 0, 0)]
    assert "rule 'several_visible_sheets'" in log[0][4] and "'一月', '二月'" in log[0][4]
    assert "sheet:" in log[0][4] and res.source_file in log[0][4]
    assert quarantine == [] and raw_values(data_dir, "unit_code") == []
    rh.record(
        "hostile",
        "8-two-visible-sheets",
        "workbook with two visible data sheets and no `sheet:` in the mapping",
        "file rejected, rule several_visible_sheets, error names both sheets and the mapping key",
        rows=log[0][1:4],
    )


def test_formula_without_stored_value_is_named(data_dir: Path) -> None:
    """A workbook saved uncalculated: the cell holds a formula and no value, which is not 'missing'."""
    good = [[U1, DAY, 3200, 1100, 400], [U2, DAY, 2100, "=C3/3", 300], [TOWN, DAY, 900, 300, 100]]
    path = deliver_xlsx(data_dir, [("户籍人口", "visible", good)])
    xlsx_ingest(data_dir)
    log, quarantine = audit(data_dir, rel(path, data_dir))
    assert [r[:4] for r in log] == [("loaded", 3, 2, 1)]
    [(row, rule, detail, _)] = quarantine
    assert (row, rule) == (3, "formula_without_value:registered_households")
    assert "formula without a stored value" in detail and "missing_value" in detail
    rh.record(
        "hostile",
        "8-formula-without-value",
        "workbook cell holding a formula saved without its value",
        "row 3 quarantined under formula_without_value (not missing_value), the rest loaded",
        rows=log[0][1:4],
    )


# --- plausible time -----------------------------------------------------------------------------


def test_year_2204_is_quarantined_not_warned(data_dir: Path) -> None:
    """Defect 6: one mistyped year is a critical row rule: the row never reaches raw (nor a mart month)."""
    path = deliver_csv(data_dir, DAY, rows(town=f"{TOWN},2204-01-31,900,300,100"))
    ingest_pending(FEED, validate=True)
    log, quarantine = audit(data_dir, rel(path, data_dir))
    assert [r[:4] for r in log] == [("loaded", 3, 2, 1)]
    [(row, rule, detail, _)] = quarantine
    assert (row, rule) == (4, "implausible_date:as_of_date")
    assert "outside 2000-01-01..2025-01-31" in detail and "date_plausibility" in detail
    assert max(raw_values(data_dir, "as_of_date")) == dt.date(2024, 1, 31)
    rh.record(
        "hostile",
        "8-year-2204",
        "one as_of_date mistyped as year 2204",
        "row 4 quarantined under implausible_date (window from seed date_plausibility), the rest loaded",
        rows=log[0][1:4],
    )


# --- malformed values ---------------------------------------------------------------------------

MALFORMED = [
    # (id, bad row, rule, shape shown, value never shown)
    ("comma_in_count", f"{TOWN},{DAY},12,34,300,100", None, None, None),
    (
        "fraction_in_count",
        f"{TOWN},{DAY},12.7,300,100",
        "unparseable_bigint:registered_population",
        "99.9",
        "12.7",
    ),
    ("hex_count", f"{TOWN},{DAY},0x10,300,100", "unparseable_bigint:registered_population", "9a99", "0x10"),
    ("excel_serial_in_csv", f"{TOWN},45322,900,300,100", "unparseable_date:as_of_date", "99999", "45322"),
    (
        "thousands_separator",
        f'{TOWN},{DAY},"12,34",300,100',
        "unparseable_bigint:registered_population",
        "99,99",
        "12,34",
    ),
]


@pytest.mark.parametrize(("case", "bad", "rule", "shape", "value"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_value_is_quarantined_with_its_shape(
    data_dir: Path, case: str, bad: str, rule: str | None, shape: str | None, value: str | None
) -> None:
    """Defect 8: a value that does not parse exactly is quarantined, never rounded or reinterpreted;
    the audit shows its shape, never the value."""
    path = deliver_csv(data_dir, DAY, rows(town=bad))
    [res] = ingest_pending(FEED, validate=False)
    log, quarantine = audit(data_dir, rel(path, data_dir))
    if rule is None:
        # An unquoted `12,34` shifts every later field: the file has too many fields and is refused.
        assert [r[:4] for r in log] == [("rejected", 0, 0, 0)] and "rule 'malformed_csv'" in log[0][4]
        assert raw_values(data_dir, "registered_population") == []
        happened = "file rejected, rule malformed_csv (the comma adds a field); nothing loaded"
    else:
        assert [r[:4] for r in log] == [("loaded", 3, 2, 1)]
        [(row, got_rule, detail, sample)] = quarantine
        assert (row, got_rule) == (4, rule)
        assert f"value shaped {shape})" in detail
        assert value not in detail and value not in sample and value not in (res.error or "")
        # Nothing rounded or reinterpreted reached raw: only the two good rows.
        assert sorted(raw_values(data_dir, "registered_population")) == [2100, 3200]
        happened = f"row 4 quarantined under {rule}, detail shows the shape `{shape}`, never the value"
    rh.record(
        "hostile",
        f"8-malformed-{case}",
        f"malformed value: {case.replace('_', ' ')} (household_registration)",
        happened,
        rows=log[0][1:4],
    )


# --- landing folders ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "folder",
    ["20240131", "2024-1-31", "2024-02-30", "2024-01-31 copy"],
    ids=["compact", "unpadded", "impossible_date", "suffix"],
)
def test_file_in_a_folder_that_is_not_an_iso_date_is_refused_and_audited(data_dir: Path, folder: str) -> None:
    """Defect 8: a folder name that is not an exact, existing ISO date refuses its files, audited once."""
    good = deliver_csv(data_dir, DAY, rows(), name="household_registration_a.csv")
    bad = deliver_csv(data_dir, folder, rows(), name="household_registration_b.csv")
    results = ingest_pending(FEED, validate=False)
    log, quarantine = audit(data_dir, rel(bad, data_dir))
    assert [r[:4] for r in log] == [("rejected", 0, 0, 0)]
    assert "rule 'not_a_delivery_date'" in log[0][4] and repr(folder) in log[0][4]
    assert quarantine == []
    assert [r[:4] for r in audit(data_dir, rel(good, data_dir))[0]] == [("loaded", 3, 3, 0)]
    assert f"rejected {rel(bad, data_dir)}" in " ".join(format_ingest_summary(results).split())
    # The audit summary (cli audit, the report's overview) lists it; the audit stays consistent.
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        assert [f for f, _ in audit_summary(con).rejected] == [rel(bad, data_dir)]
        assert audit_inconsistencies(con) == []
    finally:
        con.close()
    # A rerun changes nothing: the refusal is not audited twice.
    again = ingest_pending(FEED, validate=False)
    assert {r.status for r in again} == {"already_loaded", "already_refused"}
    assert audit(data_dir, rel(bad, data_dir))[0] == log
    rh.record(
        "hostile",
        f"8-folder-{folder.replace(' ', '-')}",
        f"delivery in landing folder `{folder}` (not an exact ISO date)",
        "file rejected and audited, rule not_a_delivery_date; a rerun audits nothing new",
        rows=log[0][1:4],
    )


def test_folder_dated_in_the_future_waits_for_its_day(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 8: a folder dated 2099 is not loaded at once; it is reported waiting and loads on its day."""
    deliver_csv(data_dir, DAY, rows(), name="household_registration_a.csv")
    path = deliver_csv(data_dir, "2099-01-31", rows("2099-01-31"))
    [first, res] = ingest_pending(FEED, validate=False)
    assert first.status == "loaded" and first.delivery_date == DAY
    assert res.status == "waiting" and "waits for its day" in res.error
    assert "Waiting for their day" in format_ingest_summary([res])
    assert audit(data_dir, rel(path, data_dir)) == ([], [])  # nothing loaded, nothing to audit yet
    # On its day (Asia/Shanghai) the same folder is due and loads.
    import grassroots.landing

    monkeypatch.setattr(grassroots.landing, "landing_today", lambda: dt.date(2099, 1, 31))
    [_, later] = ingest_pending(FEED, validate=False)
    log, _ = audit(data_dir, rel(path, data_dir))
    assert later.status == "loaded" and [r[:4] for r in log] == [("loaded", 3, 3, 0)]
    rh.record(
        "hostile",
        "8-folder-future",
        "delivery in landing folder `2099-01-31` (after today, Asia/Shanghai)",
        "not loaded, reported as waiting, nothing audited; loads on its day",
        rows=log[0][1:4],
    )
