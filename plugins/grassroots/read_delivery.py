"""Read one delivery file, as its supplier mapping describes it, into DuckDB as text columns.

Everything is read as VARCHAR with the source row number kept, so typing and the row rules happen
afterwards in SQL where each failure can be named. File-level problems raise `FileRejected`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

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


_CSV_ERROR = re.compile(r"CSV Error on Line: (\d+).*?\n(?:Original Line:.*?\n)?(.*?)\n", re.S)


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
        seen: dict[str, int] = {}
        cols = []
        for n in names:
            n = n.strip().lstrip("\ufeff") or "unnamed"
            seen[n] = seen.get(n, 0) + 1
            cols.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
        columns = "{" + ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in cols) + "}"
        try:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE landing_text AS "
                f"SELECT *, row_number() OVER () + {mapping.header_row} AS source_row "
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


def _read_xlsx(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping, file: str) -> None:
    """Excel via DuckDB's excel extension; merged multi-row headers are joined with '_'."""
    duckdb_ext.load(con, "excel")
    sheet = f", sheet={_sql_str(mapping.sheet)}" if mapping.sheet else ""
    first_data = mapping.header_row + 1
    try:
        header_rel = con.execute(
            f"SELECT * FROM read_xlsx({_sql_str(str(path))}, header=false, all_varchar=true"
            f"{sheet}, range={_sql_str(f'A{mapping.header_row - mapping.header_rows + 1}:ZZ{mapping.header_row}')}, "
            "stop_at_empty=false)"
        ).fetchall()
        con.execute(
            "CREATE OR REPLACE TEMP TABLE xlsx_raw AS "
            f"SELECT *, row_number() OVER () + {mapping.header_row} AS source_row "
            f"FROM read_xlsx({_sql_str(str(path))}, header=false, all_varchar=true{sheet}, "
            f"range={_sql_str(f'A{first_data}:ZZ1048576')}, stop_at_empty=true)"
        )
    except duckdb.Error as exc:
        raise FileRejected(file, "unreadable_workbook", _first_line(str(exc))) from None
    if not header_rel:
        raise FileRejected(file, "empty_file", "no header row")
    # Merged header cells come back as a value in the first cell and NULL in the rest: carry the
    # last value to the right, then join the header rows.
    ncols = len(header_rel[0])
    names: list[str] = []
    filled_rows = []
    for row in header_rel:
        last = ""
        filled = []
        for cell in row:
            last = cell.strip() if cell else last
            filled.append(last)
        filled_rows.append(filled)
    for i in range(ncols):
        parts = [r[i] for r in filled_rows if r[i]]
        # drop repeated parts (a cell merged vertically repeats itself)
        dedup = [p for j, p in enumerate(parts) if j == 0 or p != parts[j - 1]]
        names.append("_".join(dedup) or f"column{i}")
    raw_cols = [c[0] for c in con.execute("DESCRIBE xlsx_raw").fetchall() if c[0] != "source_row"]
    select = ", ".join(
        f'"{raw}" AS {_ident(name)}' for raw, name in zip(raw_cols, names, strict=False) if name
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE landing_text AS SELECT {select}, source_row FROM xlsx_raw")


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


def read_delivery(
    con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping, file: str
) -> tuple[int, list[str]]:
    """Load the file into temp table `landing_text` with canonical column names.

    Returns (rows_in, extra_columns). Raises FileRejected for file-level problems.
    """
    if path.stat().st_size == 0:
        raise FileRejected(file, "empty_file", "the file has no bytes")
    if mapping.format == "csv":
        _read_csv(con, path, mapping, file)
    elif mapping.format == "xlsx":
        _read_xlsx(con, path, mapping, file)
    else:
        _read_parquet(con, path, file)

    feed = get_feed(mapping.feed)
    source_cols = [c[0] for c in con.execute("DESCRIBE landing_text").fetchall() if c[0] != "source_row"]
    renames: dict[str, str] = {}
    extra: list[str] = []
    for src in source_cols:
        canonical = mapping.canonical_name(src)
        if canonical is None or canonical in renames.values():
            extra.append(src)
        else:
            renames[src] = canonical
    missing = [c.name for c in feed.columns if c.required and c.name not in renames.values()]
    if missing:
        raise FileRejected(
            file,
            "missing_required_columns",
            f"required column(s) {missing} not found (headers: {source_cols}; mapping {mapping.name})",
        )
    selects = [f"{_ident(src)} AS {_ident(dst)}" for src, dst in renames.items()]
    selects += [f"NULL::VARCHAR AS {_ident(c)}" for c in feed.column_names if c not in renames.values()]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE landing_canonical AS SELECT {', '.join(selects)}, source_row "
        "FROM landing_text"
    )
    rows_in = con.execute("SELECT count(*) FROM landing_canonical").fetchone()[0]
    if rows_in == 0:
        raise FileRejected(file, "empty_file", "header present but no data rows")
    return rows_in, extra
