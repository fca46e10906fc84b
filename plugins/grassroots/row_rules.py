"""Typing and row-level rules, as SQL over the text table `landing_canonical`.

Every rule a row can break has a name; a row that breaks one or more is quarantined with the names
(first one is its `rule`). The same names appear in the load audit and in the error messages, so an
auditor can trace any rejected row to the rule that rejected it.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb

from grassroots.feeds import Column, Feed, Pii
from grassroots.idcard import id_check_sql
from grassroots.mappings import WAREHOUSE_TIMEZONE, Mapping

DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")
DEFAULT_TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y年%m月%d日",
)
# A unit of more than this many people is not a village or community: the delivery is wrong.
MAX_UNIT_POPULATION = 2_000_000
COUNT_TYPES = {"BIGINT", "INTEGER"}

# The number grammar (docs/onboarding.md, "How values are parsed"): a value is read only when it
# matches exactly; anything else (12,34 / 12.7 in a count / 0x10 / 1e3) is quarantined, never
# rounded or reinterpreted. A mapping may declare one thousands separator (`thousands_separator`),
# which is then accepted between groups of three digits only (1,234,567).
INTEGER_GRAMMAR = r"[+-]?[0-9]+"
DECIMAL_GRAMMAR = r"[+-]?[0-9]+(\.[0-9]+)?"
# Excel stores dates as serial day numbers: accepted in workbooks only, never in a CSV column.
EXCEL_SERIAL = r"[0-9]{5}(\.[0-9]+)?"
# The plausible-date window (one source for dbt and Python): dbt_project/seeds/date_plausibility.csv.
PLAUSIBILITY_SEED = Path("seeds") / "date_plausibility.csv"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_lit(v) for v in values) + "]"


def _trimmed(col: Column, mapping: Mapping) -> str:
    """Trimmed text, NULL for an empty cell or one of the mapping's null labels for the column."""
    base = f"nullif(trim({_q(col.name)}), '')"
    labels = mapping.null_values.get(col.name)
    if not labels:
        return base
    return f"(CASE WHEN {base} IN ({', '.join(_lit(v) for v in labels)}) THEN NULL ELSE {base} END)"


def _text(col: Column, mapping: Mapping) -> str:
    """Trimmed text with the supplier's null labels and value map applied (unmapped: its policy)."""
    base = _trimmed(col, mapping)
    vm = mapping.value_maps.get(col.name)
    if not vm:
        return base
    cases = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in vm.items())
    otherwise = "NULL" if mapping.unmapped.get(col.name) == "null" else base
    return f"(CASE {base} {cases} ELSE {otherwise} END)"


def _formats(col: Column, mapping: Mapping) -> tuple[str, str, tuple[str, ...]]:
    """(what it should be, the mapping key declaring its formats, the formats tried) for a typed column."""
    if col.type == "DATE":
        return "a date", "date_formats", mapping.date_formats or DEFAULT_DATE_FORMATS
    if col.type == "TIMESTAMP":
        return "a timestamp", "timestamp_formats", mapping.timestamp_formats or DEFAULT_TIMESTAMP_FORMATS
    if col.type in COUNT_TYPES:
        return "a whole number (digits, optional sign)", "", ()
    return "a decimal number (digits, optional sign, one '.')", "", ()


def shape_sql(expr: str) -> str:
    """A value's layout without its content: digits -> 9, letters -> a / A (`12,34` -> `99,99`)."""
    return (
        f"regexp_replace(regexp_replace(regexp_replace({expr}, '[0-9]', '9', 'g'), "
        "'[a-z]', 'a', 'g'), '[A-Z]', 'A', 'g')"
    )


def sample_value_sql(col: Column) -> str:
    """A non-personal column's value in a quarantine sample: as delivered, except a value that did not
    parse, which shows only its shape (it may be anything: a shifted column, a phone number...)."""
    raw = _q(f"_raw_{col.name}")
    if col.type == "VARCHAR":
        return raw
    return f"(CASE WHEN {_q(col.name)} IS NULL THEN {shape_sql(raw)} ELSE {raw} END)"


def parse_failures(con: duckdb.DuckDBPyConnection, feed: Feed, mapping: Mapping) -> list[str]:
    """Columns whose present values did not parse, naming the formats tried and the values' shapes.

    A shape keeps a value's layout, not its content (digits -> 9, letters -> a / A): `01/31/2024 09:15 PM`
    is `99/99/9999 99:99 AA`. A value that is there but unreadable is a parse error, never "missing".
    """
    out = []
    for col in feed.columns:
        if col.type == "VARCHAR" or col.pii is not None:
            continue
        raw, typed = _q(f"_raw_{col.name}"), _q(col.name)
        shape = shape_sql(raw)
        n, shapes = con.execute(
            f"SELECT count(*), list(DISTINCT {shape}) FILTER (WHERE {shape} IS NOT NULL)[1:3] "
            f"FROM checked WHERE {raw} IS NOT NULL AND {typed} IS NULL"
        ).fetchone()
        if not n:
            continue
        what, key, fmts = _formats(col, mapping)
        shown = list(fmts) if len(fmts) <= 3 else [*fmts[:3], f"... {len(fmts) - 3} more"]
        where = f" under the formats {shown} (declare the supplier's in `{key}:`)" if key else ""
        out.append(
            f"{col.name}: {n} value(s) shaped like {sorted(shapes)} are present but do not parse as {what}"
            f"{where}; mapping {mapping.name}"
        )
    return out


def mapping_checks(mapping: Mapping) -> list[tuple[str, str]]:
    """Rules a mapping declares: `unmapped: {col: quarantine}` quarantines values outside its value map."""
    checks = []
    for col, policy in mapping.unmapped.items():
        vm = mapping.value_maps.get(col) or {}
        if policy == "quarantine":
            raw = f"nullif(trim({_q('_src_' + col)}), '')"
            labels = (*vm, *mapping.null_values.get(col, ()))
            known = f" AND {raw} NOT IN ({', '.join(_lit(v) for v in labels)})" if labels else ""
            checks.append((f"unmapped_value:{col}", f"{raw} IS NOT NULL{known}"))
    return checks


def _number_text(text: str, mapping: Mapping) -> str:
    """The text with the mapping's declared thousands separator removed where it separates groups of
    three digits; elsewhere it stays, so `12,34` under `,` does not parse."""
    sep = mapping.thousands_separator
    if not sep:
        return text
    groups = f"[+-]?[0-9]{{1,3}}([{sep}][0-9]{{3}})+(\\.[0-9]+)?"  # sep: one of THOUSANDS_SEPARATORS
    return (
        f"(CASE WHEN regexp_full_match({text}, {_lit(groups)}) THEN replace({text}, {_lit(sep)}, '') "
        f"ELSE {text} END)"
    )


def typed_sql(col: Column, mapping: Mapping) -> str:
    """The typed value, or NULL when the text does not parse exactly (rule `unparseable_<type>`)."""
    text = _text(col, mapping)
    # Excel serials only where a spreadsheet cell can hold one: a 5-digit number in a CSV is not a date.
    serial = mapping.format == "xlsx"
    if col.type == "DATE":
        fmts = mapping.date_formats or DEFAULT_DATE_FORMATS
        ts_fmts = mapping.timestamp_formats or DEFAULT_TIMESTAMP_FORMATS
        # Excel stores dates as serial day numbers counted from 1899-12-30 (a date-time cell has a
        # fraction: its date is the whole part). A date written with a time of day is accepted too.
        parsed = (
            f"CAST(coalesce(try_strptime({text}, {_list(fmts)}), "
            f"try_strptime({text}, {_list(ts_fmts)})) AS DATE)"
        )
        if not serial:
            return f"(CASE WHEN regexp_full_match({text}, {_lit(EXCEL_SERIAL)}) THEN NULL ELSE {parsed} END)"
        return (
            f"(CASE WHEN regexp_full_match({text}, {_lit(EXCEL_SERIAL)}) "
            f"THEN DATE '1899-12-30' + CAST(floor(CAST({text} AS DOUBLE)) AS INTEGER) "
            f"ELSE {parsed} END)"
        )
    if col.type == "TIMESTAMP":
        fmts = mapping.timestamp_formats or DEFAULT_TIMESTAMP_FORMATS
        parsed = f"try_strptime({text}, {_list(fmts)})"
        if serial:
            local = (
                f"(CASE WHEN regexp_full_match({text}, {_lit(EXCEL_SERIAL)}) "
                f"THEN TIMESTAMP '1899-12-30' + "
                f"to_microseconds(CAST(round(CAST({text} AS DOUBLE) * 86400e6) AS BIGINT)) "
                f"ELSE {parsed} END)"
            )
        else:
            local = f"(CASE WHEN regexp_full_match({text}, {_lit(EXCEL_SERIAL)}) THEN NULL ELSE {parsed} END)"
        if mapping.timezone == WAREHOUSE_TIMEZONE:
            return local
        # The supplier's wall-clock time, as the same instant on the warehouse's clock (ICU).
        return f"timezone({_lit(WAREHOUSE_TIMEZONE)}, timezone({_lit(mapping.timezone)}, {local}))"
    if col.type in COUNT_TYPES:
        num = _number_text(text, mapping)
        # TRY_CAST alone would round 12.7 to 13 and read 0x10 as 16: only the grammar is cast.
        return (
            f"(CASE WHEN regexp_full_match({num}, {_lit(INTEGER_GRAMMAR)}) "
            f"THEN TRY_CAST({num} AS {col.type}) END)"
        )
    if col.type == "DOUBLE":
        num = _number_text(text, mapping)
        return (
            f"(CASE WHEN regexp_full_match({num}, {_lit(DECIMAL_GRAMMAR)}) "
            f"THEN TRY_CAST({num} AS DOUBLE) END)"
        )
    return text


def date_window(dbt_project_dir: Path, column: str, delivery_date: dt.date) -> tuple[dt.date, dt.date]:
    """(earliest, latest) plausible value of a date column in a delivery of `delivery_date`, from the
    seed date_plausibility.csv (its `*` row unless the column has its own)."""
    with (dbt_project_dir / PLAUSIBILITY_SEED).open(encoding="utf-8") as fh:
        rows = {r["column_name"]: r for r in csv.DictReader(fh)}
    row = rows.get(column) or rows["*"]
    years = int(row["latest_years_after_delivery"])
    try:
        latest = delivery_date.replace(year=delivery_date.year + years)
    except ValueError:  # 29 February in a year without one
        latest = delivery_date.replace(year=delivery_date.year + years, day=28)
    return dt.date.fromisoformat(row["earliest_date"]), latest


def plausibility_checks(feed: Feed, delivery_date: dt.date, dbt_project_dir: Path) -> list[tuple[str, str]]:
    """`implausible_date:<col>`: a date (or timestamp's day) outside the seed's window. Critical: the
    row is quarantined, so one mistyped year (2204) never becomes a month of every mart."""
    out = []
    for col in feed.columns:
        if col.type not in ("DATE", "TIMESTAMP"):
            continue
        earliest, latest = date_window(dbt_project_dir, col.name, delivery_date)
        day = f"CAST({_q(col.name)} AS DATE)"
        out.append(
            (
                f"implausible_date:{col.name}",
                f"{day} < DATE '{earliest.isoformat()}' OR {day} > DATE '{latest.isoformat()}'",
            )
        )
    return out


def rule_checks(feed: Feed) -> list[tuple[str, str]]:
    """(rule name, SQL condition that is TRUE when the row breaks it) over table `typed`."""
    checks: list[tuple[str, str]] = []
    for col in feed.columns:
        c = _q(col.name)
        raw = _q(f"_raw_{col.name}")
        if col.required:
            checks.append((f"missing_value:{col.name}", f"{raw} IS NULL"))
        if col.type != "VARCHAR":
            checks.append(
                (
                    f"unparseable_{col.type.lower()}:{col.name}",
                    f"{raw} IS NOT NULL AND {c} IS NULL",
                )
            )
        if col.type in COUNT_TYPES:
            checks.append((f"negative_count:{col.name}", f"{c} < 0"))
            if "population" in col.name or col.name.endswith("_plus") or col.name == "vulnerable_persons":
                checks.append((f"implausible_value:{col.name}", f"{c} > {MAX_UNIT_POPULATION}"))
        if col.name in feed.enums:
            checks.append(
                (
                    f"not_in_enum:{col.name}",
                    f"{c} IS NOT NULL AND {c} NOT IN {tuple(feed.enums[col.name])}",
                )
            )
        if col.name in ("unit_code", "handled_by_unit_code"):
            checks.append(
                (
                    f"unknown_unit_code:{col.name}",
                    f"{c} IS NOT NULL AND {c} NOT IN (SELECT unit_code FROM known_codes)",
                )
            )
        if col.name == "unit_code":
            # Units are townships and villages/communities (DESIGN §5); a row on a province, city or
            # county code belongs to no unit and would fall out of every mart. (A case may still be
            # handled by a county: handled_by_unit_code only has to be known.)
            checks.append(
                (
                    "not_a_unit:unit_code",
                    f"{c} IN (SELECT unit_code FROM known_codes WHERE NOT is_unit)",
                )
            )
        if col.name == "id_number":
            checks.append(
                (
                    "invalid_id_check_digit",
                    f"{c} IS NOT NULL AND NOT ({id_check_sql(c)})",
                )
            )
    if feed.name == "staff_roster":
        checks.append(("out_of_range:fte", "fte IS NOT NULL AND (fte <= 0 OR fte > 1)"))
        checks.append(("exit_before_hire", "exit_date < hire_date"))
    if feed.name == "case_log":
        checks.append(("closed_before_reported", "closed_at < reported_at"))
        checks.append(
            (
                "timestamps_out_of_order",
                (
                    "assigned_at < reported_at OR first_response_at < coalesce(assigned_at, reported_at) "
                    "OR closed_at < coalesce(first_response_at, assigned_at, reported_at)"
                ),
            )
        )
        checks.append(("updated_before_reported", "updated_at < reported_at"))
    # A later row with the key of an earlier one (`_first_row`: the key's first source row, joined in
    # by `build_typed`; a grouped join is several times cheaper than a window here).
    checks.append(("duplicate_key", "source_row > _first_row"))
    return checks


def load_ref_codes(con: duckdb.DuckDBPyConnection, ref_codes_parquet: str) -> None:
    """All 2023 division codes, once per staging connection (not once per file)."""
    try:
        con.execute("SELECT 1 FROM ref_codes LIMIT 0")
    except duckdb.CatalogException:
        con.execute(
            "CREATE TEMP TABLE ref_codes AS "
            "SELECT unit_code, bool_or(level IN ('township', 'village')) AS is_unit "
            f"FROM read_parquet({_lit(ref_codes_parquet)}) GROUP BY unit_code ORDER BY unit_code"
        )


def formula_checks(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """`formula_without_value:<col>`: a workbook cell holding a formula but no stored result (the file
    was saved without calculating). The value is unknown, not missing: the row names the formula."""
    try:
        cols = con.execute("SELECT DISTINCT column_name FROM formula_gaps ORDER BY 1").fetchall()
    except duckdb.CatalogException:
        return []
    return [
        (
            f"formula_without_value:{c}",
            f"source_row IN (SELECT source_row FROM formula_gaps WHERE column_name = {_lit(c)})",
        )
        for (c,) in cols
    ]


def _detail_sql(name: str, cond: str, window: dict[str, str]) -> str:
    """The row's detail for a broken rule: its name, with the raw value's shape for a parse failure
    (never the value) and the window for an implausible date."""
    kind, _, col = name.partition(":")
    if kind.startswith("unparseable_"):
        return f"{_lit(name + ' (value shaped ')} || {shape_sql(_q('_raw_' + col))} || ')'"
    if kind == "implausible_date":
        return _lit(f"{name} (outside {window[col]}, seed date_plausibility)")
    if kind == "formula_without_value":
        return _lit(f"{name} (formula without a stored value: the workbook was saved uncalculated)")
    return _lit(name)


def build_typed(
    con: duckdb.DuckDBPyConnection,
    feed: Feed,
    mapping: Mapping,
    ref_codes_parquet: str,
    *,
    delivery_date: dt.date | None = None,
    dbt_project_dir: Path | None = None,
) -> None:
    """Create temp table `checked`: typed canonical columns, `_raw_*` text, `_rules` (list of the rule
    names broken) and `_details` (the same, each with what the quarantine may show of the value).

    `delivery_date`: dates outside the plausible window of the delivery (seed date_plausibility.csv
    under `dbt_project_dir`, default the project's) break `implausible_date:<col>`.
    """
    load_ref_codes(con, ref_codes_parquet)
    selects = []
    for col in feed.columns:
        selects.append(f"{typed_sql(col, mapping)} AS {_q(col.name)}")
        selects.append(f"{_text(col, mapping)} AS {_q('_raw_' + col.name)}")
        if mapping.unmapped.get(col.name) == "quarantine":
            selects.append(f"{_q(col.name)} AS {_q('_src_' + col.name)}")  # as delivered, for the rule
    # A view, not a table: materialising every typed and raw column once more cost a quarter of the
    # typing time of a national day of cases (bench/README.md); `checked` below is the one copy.
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW typed AS SELECT {', '.join(selects)}, source_row FROM landing_canonical"
    )
    # The file's codes that exist: a small hash table for the membership rule, instead of 660k codes.
    code_cols = [c.name for c in feed.columns if c.name in ("unit_code", "handled_by_unit_code")]
    file_codes = " UNION ".join(f"SELECT {_q(c)} AS unit_code FROM typed" for c in code_cols)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE known_codes AS SELECT unit_code, is_unit FROM ref_codes "
        f"WHERE unit_code IN ({file_codes})"
    )
    # One statement: each rule as a flag column, then the list of the names of the rules broken.
    # A formula without its value first (it explains the empty cell), then the mapping's own rules:
    # the more specific name is the row's `rule`.
    checks = formula_checks(con) + mapping_checks(mapping) + rule_checks(feed)
    window: dict[str, str] = {}
    if delivery_date is not None:
        from grassroots.config import settings

        project = dbt_project_dir or settings().dbt_project_dir
        checks += plausibility_checks(feed, delivery_date, project)
        for col in feed.columns:
            if col.type in ("DATE", "TIMESTAMP"):
                lo, hi = date_window(project, col.name, delivery_date)
                window[col.name] = f"{lo.isoformat()}..{hi.isoformat()}"
    key = ", ".join(_q(k) for k in feed.key)
    flag_cols = ", ".join(f"coalesce(({cond}), false) AS _f{i}" for i, (_, cond) in enumerate(checks))
    rules = ", ".join(f"CASE WHEN _f{i} THEN {_lit(name)} END" for i, (name, _) in enumerate(checks))
    details = ", ".join(
        f"CASE WHEN _f{i} THEN {_detail_sql(name, cond, window)} END" for i, (name, cond) in enumerate(checks)
    )
    drop = ", ".join(f"_f{i}" for i in range(len(checks)))
    # Nearly every row breaks no rule: build (and filter) the list of names only for those that do.
    broken = " OR ".join(f"_f{i}" for i in range(len(checks)))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE checked AS "
        f"WITH firsts AS (SELECT {key}, min(source_row) AS _first_row FROM typed GROUP BY ALL), "
        f"flagged AS (SELECT typed.*, firsts._first_row, {flag_cols} "
        f"FROM typed LEFT JOIN firsts USING ({key})) "
        f"SELECT * EXCLUDE ({drop}, _first_row), CASE WHEN {broken} "
        f"THEN list_filter([{rules}], x -> x IS NOT NULL) ELSE []::VARCHAR[] END AS _rules, "
        f"CASE WHEN {broken} THEN list_filter([{details}], x -> x IS NOT NULL) ELSE []::VARCHAR[] END "
        "AS _details FROM flagged"
    )
    # The text copies are no longer needed: free their memory before the zones are written.
    con.execute(
        "DROP VIEW typed; DROP TABLE IF EXISTS landing_text; DROP TABLE IF EXISTS landing_canonical; "
        "DROP TABLE IF EXISTS formula_gaps"
    )


def pseudonymised_selects(
    feed: Feed, *, from_raw_text: bool = False, hashed_in: str | None = None
) -> list[str]:
    """SELECT expressions of the raw-zone columns (PII hashed/dropped), in `raw_columns` order.

    `hashed_in`: a relation joined in that already holds the `<column>_hash` values
    (`pii.pseudonymise_columns`); otherwise they are computed in the query (`pii.hmac_sql`).
    """
    from grassroots.pii import hmac_sql

    out = []
    for col in feed.columns:
        src = _q("_raw_" + col.name) if from_raw_text else _q(col.name)
        if col.pii is Pii.HASH:
            hashed = f"{hashed_in}.{_q(col.name + '_hash')}" if hashed_in else hmac_sql(src)
            out.append(f"{hashed} AS {_q(col.name + '_hash')}")
        elif col.pii is Pii.LENGTH:
            out.append(f"CAST(length({src}) AS INTEGER) AS {_q(col.name + '_length')}")
        elif col.pii is None:
            out.append(f"{src} AS {_q(col.name)}")
    return out
