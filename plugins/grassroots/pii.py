"""Pseudonymisation at the ingest boundary (DESIGN §3).

Identifiers that must still join (ID number, phone) become HMAC-SHA256 pseudonyms computed inside
DuckDB queries: normalised in SQL, then hashed a whole column chunk at a time by the compiled
`grassroots.hmac_batch` (registered on the connection as the function `grassroots_hmac`), so the
clear values never pass through Python row by row. The key
comes from the environment (`GRASSROOTS_PII_KEY`) or an Airflow connection; only the demo may use
the fixed demo key, and it says so loudly.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import sys

log = logging.getLogger(__name__)

DEMO_KEY = b"grassroots-demo-key-NOT-SECRET-do-not-use-in-production"
AIRFLOW_CONN_ID = "grassroots_pii_key"


class MissingPiiKey(RuntimeError):
    pass


def demo_mode() -> bool:
    return os.environ.get("GRASSROOTS_DEMO", "").lower() in {"1", "true", "yes"}


def _key_from_airflow() -> str | None:
    # Only inside Airflow (its task runner has imported it already, or set the task context):
    # importing Airflow just to find no connection costs seconds in every non-Airflow run.
    if "airflow" not in sys.modules and not os.environ.get("AIRFLOW_CTX_DAG_ID"):
        return None
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        return None
    try:
        return BaseHook.get_connection(AIRFLOW_CONN_ID).password or None
    except Exception:  # noqa: BLE001 - connection absent means "no key here"
        return None


def pii_key() -> bytes:
    """Return the HMAC key, or refuse to run (outside demo mode) when none is configured."""
    key = os.environ.get("GRASSROOTS_PII_KEY") or _key_from_airflow()
    if key:
        if len(key) < 16:
            raise MissingPiiKey(
                "GRASSROOTS_PII_KEY is shorter than 16 characters; use a random 32+ byte secret"
            )
        return key.encode()
    if demo_mode():
        log.warning(
            "DEMO MODE: personal identifiers are pseudonymised with the PUBLIC demo key. "
            "Never use demo mode for real data: set GRASSROOTS_PII_KEY instead."
        )
        return DEMO_KEY
    raise MissingPiiKey(
        "No pseudonymisation key: set the environment variable GRASSROOTS_PII_KEY (or the Airflow "
        f"connection '{AIRFLOW_CONN_ID}', password field) to a random secret of 32+ bytes. "
        "Only the demo (GRASSROOTS_DEMO=1) may run without one."
    )


# Normalisation before hashing, identical in SQL and Python: strip Unicode whitespace at both ends
# (what Python's str.strip() strips, including the ideographic space U+3000 common in Chinese
# exports) and upper-case ASCII letters only (a check digit 'x' becomes 'X'; Unicode case rules
# differ between DuckDB and Python, e.g. for 'ß', so other letters are left as they are).
WHITESPACE = "".join(chr(c) for c in (*range(9, 14), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680)) + "".join(
    chr(c) for c in (*range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
)
_LOWER, _UPPER = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_UPPER = str.maketrans(_LOWER, _UPPER)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def normalise_sql(column: str) -> str:
    """Canonical form before hashing, so ' 13800138000' and '13800138000' join.

    Values made only of digits and upper-case ASCII letters (nearly every phone and ID number) are
    already canonical: they skip the Unicode trim and the translation, which cost 25 times more than
    the regular-expression test (bench/README.md, pseudonymisation).
    """
    text = f"CAST({column} AS VARCHAR)"
    slow = f"nullif(translate(trim({text}, {_sql_text(WHITESPACE)}), '{_LOWER}', '{_UPPER}'), '')"
    return f"(CASE WHEN regexp_full_match({text}, '[0-9A-Z]+') THEN {text} ELSE {slow} END)"


def normalise_py(value: str) -> str:
    return value.strip(WHITESPACE).translate(_ASCII_UPPER)


def hmac_sql(column: str) -> str:
    """A DuckDB expression computing hex HMAC-SHA256 of the normalised column (NULL stays NULL).

    Needs `set_hmac_key` on the connection first (the key stays in the registered function, out
    of the SQL text and of DuckDB's settings).
    """
    return f"{HMAC_FUNCTION}({normalise_sql(column)})"


HMAC_FUNCTION = "grassroots_hmac"
# id(connection) -> [key midstates] read by that connection's registered function. A key change on
# a connection updates the cell: DuckDB does not always let a function be dropped and registered
# again on a connection that has used it ("already exists").
_KEY_CELLS: dict[int, list] = {}


def set_hmac_key(con, key: bytes) -> None:
    """Make `hmac_sql` expressions usable on this DuckDB connection (registers `grassroots_hmac`)."""
    import duckdb

    from grassroots.hmac_batch import hmac_hex_array, midstates

    states = midstates(key)
    cell = _KEY_CELLS.get(id(con))
    if cell is not None:
        try:
            con.execute(f"SELECT {HMAC_FUNCTION}(NULL)")
            cell[0] = states
            return
        except duckdb.CatalogException:
            pass  # another connection that happens to have the same id: register below
    cell = [states]
    con.create_function(
        HMAC_FUNCTION,
        lambda values: hmac_hex_array(values, cell[0]),
        [duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("VARCHAR"),
        type="arrow",
        null_handling="special",
        side_effects=False,
    )
    _KEY_CELLS[id(con)] = cell


def pseudonymise_columns(con, query: str, columns: list[str], key: bytes):
    """`source_row` and `<column>_hash` for each column of the rows of `query` (which selects
    `source_row` and the columns in clear), as an Arrow table.

    The ingest's path for whole deliveries: DuckDB normalises, then each column is hashed at once
    on both cores (`hmac_batch`), instead of one 2,048-row vector at a time through the
    single-threaded `grassroots_hmac` function.
    """
    import pyarrow as pa

    from grassroots.hmac_batch import hmac_hex_array, midstates

    def q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    states = midstates(key)
    normalised = ", ".join(f"{normalise_sql(q(c))} AS {q(c)}" for c in columns)
    clear = con.execute(f"SELECT source_row, {normalised} FROM ({query})").to_arrow_table()
    hashed = {f"{c}_hash": hmac_hex_array(clear[c], states) for c in columns}
    return pa.table({"source_row": clear["source_row"], **hashed})


def hmac_py(key: bytes, value: str) -> str | None:
    """Reference implementation (tests, and single values such as a search by ID number).

    Same result as `hmac_sql`, including None for a value that is blank once normalised.
    """
    norm = normalise_py(value)
    return hmac.new(key, norm.encode(), hashlib.sha256).hexdigest() if norm else None
