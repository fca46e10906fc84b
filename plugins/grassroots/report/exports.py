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


def write_xlsx(path: Path, sheet: str, columns: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """One worksheet; text cells are stored as strings (never formulas), numbers as numbers.

    Written directly as SpreadsheetML (a zip of a few small XML parts) rather than with openpyxl,
    which took ~17 ms per workbook (most of a report's time with one workbook per table): this takes
    well under a millisecond. Text goes in as inline strings, so no cell can be a formula; dates and
    times get a date format; the header row is frozen. openpyxl, Excel and LibreOffice read it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    title = "".join(ch for ch in sheet if ch not in "[]:*?/\\")[:31] or "data"
    header = "".join(_xlsx_cell(f"{_column_letter(i)}1", safe_text(str(c))) for i, c in enumerate(columns))
    # column by column (a report writes millions of cells), then back to rows
    cells = [_xlsx_column(_column_letter(i), col) for i, col in enumerate(zip(*rows, strict=True))]
    out = [_SHEET_HEAD, f'<row r="1">{header}</row>']
    out += [f'<row r="{n}">{"".join(row)}</row>' for n, row in enumerate(zip(*cells, strict=True), start=2)]
    out.append(_SHEET_TAIL)
    workbook = _WORKBOOK.replace("{title}", _xml_text(title).replace('"', "&quot;"))
    buf = io.BytesIO()  # in memory, then one write: zipfile's seeks on a file cost more than the rest
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _ROOT_RELS),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
        ):
            zf.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data)
        zf.writestr(
            zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=_ZIP_TIME),
            "".join(out),
            compress_type=zipfile.ZIP_DEFLATED,
            compresslevel=1,
        )
    path.write_bytes(buf.getvalue())
    return path


# --- SpreadsheetML ---------------------------------------------------------------------------------

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same table gives the same bytes
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_INFINITIES = (math.inf, -math.inf)
_ILLEGAL_XML = re.compile(r"[\000-\010\013\014\016-\037]")  # what openpyxl refuses too
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = (
    _DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _DECL + f'<Relationships xmlns="{_PKG_REL_NS}">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)
_WORKBOOK = (
    _DECL + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
    '<sheets><sheet name="{title}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    _DECL + f'<Relationships xmlns="{_PKG_REL_NS}">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="styles.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"/>'
    "</Relationships>"
)
# Cell styles: 0 general, 1 date, 2 date and time (the formats openpyxl gives dates and datetimes).
_STYLES = (
    _DECL + f'<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd h:mm:ss"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_HEAD = (
    _DECL + f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
    '<sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
    "</sheetView></sheetViews><sheetData>"
)
_SHEET_TAIL = "</sheetData></worksheet>"


def _column_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


_NEEDS_ESCAPE = re.compile(r"[&<>\000-\010\013\014\016-\037]")


def _xml_text(s: str) -> str:
    if not _NEEDS_ESCAPE.search(s):
        return s
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _ILLEGAL_XML.sub("", s)


def _xlsx_column(letter: str, values: Sequence) -> list[str]:
    """The cells of one column from row 2 on; one comprehension for a column of one common type."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds <= {str}:
        return [
            ""
            if v is None
            else f'<c r="{letter}{n}" t="inlineStr"><is><t xml:space="preserve">'
            f"{_xml_text(chr(39) + v if v.startswith(DANGEROUS_PREFIXES) else v)}</t></is></c>"
            for n, v in enumerate(values, start=2)
        ]
    if kinds <= {float}:
        return [
            "" if v is None or v != v or v in _INFINITIES else f'<c r="{letter}{n}"><v>{v!r}</v></c>'
            for n, v in enumerate(values, start=2)
        ]
    if kinds <= {int}:
        return [
            "" if v is None else f'<c r="{letter}{n}"><v>{v}</v></c>' for n, v in enumerate(values, start=2)
        ]
    return [_xlsx_cell(f"{letter}{n}", v) for n, v in enumerate(values, start=2)]


def _xlsx_cell(ref: str, v) -> str:
    """One cell, the value converted as `_cell` does ("" for None and NaN: no cell)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, int | float | decimal.Decimal):
        if isinstance(v, int):
            return f'<c r="{ref}"><v>{int(v)}</v></c>'
        return f'<c r="{ref}"><v>{float(v)!r}</v></c>' if math.isfinite(v) else ""
    if isinstance(v, dt.datetime):
        serial = (v.replace(tzinfo=None) - _EXCEL_EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="2"><v>{serial!r}</v></c>'
    if isinstance(v, dt.date):
        return f'<c r="{ref}" s="1"><v>{(v - _EXCEL_EPOCH.date()).days}</v></c>'
    text = _xml_text(safe_text(str(v)))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
