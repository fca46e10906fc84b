"""Strict parsing (issue #18, items 5, 6 and 8): one grammar per column type, no reinterpretation.

Unit level: the typing SQL of `row_rules` on a real in-memory DuckDB, the value shapes, the plausible
date window read from the dbt seed, the landing folder names and the workbook sheet states. The
end-to-end scenarios (real ingest, audit tables) are in tests/reliability/test_messy_values.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import duckdb
import openpyxl
import pytest

from grassroots.feeds import get_feed
from grassroots.landing import folder_day, scan_landing
from grassroots.mappings import Mapping, MappingError, load_mapping
from grassroots.read_delivery import FileRejected, _choose_sheet, workbook_sheets
from grassroots.row_rules import date_window, shape_sql, typed_sql

ROOT = Path(__file__).resolve().parents[2]
HR = get_feed("household_registration")
CSV = Mapping(name="t", feed="household_registration", file_pattern="*.csv")
XLSX = replace(CSV, format="xlsx", file_pattern="*.xlsx")


def _col(feed: str, name: str):
    return next(c for c in get_feed(feed).columns if c.name == name)


def typed(value: str | None, feed: str, column: str, mapping: Mapping = CSV):
    con = duckdb.connect()
    con.execute(f'CREATE TABLE t ("{column}" VARCHAR)')
    con.execute("INSERT INTO t VALUES (?)", [value])
    return con.execute(f"SELECT {typed_sql(_col(feed, column), mapping)} FROM t").fetchone()[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234", 1234),
        ("+12", 12),
        ("-3", -3),  # parses; the negative_count rule quarantines it
        (" 42 ", 42),  # cells are trimmed first
        ("12,34", None),  # no separator unless the mapping declares one
        ("1,234", None),
        ("12.7", None),  # never rounded to 13
        ("12.0", None),
        ("0x10", None),  # never read as hex 16
        ("1e3", None),
        ("١٢", None),  # digits of another script
        ("99999999999999999999999", None),  # overflow is a parse failure, not a wrap
    ],
)
def test_counts_parse_by_the_integer_grammar_only(raw: str, expected: int | None) -> None:
    assert typed(raw, "household_registration", "registered_population") == expected


def test_a_declared_thousands_separator_is_accepted_between_groups_of_three_only() -> None:
    grouped = replace(CSV, thousands_separator=",")
    assert typed("1,234,567", "household_registration", "registered_population", grouped) == 1234567
    assert typed("1234", "household_registration", "registered_population", grouped) == 1234
    assert typed("12,34", "household_registration", "registered_population", grouped) is None
    assert typed("1,2345", "household_registration", "registered_population", grouped) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1.0), ("0.5", 0.5), ("+0.25", 0.25), ("0,5", None), (".5", None), ("0x1", None), ("1e0", None)],
)
def test_decimals_parse_by_the_decimal_grammar_only(raw: str, expected: float | None) -> None:
    assert typed(raw, "staff_roster", "fte") == expected


def test_a_five_digit_number_is_a_date_in_a_workbook_only() -> None:
    assert typed("45322", "household_registration", "as_of_date", XLSX) == dt.date(2024, 1, 31)
    assert typed("45322", "household_registration", "as_of_date", CSV) is None
    assert typed("45322.5", "case_log", "reported_at", replace(XLSX, feed="case_log")) == dt.datetime(
        2024, 1, 31, 12
    )
    assert typed("45322", "case_log", "reported_at", replace(CSV, feed="case_log")) is None
    # The mapping's formats still apply in a CSV.
    assert typed("2024/01/31", "household_registration", "as_of_date") == dt.date(2024, 1, 31)


@pytest.mark.parametrize(
    ("raw", "shape"),
    [("12,34", "99,99"), ("12.7", "99.9"), ("0x10", "9a99"), ("2024-02-30", "9999-99-99"), ("Ab9", "Aa9")],
)
def test_shapes_mask_every_digit_and_letter(raw: str, shape: str) -> None:
    assert duckdb.sql(f"SELECT {shape_sql('?')}".replace("?", f"'{raw}'")).fetchone()[0] == shape


def test_the_plausible_window_comes_from_the_dbt_seed(tmp_path: Path) -> None:
    project = ROOT / "dbt_project"
    assert date_window(project, "as_of_date", dt.date(2024, 1, 31)) == (
        dt.date(2000, 1, 1),
        dt.date(2025, 1, 31),
    )
    assert date_window(project, "hire_date", dt.date(2024, 2, 29)) == (
        dt.date(1950, 1, 1),
        dt.date(2025, 2, 28),
    )
    # One source: editing the seed moves the window.
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "date_plausibility.csv").write_text(
        "column_name,earliest_date,latest_years_after_delivery\n*,2010-01-01,2\n", encoding="utf-8"
    )
    assert date_window(tmp_path, "as_of_date", dt.date(2024, 1, 31)) == (
        dt.date(2010, 1, 1),
        dt.date(2026, 1, 31),
    )


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("2024-03-31", dt.date(2024, 3, 31)),
        ("20240331", None),  # fromisoformat alone would take it
        ("2024-3-31", None),
        ("2024-02-30", None),
        ("2024-13-01", None),
        ("2024-W13-1", None),
        ("2024-03-31 ", None),
        ("2024-03-31_v2", None),
    ],
)
def test_landing_folders_are_exact_iso_dates(name: str, day: dt.date | None) -> None:
    assert folder_day(name) == day


def test_scan_sorts_folders_into_due_refused_and_waiting(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    for folder in ("2024-01-31", "20240229", "2024-02-30", "2024-06-30"):
        (landing / "case_log" / folder).mkdir(parents=True)
        (landing / "case_log" / folder / "case_log_x.csv").write_text("x\n", encoding="utf-8")
    scan = scan_landing(landing, "case_log", today=dt.date(2024, 3, 1))
    assert [d.source_file for d in scan.deliveries] == ["case_log/2024-01-31/case_log_x.csv"]
    assert sorted(r.source_file for r in scan.refused) == [
        "case_log/2024-02-30/case_log_x.csv",
        "case_log/20240229/case_log_x.csv",
    ]
    assert all("YYYY-MM-DD" in r.reason for r in scan.refused)
    assert [d.source_file for d in scan.waiting] == ["case_log/2024-06-30/case_log_x.csv"]
    # On its day the waiting folder is due.
    later = scan_landing(landing, "case_log", today=dt.date(2024, 6, 30))
    assert len(later.deliveries) == 2 and later.waiting == []


def _workbook(path: Path, sheets: list[tuple[str, str, list[list]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, state, rows in sheets:
        ws = wb.create_sheet(title)
        ws.sheet_state = state
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


HEAD = ["unit_code", "as_of_date", "registered_population", "registered_households"]


def test_hidden_sheets_are_never_chosen(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "hr.xlsx",
        [("stale", "hidden", [HEAD]), ("roster", "visible", [HEAD]), ("old", "veryHidden", [HEAD])],
    )
    import zipfile

    with zipfile.ZipFile(path) as zf:
        assert [(n, v) for n, v, _ in workbook_sheets(zf)] == [
            ("stale", False),
            ("roster", True),
            ("old", False),
        ]
    con = duckdb.connect()
    assert _choose_sheet(con, path, XLSX, "f.xlsx") == "roster"
    with pytest.raises(FileRejected) as exc:
        _choose_sheet(con, path, replace(XLSX, sheet="stale"), "f.xlsx")
    assert exc.value.rule == "hidden_sheet"


def test_several_visible_candidate_sheets_are_refused_unless_the_mapping_names_one(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "hr.xlsx",
        [("2024-01", "visible", [HEAD]), ("2024-02", "visible", [HEAD]), ("说明", "visible", [["填表说明"]])],
    )
    con = duckdb.connect()
    with pytest.raises(FileRejected) as exc:
        _choose_sheet(con, path, XLSX, "f.xlsx")
    assert exc.value.rule == "several_visible_sheets"
    assert "'2024-01', '2024-02'" in exc.value.detail and "sheet:" in exc.value.detail
    assert _choose_sheet(con, path, replace(XLSX, sheet="2024-02"), "f.xlsx") == "2024-02"
    # A visible notes sheet beside one data sheet is no candidate.
    one = _workbook(tmp_path / "one.xlsx", [("说明", "visible", [["填表说明"]]), ("data", "visible", [HEAD])])
    assert _choose_sheet(con, one, XLSX, "f.xlsx") == "data"


def test_a_mapping_may_declare_only_a_known_thousands_separator(tmp_path: Path) -> None:
    body = "name: m\nfeed: household_registration\nfile_pattern: '*.csv'\n"
    (tmp_path / "ok.yml").write_text(body + "thousands_separator: ','\n", encoding="utf-8")
    assert load_mapping(tmp_path / "ok.yml").thousands_separator == ","
    (tmp_path / "bad.yml").write_text(body + "thousands_separator: '.'\n", encoding="utf-8")
    with pytest.raises(MappingError):
        load_mapping(tmp_path / "bad.yml")
