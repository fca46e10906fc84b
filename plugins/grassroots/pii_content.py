"""Personal data found by content, not only by column name (issue #18, item 1).

Pseudonymisation by contract (feeds.py: `id_number`, `phone`, `reporter_phone`, ...) misses a
reporter's phone number typed into `category`, a shifted row that puts it in `unit_code`, or a
county roster whose 工号 (`staff_id`) is the person's resident ID number. After the row rules
(`row_rules.build_typed`) and before anything leaves the staging connection (validation samples,
Data Docs, quarantine and raw Parquet, warehouse tables, logs), `scan_checked` looks in every
column that is not personal by contract for

- a resident ID number (18 characters) with a valid GB 11643 check digit (`idcard.id_check_sql`);
- a mainland mobile number `1[3-9]` + 9 digits, optionally after `+86`/`86`, with spaces or
  dashes between the digits,

standing alone or between characters that are not ASCII letters or digits (`电话13912345678` is
found; the digits inside the case id `C3502062024011500012` are not). The row is quarantined under
`personal_data_in:<column>` (first among its rules), and the cell is replaced, in its typed and
text copies, by `hmac:` + the HMAC of the identifier in canonical form (11 digits, or 18
characters with an upper-case X): the key and function of the pseudonymised columns
(`pii.hmac_sql`), so the marker equals the `_hash` the same number gets in its proper column. A
number, date or timestamp column's typed copy becomes NULL.

`staff_id` is an identifier: the mapping key `staff_id_is_id_number: true` declares that a
supplier's staff ids are ID numbers, and every value is then replaced by its HMAC (plain hex, equal
to `id_number_hash` of the same person). Without the declaration, a staff id that is a valid ID
number as a whole is hashed the same way, the row still loads, and the load gets a warning finding
(`ContentScan.notes`, in `audit.load_log.error` and the log); a phone number in `staff_id`, or an
ID number inside other text there, is quarantined like in any other column.

All of it is SQL over the whole delivery in DuckDB: one scan with regular expressions, then an
UPDATE of the (few) rows found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from grassroots.feeds import Feed
from grassroots.idcard import id_check_sql
from grassroots.mappings import Mapping
from grassroots.pii import hmac_sql, set_hmac_key

RULE_PREFIX = "personal_data_in:"
MARKER = "hmac:"
# Not an ASCII letter or digit on either side: ids inside codes such as C3502062024011500012 are
# not identifiers, while a number after Chinese text or punctuation is.
_EDGE_L, _EDGE_R = "(?:^|[^0-9A-Za-z])", "(?:$|[^0-9A-Za-z])"
ID_PATTERN = _EDGE_L + "([0-9]{17}[0-9Xx])" + _EDGE_R
PHONE_PATTERN = _EDGE_L + "((?:\\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]){8})" + _EDGE_R
# Either shape, without the check digit: one cheap test per cell; the extraction (and the check
# digit) runs only on the cells it lets through, which costs 20 times more per cell.
CANDIDATE_PATTERN = _EDGE_L + "(?:[0-9]{17}[0-9Xx]|(?:\\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]){8})" + _EDGE_R


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def found_sql(text: str, guard: str | None = None) -> str:
    """SQL: the first ID number (valid check digit) or mobile number in `text`, in canonical form
    (18 characters with an upper-case X, or 11 digits), else NULL.

    `guard`: a cheaper condition that holds for every cell that can hold one (see `_guard`).
    """
    candidate = f"regexp_matches({text}, {_lit(CANDIDATE_PATTERN)})"
    ids = f"list_filter(regexp_extract_all({text}, {_lit(ID_PATTERN)}, 1), x -> {id_check_sql('x')})"
    phone = f"regexp_extract({text}, {_lit(PHONE_PATTERN)}, 1)"
    found = f"coalesce(upper({ids}[1]), nullif(right(regexp_replace({phone}, '[^0-9]', '', 'g'), 11), ''))"
    return f"(CASE WHEN {guard + ' AND ' if guard else ''}{candidate} THEN {found} END)"


def _guard(col, enums: tuple[str, ...] | None) -> str | None:
    """Cells that cannot hold an identifier are skipped before any regular expression: a parsed date
    or timestamp, a number below 10^10 (a mobile is 1.3e10 or more, an ID number 1e16), a value
    of the column's enumeration."""
    typed = _q(col.name)
    if col.type in ("DATE", "TIMESTAMP"):
        return f"{typed} IS NULL"
    if col.type != "VARCHAR":
        return f"({typed} IS NULL OR abs({typed}) >= 1e10)"
    if enums:
        return f"{typed} NOT IN ({', '.join(_lit(v) for v in enums)})"
    return None


def scanned_columns(feed: Feed, mapping: Mapping) -> list[str]:
    """The columns searched: every column that is not personal by contract (nor by the mapping)."""
    personal = {c.name for c in feed.columns if c.pii is not None}
    if mapping.staff_id_is_id_number:
        personal.add("staff_id")
    return [c.name for c in feed.columns if c.name not in personal]


@dataclass
class ContentScan:
    """What the scan of one delivery found and did."""

    quarantined: dict[str, int] = field(default_factory=dict)  # column -> rows quarantined for it
    staff_ids_hashed: int = 0  # staff ids that were ID numbers, hashed (declared or not)
    declared: bool = False  # the mapping declares staff_id_is_id_number
    mapping: str = ""

    @property
    def rows(self) -> int:
        return sum(self.quarantined.values())

    def notes(self) -> list[str]:
        """Warning findings for the load audit (no values, only counts and columns)."""
        out = []
        if self.staff_ids_hashed and not self.declared:
            out.append(
                f"staff_id: {self.staff_ids_hashed} value(s) are resident ID numbers, stored hashed "
                f"like id_number; declare `staff_id_is_id_number: true` in mapping {self.mapping}"
            )
        if self.quarantined:
            cols = ", ".join(f"{c} ({n})" for c, n in self.quarantined.items())
            out.append(
                f"personal data (ID or mobile number) found in non-personal column(s), quarantined: {cols}"
            )
        return out


def scan_checked(
    con: duckdb.DuckDBPyConnection, feed: Feed, mapping: Mapping, key: bytes, table: str = "checked"
) -> ContentScan:
    """Find, quarantine and hash personal data in `table` (see the module docstring), in place."""
    set_hmac_key(con, key)
    result = ContentScan(declared=mapping.staff_id_is_id_number, mapping=mapping.name)
    present = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    types = {c.name: c.type for c in feed.columns}
    if result.declared and "staff_id" in present:
        # Declared: every staff id is an identifier, whatever it looks like.
        result.staff_ids_hashed = con.execute(
            f"UPDATE {table} SET staff_id = {hmac_sql('staff_id')}, "
            f"_raw_staff_id = {hmac_sql('_raw_staff_id')} WHERE _raw_staff_id IS NOT NULL"
        ).fetchone()[0]
    columns = [c for c in scanned_columns(feed, mapping) if f"_raw_{c}" in present]
    if not columns:
        return result
    staff_whole = feed.name == "staff_roster" and "staff_id" in columns
    spec = {c.name: c for c in feed.columns}
    found = [f"{found_sql(_q('_raw_' + c), _guard(spec[c], feed.enums.get(c)))} AS {_q(c)}" for c in columns]
    if staff_whole:
        # A staff id that is, as a whole, a valid ID number: hashed and kept (not quarantined).
        found.append(
            f"CASE WHEN {id_check_sql('_raw_staff_id')} THEN upper(_raw_staff_id) END AS _staff_id_number"
        )
    any_hit = " OR ".join(f"{_q(c)} IS NOT NULL" for c in columns)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _pii_hits AS SELECT * FROM "
        f"(SELECT source_row, {', '.join(found)} FROM {table}) WHERE {any_hit}"
    )
    try:
        whole_ids = 0
        if staff_whole:
            whole_ids = con.execute(
                "UPDATE _pii_hits SET staff_id = NULL WHERE _staff_id_number IS NOT NULL"
            ).fetchone()[0]
            result.staff_ids_hashed = whole_ids
        counts = con.execute(
            "SELECT " + ", ".join(f"count({_q(c)})" for c in columns) + " FROM _pii_hits"
        ).fetchone()
        result.quarantined = {c: n for c, n in zip(columns, counts, strict=True) if n}
        if not result.quarantined and not whole_ids:
            return result
        # column -> [(condition, new value)]: one CASE per column (staff_id can have both kinds).
        cases: dict[str, list[tuple[str, str]]] = {}
        for c in result.quarantined:
            marker = f"{_lit(MARKER)} || {hmac_sql('h.' + _q(c))}"
            hit = f"h.{_q(c)} IS NOT NULL"
            cases.setdefault(c, []).append((hit, marker if types[c] == "VARCHAR" else "NULL"))
            for copy in (f"_raw_{c}", f"_src_{c}"):
                if copy in present:
                    cases.setdefault(copy, []).append((hit, marker))
        if whole_ids:
            for copy in ("staff_id", "_raw_staff_id"):
                cases.setdefault(copy, []).append(
                    ("h._staff_id_number IS NOT NULL", hmac_sql("h._staff_id_number"))
                )
        sets = [
            f"{_q(c)} = CASE {' '.join(f'WHEN {w} THEN {v}' for w, v in branches)} ELSE {table}.{_q(c)} END"
            for c, branches in cases.items()
        ]
        if result.quarantined:
            names = ", ".join(
                f"CASE WHEN h.{_q(c)} IS NOT NULL THEN {_lit(RULE_PREFIX + c)} END"
                for c in result.quarantined
            )
            # The personal-data rule first: it is the row's `rule` in audit.quarantine.
            sets.append(f"_rules = list_concat(list_filter([{names}], x -> x IS NOT NULL), {table}._rules)")
        con.execute(
            f"UPDATE {table} SET {', '.join(sets)} FROM _pii_hits h WHERE {table}.source_row = h.source_row"
        )
    finally:
        con.execute("DROP TABLE IF EXISTS _pii_hits")
    return result
