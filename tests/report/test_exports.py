"""CSV and Excel exports: formula injection is neutralised, numbers stay numbers."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from openpyxl import load_workbook

from grassroots.report.exports import safe_text, write_csv, write_xlsx

DANGEROUS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "=1"]
COLUMNS = ["name", "delta", "count", "date", "flag", "=evil header"]


def _rows():
    rows = [[s, -1.5, 3, dt.date(2024, 2, 1), True, "ok"] for s in DANGEROUS]
    rows.append(["湖里街道", None, 0, None, False, "safe - text"])
    return rows


@pytest.mark.parametrize("text", DANGEROUS)
def test_safe_text_prefixes_formula_starts(text):
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize("text", ["湖里街道", "350206000000", "a=b", " =x", "", "1-2"])
def test_safe_text_leaves_plain_text(text):
    assert safe_text(text) == text


def test_csv_is_injection_safe(tmp_path):
    path = write_csv(tmp_path / "t.csv", COLUMNS, _rows())
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so Excel reads Chinese"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-1] == "'=evil header"
    for text, row in zip(DANGEROUS, rows[1:], strict=False):
        assert row[0] == "'" + text
        assert row[1] == "-1.5", "a numeric value is written as a number, not as text"
        assert row[3] == "2024-02-01" and row[4] == "true"
    for row in rows[1:]:
        for cell in row:
            if cell.startswith(("=", "+", "@", "\t", "\r")):
                pytest.fail(f"dangerous cell {cell!r}")
            if cell.startswith("-"):
                float(cell)  # only genuine numbers may start with '-'
    assert rows[-1][:3] == ["湖里街道", "", "0"]


def test_xlsx_is_injection_safe(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", "plan: [x]?", COLUMNS, _rows())
    wb = load_workbook(path)
    ws = wb.active
    assert ws.title == "plan x"
    assert ws.cell(1, 6).value == "'=evil header"
    for i, text in enumerate(DANGEROUS, start=2):
        c = ws.cell(i, 1)
        # XML (and so .xlsx) normalises a carriage return to a line feed; the quote is what matters
        assert c.value == "'" + text.replace("\r", "\n") and c.data_type == "s"
        assert ws.cell(i, 2).value == -1.5 and ws.cell(i, 2).data_type == "n"
        assert ws.cell(i, 3).value == 3
    for row in ws.iter_rows():
        for c in row:
            assert c.data_type != "f", f"formula cell {c.coordinate}: {c.value!r}"
    assert ws.cell(len(DANGEROUS) + 2, 1).value == "湖里街道"


def test_xlsx_holds_the_csv_rows_with_widths_and_formats(tmp_path):
    keys = ["unit_name", "staff_share", "rows_loaded", "delivery_date", "reallocation_delta"]
    header = ["单位 Unit", "人员占比 Staff share", "入库行数 Rows loaded", "交付日期", "应增减(FTE)"]
    rows = [
        ["湖里街道禾山社区居民委员会", 0.125, 1234, dt.date(2024, 2, 1), -0.5],
        ["=cmd|' /C calc'!A0", 0.5, 7, None, 1.25],
        ["短", None, 0, dt.date(2024, 2, 3), None],
    ]
    csv_path = write_csv(tmp_path / "t.csv", header, rows)
    xlsx_path = write_xlsx(tmp_path / "t.xlsx", "t", header, rows, keys)
    assert xlsx_path.read_bytes()[:2] == b"PK"
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        csv_rows = list(csv.reader(fh))
    ws = load_workbook(xlsx_path).active
    xlsx_rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert len(xlsx_rows) == len(csv_rows) == len(rows) + 1
    for c_row, x_row in zip(csv_rows, xlsx_rows, strict=True):
        as_text = [
            ""
            if v is None
            else v.date().isoformat()
            if isinstance(v, dt.datetime)
            else repr(v)
            if isinstance(v, float)
            else str(v)
            for v in x_row
        ]
        assert as_text == c_row
    assert ws.cell(2, 2).number_format == "0.0%", "shares as percent"
    assert ws.cell(2, 3).number_format == "#,##0", "counts as integers"
    assert ws.cell(2, 4).is_date
    assert ws.cell(3, 1).value.startswith("'=") and ws.cell(3, 1).data_type == "s"
    widths = {k: ws.column_dimensions[k].width for k in "ABCDE"}
    assert widths["A"] > widths["E"], f"the long Chinese names get a wider column: {widths}"
    assert all(w >= 8 for w in widths.values())
    assert ws.freeze_panes == "A2"
