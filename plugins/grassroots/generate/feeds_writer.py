"""Write generated feeds into the landing zone as CSV, the way a supplier would deliver them.

Layout: ``<out>/<feed>/<YYYY-MM-DD>/<file>.csv``; canonical column names (``feeds.py``), UTF-8,
header row, ISO dates, ``YYYY-MM-DD HH:MM:SS`` timestamps, empty string for null. DuckDB's COPY does
the writing (fast, and byte-identical for identical input because every query has a total order).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from grassroots.feeds import Feed


def select_list(feed: Feed) -> str:
    """Canonical columns in order, dates and timestamps formatted as text."""
    parts = []
    for col in feed.columns:
        name = f'"{col.name}"'
        if col.type == "DATE":
            parts.append(f"strftime(CAST({name} AS DATE), '%Y-%m-%d') AS {name}")
        elif col.type == "TIMESTAMP":
            parts.append(f"strftime(CAST({name} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S') AS {name}")
        else:
            parts.append(name)
    return ", ".join(parts)


def write_feed_csv(
    con: duckdb.DuckDBPyConnection,
    feed: Feed,
    source: str,
    path: Path,
    order_by: str,
    where: str | None = None,
) -> int:
    """COPY the rows of ``source`` (a table/view name) matching ``where`` to ``path``; return rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    query = f"SELECT {select_list(feed)} FROM {source}"
    if where:
        query += f" WHERE {where}"
    query += f" ORDER BY {order_by}"
    target = str(path).replace("'", "''")
    con.execute(f"COPY ({query}) TO '{target}' (FORMAT csv, HEADER true, DELIMITER ',')")
    count_sql = f"SELECT count(*) FROM {source}" + (f" WHERE {where}" if where else "")
    return int(con.execute(count_sql).fetchone()[0])


# --- Supplier layouts -------------------------------------------------------------------------
# Besides the canonical CSV, the generator can deliver a feed the way one of the shipped supplier
# mappings (include/mappings/) describes it. Headers and value labels are taken from that mapping
# (inverted), so the generator and the mapping cannot drift apart.

CANONICAL = "canonical_csv"
LAYOUTS: dict[str, dict[str, str]] = {
    # feed -> layout -> mapping name
    "staff_roster": {CANONICAL: "canonical_staff_roster", "county_xlsx": "county_xlsx_staff_roster"},
    "household_registration": {CANONICAL: "canonical_household_registration"},
    "resident_population": {CANONICAL: "canonical_resident_population"},
    "case_log": {CANONICAL: "canonical_case_log", "hotline_gbk": "hotline_gbk_case_log"},
}


def parse_layouts(spec: dict[str, str] | list[str] | tuple[str, ...] | None) -> dict[str, str]:
    """``{'staff_roster': 'county_xlsx'}`` or ``['staff_roster=county_xlsx']``, checked."""
    if not spec:
        return {}
    items = (
        spec.items() if isinstance(spec, dict) else (s.split("=", 1) if "=" in s else (s, "") for s in spec)
    )
    out: dict[str, str] = {}
    for feed, layout in items:
        feed, layout = str(feed).strip(), str(layout).strip()
        if feed not in LAYOUTS:
            raise ValueError(f"layout for unknown feed {feed!r}; feeds: {', '.join(LAYOUTS)}")
        if layout not in LAYOUTS[feed]:
            raise ValueError(f"unknown layout {layout!r} of {feed}; available: {', '.join(LAYOUTS[feed])}")
        out[feed] = layout
    return out


def layout_file_name(
    feed: str, layout: str, canonical_name: str, *, county: str = "", period: str = ""
) -> str:
    """The file name a supplier of this layout uses (it must match the mapping's file_pattern)."""
    if layout == "county_xlsx":
        return f"{county}_社区工作者名册_{period}.xlsx"
    if layout == "hotline_gbk":
        return f"hotline_export_{period}.csv"
    return canonical_name


def _mapping(feed: str, layout: str):
    from grassroots.config import settings
    from grassroots.mappings import load_mappings

    name = LAYOUTS[feed][layout]
    for m in load_mappings(settings().mappings_dir):
        if m.name == name:
            return m
    raise ValueError(f"layout {layout} of {feed} needs mapping {name!r} in include/mappings/")


def _inverted(mapping) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """canonical column -> first source header; canonical column -> {canonical value: first label}."""
    headers: dict[str, str] = {}
    for src, dst in mapping.columns.items():
        headers.setdefault(dst, src)
    labels: dict[str, dict[str, str]] = {}
    for col, vm in mapping.value_maps.items():
        inv: dict[str, str] = {}
        for src, dst in vm.items():
            inv.setdefault(dst, src)
        labels[col] = inv
    return headers, labels


def _label_sql(col: str, labels: dict[str, dict[str, str]]) -> str:
    q = f'"{col}"'
    vm = labels.get(col)
    if not vm:
        return q
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in vm.items())
    return f"(CASE {q} {cases} ELSE {q} END)"


def write_hotline_gbk(
    con: duckdb.DuckDBPyConnection, feed: Feed, source: str, path: Path, order_by: str, where: str | None
) -> int:
    """The 12345 hotline's export: GBK (GB 18030) CSV, Chinese headers and labels, 2024/3/5 14:02:09."""
    headers, labels = _inverted(_mapping(feed.name, "hotline_gbk"))
    parts = []
    for col in feed.columns:
        if col.type == "TIMESTAMP":
            expr = f"strftime(CAST(\"{col.name}\" AS TIMESTAMP), '%Y/%-m/%-d %-H:%M:%S')"
        else:
            expr = _label_sql(col.name, labels)
        header = headers.get(col.name, col.name).replace('"', '""')
        parts.append(f'{expr} AS "{header}"')
    query = f"SELECT {', '.join(parts)} FROM {source}" + (f" WHERE {where}" if where else "")
    query += f" ORDER BY {order_by}"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".utf8.tmp")
    target = str(tmp).replace("'", "''")
    con.execute(f"COPY ({query}) TO '{target}' (FORMAT csv, HEADER true, DELIMITER ',')")
    # DuckDB writes UTF-8 only: transcode in 1 MB chunks (a stream, not a loop over rows).
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    with tmp.open("rb") as src, path.open("wb") as dst:
        while block := src.read(1 << 20):
            dst.write(decoder.decode(block).encode("gb18030"))
        dst.write(decoder.decode(b"", final=True).encode("gb18030"))
    tmp.unlink()
    count_sql = f"SELECT count(*) FROM {source}" + (f" WHERE {where}" if where else "")
    return int(con.execute(count_sql).fetchone()[0])


XLSX_GROUPS = ("基本信息", "岗位信息")
_FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def write_county_xlsx(
    con: duckdb.DuckDBPyConnection,
    feed: Feed,
    source: str,
    path: Path,
    order_by: str,
    where: str | None,
    *,
    title: str,
) -> int:
    """A county roster workbook: title row, two-row merged header, Excel date cells and 2024年1月31日 text.

    The layout follows the ``county_xlsx_staff_roster`` mapping: a header "基本信息_姓名" becomes the
    group heading 基本信息 (merged over its columns) above 姓名; a header without a group is merged
    down over both header rows. Columns 序号 (row number) and 备注 (remarks) are added, as counties do.
    The workbook is byte-identical for identical input (fixed document and zip timestamps).
    """
    import datetime as dt
    import zipfile

    import openpyxl
    from openpyxl.utils import get_column_letter

    headers, labels = _inverted(_mapping(feed.name, "county_xlsx"))
    cols = [c for c in feed.columns if c.name in headers]
    # Columns of one group heading sit side by side, where the group first appears.
    order = {g: i for i, g in reversed(list(enumerate(headers[c.name].split("_", 1)[0] for c in cols)))}
    cols.sort(key=lambda c: order[headers[c.name].split("_", 1)[0]])
    exprs = []
    for col in cols:
        if col.type == "DATE" and col.name == "hire_date":
            exprs.append(f'CAST("{col.name}" AS DATE)')  # a real Excel date cell (serial number)
        elif col.type == "DATE":
            exprs.append(f"strftime(CAST(\"{col.name}\" AS DATE), '%Y年%-m月%-d日')")
        else:
            exprs.append(_label_sql(col.name, labels))
    query = f"SELECT {', '.join(exprs)} FROM {source}" + (f" WHERE {where}" if where else "")
    rows = con.execute(query + f" ORDER BY {order_by}").fetchall()

    top = ["序号"] + [headers[c.name] for c in cols] + ["备注"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名册"
    width = len(top)
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    groups: list[str | None] = []
    headings: list[str] = []
    for h in top:
        prefix, _, rest = h.partition("_")
        grouped = prefix in XLSX_GROUPS and rest
        groups.append(prefix if grouped else None)
        headings.append(rest if grouped else h)
    ws.append(
        [
            g if g and (i == 0 or groups[i - 1] != g) else (None if g else headings[i])
            for i, g in enumerate(groups)
        ]
    )
    ws.append([headings[i] if g else None for i, g in enumerate(groups)])
    i = 0
    while i < width:  # group headings merged across their columns, single headings merged down
        j = i
        while groups[i] and j + 1 < width and groups[j + 1] == groups[i]:
            j += 1
        if groups[i] is None:
            ws.merge_cells(start_row=2, start_column=i + 1, end_row=3, end_column=i + 1)
        elif j > i:
            ws.merge_cells(start_row=2, start_column=i + 1, end_row=2, end_column=j + 1)
        i = j + 1
    date_col = [c.name for c in cols].index("hire_date") + 2 if "hire_date" in headers else None
    for n, row in enumerate(rows, start=1):
        ws.append([n, *row, None])
        if date_col:
            ws.cell(row=n + 3, column=date_col).number_format = "yyyy-mm-dd"
    for k in range(1, width + 1):
        ws.column_dimensions[get_column_letter(k)].width = 14
    fixed = dt.datetime(2000, 1, 1)
    wb.properties.created = wb.properties.modified = fixed
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    # openpyxl stamps the save time into docProps/core.xml and the zip entries: pin both.
    with zipfile.ZipFile(tmp) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>2000-01-01T00:00:00Z\g<2>", data)
            zout.writestr(
                zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME), data, zipfile.ZIP_DEFLATED
            )
    tmp.unlink()
    return len(rows)
