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
import io
import math
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from grassroots.report import labels

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


def _csv_column(values: Sequence) -> Sequence:
    """``[_csv_text(v) for v in values]``, one comprehension for a column of one common type.

    (The csv module itself writes None as "" and an int as str(int).)"""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds <= {str}:
        return ["" if v is None else "'" + v if v.startswith(DANGEROUS_PREFIXES) else v for v in values]
    if kinds <= {float}:
        return ["" if v is None or v != v else repr(v) for v in values]
    if kinds <= {int}:
        return values
    return [_csv_text(v) for v in values]


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """UTF-8 with a byte-order mark (so Excel reads the Chinese labels), one header row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([safe_text(str(c)) for c in columns])
        # column by column (a report writes millions of cells), then back to rows
        w.writerows(zip(*(_csv_column(col) for col in zip(*rows, strict=True)), strict=True))
    return path


def _number_format(key: str | None, values: Sequence) -> str | None:
    """Excel number format of a column: percent for shares, integers for counts, dates as dates."""
    if key in labels.PCT:
        return "0.0%"
    if key in labels.INT:
        return "#,##0"
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {dt.datetime}:
        return "yyyy-mm-dd hh:mm:ss"
    if kinds and kinds <= {dt.date}:
        return "yyyy-mm-dd"
    if kinds and kinds <= {float, decimal.Decimal}:
        return "#,##0.00"
    return None


def _width(header: str, values: Sequence) -> float:
    """A column width (in characters) that fits the header and the longest of the first 200 values;
    CJK characters count twice (they are about twice as wide)."""

    def chars(v) -> int:
        t = str(v) if v is not None else ""
        return len(t) + sum(1 for ch in t if ord(ch) > 0x2E7F)

    longest = max([chars(header)] + [min(chars(v), 60) for v in values[:200]])
    return float(min(max(longest + 2, 8), 62))


def _xlsx_value(v):
    """A value openpyxl stores as such: text made safe and stripped of what XML cannot hold."""
    v = _cell(v)
    if isinstance(v, str):
        return _ILLEGAL_XML.sub("", v)
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, float) and v in _INFINITIES:
        return None
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)  # Excel has no time zones
    return v


def write_xlsx(
    path: Path,
    sheet: str,
    columns: Sequence[str],
    rows: Sequence[Sequence],
    keys: Sequence[str] | None = None,
) -> Path:
    """One worksheet written by openpyxl in write-only mode (streamed, constant memory).

    ``columns`` are the header texts, ``keys`` the mart column names behind them (for the number
    formats: percent for shares, thousands-separated integers for counts). Text cells are stored as
    strings with `safe_text` applied, so no cell is ever a formula; numbers stay numbers; each column
    is as wide as its header and values; the header row is frozen.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    title = "".join(ch for ch in sheet if ch not in "[]:*?/\\")[:31] or "data"
    keys = list(keys) if keys is not None else [None] * len(columns)
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    formats = [_number_format(k, col) for k, col in zip(keys, cols, strict=True)]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    for i, (head, col) in enumerate(zip(columns, cols, strict=True), start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width(head, col)
    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=_ILLEGAL_XML.sub("", safe_text(str(c))))
        cell.font = _BOLD
        header.append(cell)
    ws.append(header)
    styled = [i for i, f in enumerate(formats) if f]
    for r in rows:
        values = [_xlsx_value(v) for v in r]
        for i in styled:
            if values[i] is not None:
                cell = WriteOnlyCell(ws, value=values[i])
                cell.number_format = formats[i]
                values[i] = cell
        ws.append(values)
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_fixed_zip_times(buf.getvalue()))
    return path


def _fixed_zip_times(data: bytes) -> bytes:
    """The workbook with every zip entry dated 1980-01-01, so the same table gives the same bytes
    (openpyxl dates entries with the time of writing; a report rendered in parts is compared)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" when saving
                body = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


_INFINITIES = (math.inf, -math.inf)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FIXED_TIME = dt.datetime(2000, 1, 1)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
_ILLEGAL_XML = re.compile(r"[\000-\010\013\014\016-\037]")  # what openpyxl refuses
_BOLD = Font(bold=True)
