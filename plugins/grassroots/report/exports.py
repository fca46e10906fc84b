"""CSV and Excel exports of the report's tables, safe against formula injection.

A spreadsheet treats a cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (OWASP "CSV injection"). Unit names, file names and error messages come from
suppliers, so every text cell that starts with one of those characters is written with a leading
single quote (``'=1+1``), in CSV and in Excel. Numbers stay numbers: a numeric column's value
(``-1.5``) is written as a number, which no spreadsheet evaluates, so negative deltas and score
changes remain usable. In CSV a text cell that merely *looks* numeric is still quoted (only values
the mart typed as numbers are exempt).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import math
from collections.abc import Sequence
from pathlib import Path

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """The text with a leading ``'`` if a spreadsheet could read it as a formula."""
    return "'" + value if value.startswith(DANGEROUS_PREFIXES) else value


def _cell(value):
    """A value for a spreadsheet: numbers, dates and booleans as such, everything else safe text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | decimal.Decimal):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dt.datetime | dt.date):
        return value
    return safe_text(str(value))


def _csv_text(value) -> str:
    v = _cell(value)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return str(v)


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """UTF-8 with a byte-order mark (so Excel reads the Chinese labels), one header row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([safe_text(str(c)) for c in columns])
        for row in rows:
            w.writerow([_csv_text(v) for v in row])
    return path


def write_xlsx(path: Path, sheet: str, columns: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """One worksheet; text cells are stored as strings (never formulas), numbers as numbers."""
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "".join(ch for ch in sheet if ch not in "[]:*?/\\")[:31] or "data"
    ws.append([safe_text(str(c)) for c in columns])
    for row in rows:
        cells = []
        for v in row:
            c = _cell(v)
            if isinstance(c, dt.datetime) and c.tzinfo is not None:
                c = c.replace(tzinfo=None)
            cells.append(c)
        ws.append(cells)
    for cell_row in ws.iter_rows(min_row=1):
        for cell in cell_row:
            if cell.data_type == "f":  # openpyxl turns any str starting with "=" into a formula
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    wb.save(path)
    return path
