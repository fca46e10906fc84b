"""The report's fast paths format exactly as the reference functions (`labels.fmt`, `_csv_text`, `_cell`)."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import math

import pytest
from openpyxl import load_workbook

from grassroots.report import labels
from grassroots.report.exports import _csv_text, write_csv, write_xlsx

VALUES = [
    None,
    0,
    1,
    -1,
    12345,
    -1234567,
    0.0,
    -0.0,
    0.5,
    -0.5,
    0.12345,
    999.994,
    999.996,
    1000.0,
    -1000.0,
    -999.5,
    123456.789,
    1e-9,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    decimal.Decimal("1.25"),
    dt.date(2024, 2, 1),
    dt.datetime(2024, 2, 1, 13, 5, 7),
    "湖里街道",
    "complete",
    "loaded_with_findings",
    "<b>&'\"",
    "=1+1",
]
COLUMNS = [
    "unit_name",
    "status",
    "scoring_status",
    "response_rate",  # PCT
    "cases_received",  # INT
    "d_resident",  # DIGITS3
    "d_gap",  # DIGITS3 and SIGNED
    "reallocation_delta",  # SIGNED
    "staff_fte",  # plain
    "unknown_column",
]


@pytest.mark.parametrize("column", COLUMNS)
def test_formatter_equals_fmt(column):
    f = labels.formatter(column)
    for v in VALUES:
        assert f(v) == labels.fmt(column, v), (column, v)


@pytest.mark.parametrize("column", COLUMNS)
def test_format_column_equals_fmt(column):
    # whole columns of one type (the fast paths) and of mixed types (the fallback)
    groups = [
        [v for v in VALUES if type(v) is float or v is None],
        [v for v in VALUES if type(v) is int or v is None],
        [v for v in VALUES if type(v) in (int, float) or v is None],
        [v for v in VALUES if type(v) is str or v is None],
        VALUES,
    ]
    for values in groups:
        assert labels.format_column(column, values) == [labels.fmt(column, v) for v in values]


def test_exports_of_typed_columns(tmp_path):
    """Columns of one type take the exports' fast paths: same CSV text and Excel values as per cell."""
    floats = [0.5, None, math.nan, -1.25, 1e-9, math.inf]
    ints = [1, None, -3, 0, 10**12, 7]
    texts = ["a", None, "=x", "-1", "<&>", "湖里"]
    mixed = [True, dt.date(2024, 2, 1), decimal.Decimal("2.5"), None, "t", 3]
    rows = list(zip(floats, ints, texts, mixed, strict=True))
    path = write_csv(tmp_path / "t.csv", ["f", "i", "s", "m"], rows)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        got = list(csv.reader(fh))[1:]
    assert got == [[_csv_text(v) for v in row] for row in rows]
    ws = load_workbook(write_xlsx(tmp_path / "t.xlsx", "t", ["f", "i", "s", "m"], rows)).active
    cells = [[c.value for c in r] for r in ws.iter_rows(min_row=2, max_col=4)]
    assert [r[0] for r in cells] == [0.5, None, None, -1.25, 1e-9, None]  # NaN and inf: empty
    assert [r[1] for r in cells] == ints
    assert [r[2] for r in cells] == ["a", None, "'=x", "'-1", "<&>", "湖里"]
    assert [r[3] for r in cells] == [True, dt.datetime(2024, 2, 1), 2.5, None, "t", 3]
