"""Read one delivery file, as its supplier mapping describes it, into DuckDB as text columns.

Everything is read as VARCHAR with the source row number kept, so typing and the row rules happen
afterwards in SQL where each failure can be named. File-level problems raise `FileRejected`.
"""

from __future__ import annotations

import csv
import os
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import duckdb

from grassroots import duckdb_ext
from grassroots.feeds import get_feed
from grassroots.mappings import Mapping


class FileRejected(Exception):
    """A whole file refused: the message names the file and the rule."""

    def __init__(self, file: str, rule: str, detail: str) -> None:
        self.file, self.rule, self.detail = file, rule, detail
        super().__init__(f"{file}: rejected by rule '{rule}': {detail}")


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _unique(names: list[str]) -> list[str]:
    """Header names made unique: a repeated header gets a suffix (_2, _3) instead of failing."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _header(path: Path, mapping: Mapping, encoding: str, file: str) -> list[str]:
    """The header line, decoded and split in Python (so the data read needs no sniffing)."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    codec = "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else "gb18030"
    lines = head.splitlines()
    if len(lines) < mapping.header_row:
        raise FileRejected(file, "empty_file", f"fewer than {mapping.header_row} line(s): no header row")
    try:
        text = lines[mapping.header_row - 1].decode(codec)
    except UnicodeDecodeError:
        raise FileRejected(file, "encoding", f"header line is not valid {encoding}") from None
    return next(csv.reader([text], delimiter=mapping.delimiter))


_CSV_ERROR = re.compile(r"CSV Error on Line: (\d+).*?\n(?:Original Line:.*?\n)?(.*?)\n", re.DOTALL)


def _safe_csv_error(text: str) -> str:
    """DuckDB's message quotes the offending line, which may hold personal data: keep only where and why."""
    m = _CSV_ERROR.search(text)
    if m:
        return f"line {m.group(1)}: {m.group(2).strip()}"
    return _first_line(text).split("Original Line")[0]


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping, file: str) -> None:
    encodings = ["utf-8", "gb18030"] if mapping.encoding == "auto" else [mapping.encoding]
    last_error = ""
    for enc in encodings:
        gbk = enc in ("gb18030", "gbk")
        try:
            names = _header(path, mapping, enc, file)
        except FileRejected as exc:
            if exc.rule == "encoding":
                last_error = exc.detail
                continue
            raise
        if gbk:
            duckdb_ext.load(con, "encodings")
        cols = _unique([n.strip().lstrip("\ufeff") or "unnamed" for n in names])
        columns = "{" + ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in cols) + "}"
        try:
            con.execute(
                # No source_row column here: a window over the whole file (row_number() OVER ())
                # made the read 3-4 times slower; read_delivery numbers the rows from the table's
                # rowid, which follows the file order (insertion order is preserved).
                "CREATE OR REPLACE TEMP TABLE landing_text AS SELECT * "
                f"FROM read_csv({_sql_str(str(path))}, auto_detect=false, header=false, "
                f"skip={mapping.header_row}, delim={_sql_str(mapping.delimiter)}, quote='\"', escape='\"', "
                f"columns={columns}, encoding={_sql_str('gb18030' if gbk else 'utf-8')}, "
                "strict_mode=true, null_padding=false)"
            )
            return
        except duckdb.Error as exc:
            text = str(exc)
            if "unicode" in text.lower() or "byte sequence" in text.lower():
                last_error = _safe_csv_error(text)
                continue
            raise FileRejected(file, "malformed_csv", _safe_csv_error(text)) from None
    raise FileRejected(file, "encoding", f"not readable as {'/'.join(encodings)}: {last_error}")


_CELL = re.compile(r"([A-Z]+)(\d+)")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]+\d+):([A-Z]+\d+)\"")


def _col_index(letters: str) -> int:
    """'A' -> 0, 'Z' -> 25, 'AA' -> 26."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _col_letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def workbook_sheets(zf: zipfile.ZipFile) -> list[tuple[str, bool, str]]:
    """(name, visible, part name) of every worksheet, in workbook order (workbook.xml and its rels).

    A sheet whose `state` is `hidden` or `veryHidden` is not visible: Excel shows no tab for it.
    """
    # Two small package parts; expat refuses entity expansion attacks and resolves no external
    # entities, so the standard parser is safe here (defusedxml is not a dependency).
    wb = ET.fromstring(zf.read("xl/workbook.xml"))  # noqa: S314
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("p:Relationship", _NS)}
    out = []
    for s in wb.findall("m:sheets/m:sheet", _NS):
        target = targets[s.get(f"{{{_NS['r']}}}id")].lstrip("/")
        part = target if target.startswith("xl/") else f"xl/{target}"
        out.append((s.get("name"), s.get("state", "visible") not in ("hidden", "veryHidden"), part))
    return out


def _sheet_xml_name(zf: zipfile.ZipFile, sheet: str | None) -> str:
    """The part name of a worksheet (by name, or the first sheet)."""
    sheets = workbook_sheets(zf)
    chosen = next((part for name, _, part in sheets if sheet is None or name == sheet), None)
    if chosen is None:
        raise KeyError(f"no sheet named {sheet!r} (sheets: {[n for n, _, _ in sheets]})")
    return chosen


_FORMULA_NO_VALUE = re.compile(
    rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]+)(\d+)\"[^>]*(?<!/)>\s*"
    rb"<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*"
    rb"</(?:\w+:)?c>"
)


def xlsx_sheet_scan(
    path: Path, sheet: str | None
) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int]]]:
    """Merged ranges (as `xlsx_merged_ranges`) and formula cells without a stored value, as
    (row, 0-based column), of a worksheet, in one streaming pass over its XML (no cell parsed in
    Python). A formula without `<v>` is what a workbook saved uncalculated holds: DuckDB reads the cell
    as empty, which would pass for a missing value.
    """
    merges: set[tuple[int, int, int, int]] = set()
    formulas: set[tuple[int, int]] = set()
    with zipfile.ZipFile(path) as zf, zf.open(_sheet_xml_name(zf, sheet)) as fh:
        tail = b""
        while block := fh.read(1 << 20):
            buf = tail + block
            for a, b in _MERGE.findall(buf):
                (c1, r1), (c2, r2) = (
                    _CELL.fullmatch(a.decode()).groups(),
                    _CELL.fullmatch(b.decode()).groups(),
                )
                merges.add((int(r1), _col_index(c1), int(r2), _col_index(c2)))
            if b"<f" in buf or b":f" in buf:
                for col, row in _FORMULA_NO_VALUE.findall(buf):
                    formulas.add((int(row), _col_index(col.decode())))
            tail = buf[-4096:]
    return sorted(merges), sorted(formulas)


def xlsx_merged_ranges(path: Path, sheet: str | None) -> list[tuple[int, int, int, int]]:
    """Merged cell ranges of a worksheet as (first_row, first_col, last_row, last_col), 1-based rows
    and 0-based columns.

    DuckDB's reader returns a merged range's value in its top-left cell only; the ranges themselves
    are in the sheet XML (after the cell data), found by streaming the decompressed part in chunks.
    """
    return xlsx_sheet_scan(path, sheet)[0]


# An .xlsx is a zip archive: a few kilobytes can unpack to gigabytes (a "zip bomb"). Refused before
# anything is unpacked, from the archive's directory: more than this in total, or a large part packed
# more tightly than any real worksheet is (spreadsheet XML packs about 5-20:1).
MAX_XLSX_UNPACKED_BYTES = int(os.environ.get("GRASSROOTS_MAX_XLSX_UNPACKED_BYTES", str(1 << 30)))
MAX_XLSX_RATIO = 200
_RATIO_FLOOR = 16 << 20  # parts smaller than this are never suspicious


def check_zip_bomb(path: Path, file: str) -> None:
    """Raise FileRejected('zip_bomb') when the workbook would unpack to too much."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRejected(file, "unreadable_workbook", f"not a readable .xlsx workbook: {exc}") from None
    total = sum(i.file_size for i in infos)
    if total > MAX_XLSX_UNPACKED_BYTES:
        raise FileRejected(
            file,
            "zip_bomb",
            f"unpacks to {total:,} bytes, more than the limit of {MAX_XLSX_UNPACKED_BYTES:,} "
            "(GRASSROOTS_MAX_XLSX_UNPACKED_BYTES): not unpacked",
        )
    for i in infos:
        if i.file_size > _RATIO_FLOOR and i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 1):
            raise FileRejected(
                file,
                "zip_bomb",
                f"part {i.filename} unpacks {i.file_size:,} bytes from {i.compress_size:,} "
                f"(over {MAX_XLSX_RATIO}:1): not unpacked",
            )


def _choose_sheet(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping, file: str) -> str:
    """The worksheet to read: only a visible one (a hidden sheet is often a stale copy).

    The mapping's `sheet` when it names one; else the only visible sheet; else the only visible
    sheet whose header row holds a column the mapping knows. Several such sheets: refused, since
    picking one would be a guess (the mapping must name the sheet).
    """
    try:
        with zipfile.ZipFile(path) as zf:
            sheets = workbook_sheets(zf)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, EOFError, OSError) as exc:
        raise FileRejected(
            file, "unreadable_workbook", f"not a readable .xlsx workbook: {_first_line(str(exc))}"
        ) from None
    hidden = [n for n, visible, _ in sheets if not visible]
    if mapping.sheet is not None:
        if mapping.sheet in hidden:
            raise FileRejected(
                file,
                "hidden_sheet",
                f"sheet {mapping.sheet!r} named by mapping {mapping.name} is hidden in the workbook: only "
                "visible sheets are read (unhide it, or deliver the sheet meant to be read)",
            )
        if mapping.sheet not in [n for n, _, _ in sheets]:
            raise FileRejected(
                file,
                "unreadable_workbook",
                f"no sheet named {mapping.sheet!r} (sheets: {[n for n, _, _ in sheets]}; "
                f"mapping {mapping.name})",
            )
        return mapping.sheet
    visible = [n for n, v, _ in sheets if v]
    if not visible:
        raise FileRejected(file, "hidden_sheet", f"every sheet is hidden ({hidden}): nothing visible to read")
    if len(visible) == 1:
        return visible[0]
    duckdb_ext.load(con, "excel")
    top = mapping.header_row - mapping.header_rows + 1
    candidates = []
    for name in visible:
        try:
            cells = con.execute(
                f"SELECT * FROM read_xlsx({_sql_str(str(path))}, header=false, all_varchar=true, "
                f"sheet={_sql_str(name)}, range={_sql_str(f'A{top}:ZZ{mapping.header_row}')}, "
                "stop_at_empty=false)"
            ).fetchall()
        except duckdb.Error:
            continue  # an empty or unreadable sheet is no candidate
        heads = {(c or "").strip() for row in cells for c in row} - {""}
        known = mapping.sources() | set(mapping.columns) | set(get_feed(mapping.feed).column_names)
        if heads & known:
            candidates.append(name)
    if len(candidates) == 1:
        return candidates[0]
    raise FileRejected(
        file,
        "several_visible_sheets",
        f"{len(candidates) if candidates else len(visible)} visible sheets "
        f"{candidates or visible} could hold the data"
        f"{f' (hidden, not read: {hidden})' if hidden else ''}: "
        f"name the one to read with `sheet:` in mapping {mapping.name}",
    )


def _read_xlsx(
    con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping, file: str
) -> tuple[list[str], list[tuple[int, int]]]:
    """Excel via DuckDB's excel extension, as text; returns the source header names.

    Title rows above the header are skipped (``header_row`` is the 1-based row of the last header
    line). A header of ``header_rows`` lines with merged cells (a group heading over several
    columns, or a heading merged down over two rows) is flattened: each merged range's value is
    copied to every cell it covers, and a column's header lines are joined with '_' (a repeated
    part, from a vertical merge, once). Merged cells in the data (a unit merged down over its
    staff rows) are filled the same way, in SQL. Blank rows are skipped; source_row is the
    spreadsheet row number. Only a visible sheet is read (`_choose_sheet`). Also returns the data
    cells holding a formula without a stored value, as (row, 0-based column).
    """
    check_zip_bomb(path, file)
    duckdb_ext.load(con, "excel")
    chosen = _choose_sheet(con, path, mapping, file)
    top = mapping.header_row - mapping.header_rows + 1
    first_data = mapping.header_row + 1
    try:
        merges, formulas = xlsx_sheet_scan(path, chosen)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, StopIteration, EOFError, OSError) as exc:
        raise FileRejected(
            file, "unreadable_workbook", f"not a readable .xlsx workbook: {_first_line(str(exc))}"
        ) from None
    # A heading merged from the header down into the data means the header has more lines than the
    # mapping says (or the title is merged into it): reading on would take half a header as data.
    for r1, c1, r2, c2 in merges:
        if r1 <= mapping.header_row < r2 or (r1 < top <= r2):
            where = f"{_col_letters(c1)}{r1}:{_col_letters(c2)}{r2}"
            raise FileRejected(
                file,
                "merged_header_rows",
                f"header cells {where} are merged across rows {r1}-{r2}, but mapping {mapping.name} reads "
                f"{mapping.header_rows} header row(s) ending at row {mapping.header_row}: "
                "set header_row/header_rows to cover the whole merged header",
            )
    sheet = f", sheet={_sql_str(chosen)}"
    src = _sql_str(str(path))
    try:
        header_rows = con.execute(
            f"SELECT * FROM read_xlsx({src}, header=false, all_varchar=true{sheet}, "
            f"range={_sql_str(f'A{top}:ZZ{mapping.header_row}')}, stop_at_empty=false)"
        ).fetchall()
    except duckdb.Error as exc:
        raise FileRejected(file, "unreadable_workbook", _first_line(str(exc))) from None
    grid = [[(c or "").strip() for c in row] for row in header_rows]
    grid += [[""] * (len(grid[0]) if grid else 0) for _ in range(mapping.header_rows - len(grid))]
    for r1, c1, r2, c2 in merges:  # copy each merged heading into every cell it covers
        if top <= r1 and r2 <= mapping.header_row and c1 < len(grid[0]):
            value = grid[r1 - top][c1]
            for r in range(r1, r2 + 1):
                for c in range(c1, min(c2, len(grid[0]) - 1) + 1):
                    grid[r - top][c] = value
    width = max((i + 1 for row in grid for i, v in enumerate(row) if v), default=0)
    if width == 0:
        raise FileRejected(file, "empty_file", f"no header in row(s) {top}-{mapping.header_row}")
    names: list[str] = []
    for i in range(width):
        parts = [row[i] for row in grid if row[i]]
        parts = [p for j, p in enumerate(parts) if j == 0 or p != parts[j - 1]]
        names.append("_".join(parts) or f"column_{_col_letters(i)}")
    names = _unique(names)
    last = _col_letters(width - 1)
    try:
        # Without a range the reader runs from the first non-empty row to the sheet's last row; that
        # count plus the header row bounds the last row (a range to row 1048576 would make a million
        # empty rows). Blank rows inside are kept here and skipped below, never silently cut off.
        extent = con.execute(
            f"SELECT count(*) FROM read_xlsx({src}, header=false, all_varchar=true{sheet}, "
            "stop_at_empty=false)"
        ).fetchone()[0]
        end_row = min(max(extent + mapping.header_row, first_data), 1048576)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE xlsx_raw AS "
            f"SELECT *, CAST(row_number() OVER () + {mapping.header_row} AS BIGINT) AS source_row "
            f"FROM read_xlsx({src}, header=false, all_varchar=true{sheet}, "
            f"range={_sql_str(f'A{first_data}:{last}{end_row}')}, stop_at_empty=false)"
        )
    except duckdb.Error as exc:
        raise FileRejected(file, "unreadable_workbook", _first_line(str(exc))) from None
    raw_cols = [c[0] for c in con.execute("DESCRIBE xlsx_raw").fetchall() if c[0] != "source_row"]
    # Merged cells in the data: every covered cell takes the top-left value.
    for r1, c1, r2, c2 in merges:
        if r1 >= first_data and c1 < len(raw_cols):
            source = _ident(raw_cols[c1])
            targets = [_ident(raw_cols[c]) for c in range(c1, min(c2, len(raw_cols) - 1) + 1)]
            sets = ", ".join(
                f"{t} = (SELECT {source} FROM xlsx_raw WHERE source_row = {r1})" for t in targets
            )
            con.execute(f"UPDATE xlsx_raw SET {sets} WHERE source_row BETWEEN {r1} AND {r2}")
    not_blank = "coalesce(" + ", ".join(f"nullif(trim({_ident(c)}), '')" for c in raw_cols) + ") IS NOT NULL"
    select = ", ".join(f"{_ident(raw)} AS {_ident(name)}" for raw, name in zip(raw_cols, names, strict=True))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE landing_text AS SELECT {select}, source_row "
        f"FROM xlsx_raw WHERE {not_blank}"
    )
    con.execute("DROP TABLE xlsx_raw")
    return names, [(r, c) for r, c in formulas if r >= first_data and c < len(names)]


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, file: str) -> None:
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE landing_text AS "
            "SELECT COLUMNS(*)::VARCHAR, row_number() OVER () AS source_row "
            f"FROM read_parquet({_sql_str(str(path))})"
        )
    except duckdb.Error as exc:
        raise FileRejected(file, "unreadable_parquet", _first_line(str(exc))) from None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:500] if text.strip() else text


def _derived_selects(mapping: Mapping, source_cols: list[str], file: str) -> dict[str, str]:
    """SQL (over the file's text columns) of each `derive:` column; its sources must be in the file."""
    out = {}
    for col, (op, headers, separator) in mapping.derive.items():
        absent = [h for h in headers if h not in source_cols]
        if absent:
            raise FileRejected(
                file,
                "missing_required_columns",
                f"derive.{col} of mapping {mapping.name} needs column(s) {absent} (headers: {source_cols})",
            )
        # The derived column's null labels mean "no value" in each of its sources too.
        labels = mapping.null_values.get(col, ())
        blank = f" OR trim({{}}) IN ({', '.join(_sql_str(v) for v in labels)})" if labels else ""
        cells = [
            f"CASE WHEN trim({_ident(h)}) = ''{blank.format(_ident(h))} THEN NULL ELSE trim({_ident(h)}) END"
            for h in headers
        ]
        if op == "coalesce":
            out[col] = f"coalesce({', '.join(_ident(h) for h in headers)})"
        elif op == "first_non_empty":
            out[col] = f"coalesce({', '.join(cells)})"
        elif op == "concat":
            out[col] = f"nullif(concat_ws({_sql_str(separator)}, {', '.join(cells)}), '')"
        else:  # date_from_parts: year, month, day as written; typed (and checked) as a date later
            y, m, d = cells
            out[col] = (
                f"CASE WHEN {y} IS NOT NULL AND {m} IS NOT NULL AND {d} IS NOT NULL "
                f"THEN {y} || '-' || lpad({m}, 2, '0') || '-' || lpad({d}, 2, '0') END"
            )
    return out


def _formula_gaps(
    con: duckdb.DuckDBPyConnection,
    formulas: list[tuple[int, int]],
    names: list[str],
    renames: dict[str, str],
    mapping: Mapping,
) -> None:
    """Temp table `formula_gaps(source_row, column_name)`: canonical cells whose source cell is a
    formula without a stored value (row rule `formula_without_value:<column>`)."""
    gaps = set()
    for row, col in formulas:
        src = names[col]
        if src in renames:
            gaps.add((row, renames[src]))
        for canonical, (_, headers, _) in mapping.derive.items():
            if src in headers:
                gaps.add((row, canonical))
    if not gaps:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE formula_gaps (source_row BIGINT, column_name VARCHAR)")
    con.executemany("INSERT INTO formula_gaps VALUES (?, ?)", sorted(gaps))


def read_delivery(
    con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping, file: str
) -> tuple[int, list[str]]:
    """Load the file into temp table `landing_text` with canonical column names.

    Returns (rows_in, extra_columns). Raises FileRejected for file-level problems.
    """
    con.execute("DROP TABLE IF EXISTS formula_gaps")  # never a previous file's
    if path.stat().st_size == 0:
        raise FileRejected(file, "empty_file", "the file has no bytes")
    formulas: list[tuple[int, int]] = []
    xlsx_names: list[str] = []
    if mapping.format == "csv":
        _read_csv(con, path, mapping, file)
    elif mapping.format == "xlsx":
        xlsx_names, formulas = _read_xlsx(con, path, mapping, file)
    else:
        _read_parquet(con, path, file)

    feed = get_feed(mapping.feed)
    source_cols = [c[0] for c in con.execute("DESCRIBE landing_text").fetchall() if c[0] != "source_row"]
    renames: dict[str, str] = {}
    extra: list[str] = []
    for src in source_cols:
        canonical = mapping.canonical_name(src)
        if canonical is None and mapping.header_rows > 1 and "_" in src:
            # A flattened multi-row header ("基本信息_姓名") may be mapped by its last line alone.
            canonical = mapping.canonical_name(src.rsplit("_", 1)[1])
        if canonical is None or canonical in renames.values():
            if src not in mapping.sources():
                extra.append(src)
        else:
            renames[src] = canonical
    derived = _derived_selects(mapping, source_cols, file)
    # A column the file lacks may take the mapping's declared constant (`defaults`), never a guess.
    missing = [
        c.name
        for c in feed.columns
        if c.required
        and c.name not in renames.values()
        and c.name not in mapping.defaults
        and c.name not in derived
    ]
    if missing:
        raise FileRejected(
            file,
            "missing_required_columns",
            f"required column(s) {missing} not found (headers: {source_cols}; mapping {mapping.name})",
        )
    selects = [f"{_ident(src)} AS {_ident(dst)}" for src, dst in renames.items()]
    selects += [f"{sql} AS {_ident(c)}" for c, sql in derived.items() if c not in renames.values()]
    selects += [
        f"{_sql_str(mapping.defaults[c]) if c in mapping.defaults else 'NULL'}::VARCHAR AS {_ident(c)}"
        for c in feed.column_names
        if c not in renames.values() and c not in derived
    ]
    # CSV: the file's line number from the rowid (see _read_csv); the other readers number rows themselves.
    has_row = any(c[0] == "source_row" for c in con.execute("DESCRIBE landing_text").fetchall())
    row = "source_row" if has_row else f"CAST(rowid + {mapping.header_row + 1} AS BIGINT) AS source_row"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE landing_canonical AS SELECT {', '.join(selects)}, {row} "
        "FROM landing_text"
    )
    _formula_gaps(con, formulas, xlsx_names, renames, mapping)
    rows_in = con.execute("SELECT count(*) FROM landing_canonical").fetchone()[0]
    if rows_in == 0:
        raise FileRejected(file, "empty_file", "header present but no data rows")
    return rows_in, extra
