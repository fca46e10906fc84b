"""The PostgreSQL warehouse target: mirror the raw zone into PostgreSQL and read the marts back.

Ingest always publishes into the DuckDB file (raw zone tables and the audit trail, one writer,
one transaction per delivery). With ``GRASSROOTS_DBT_TARGET=postgres`` the warehouse DAG first
mirrors ``raw.*`` into the same schema of the PostgreSQL warehouse, then dbt builds staging ►
marts there, and the marts suite and the report read PostgreSQL through DuckDB's postgres
extension. The mirror goes by ``load_id`` (a delivery's rows never change under one load id):
loads that are new are copied, loads that were withdrawn (a corrected file replacing a refused
one) are deleted, all in one PostgreSQL transaction, so a dropped connection leaves the previous
state and a rerun changes nothing. Reference tables (no load id) are rewritten when their
fingerprint (row count and row hash, kept in `raw._mirror_state`) changed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from grassroots.duckdb_ext import load

PG_ALIAS = "pgwh"


def warehouse_target() -> str:
    """`duckdb` (embedded default) or `postgres`: the dbt target the warehouse DAG builds."""
    return os.environ.get("GRASSROOTS_DBT_TARGET", "duckdb")


def pg_dsn() -> str:
    """libpq key/value DSN from the same variables as the dbt profile's `postgres` target."""
    parts = {
        "host": os.environ.get("GRASSROOTS_PG_HOST", "127.0.0.1"),
        "port": os.environ.get("GRASSROOTS_PG_PORT", "5432"),
        "user": os.environ.get("GRASSROOTS_PG_USER", "postgres"),
        "dbname": os.environ.get("GRASSROOTS_PG_DBNAME", "grassroots"),
        "password": os.environ.get("GRASSROOTS_PG_PASSWORD", ""),
        "connect_timeout": "10",
    }
    return " ".join(f"{k}='{_libpq_escape(v)}'" for k, v in parts.items() if v)


def describe() -> str:
    """The PostgreSQL warehouse for messages: user@host:port/dbname, never the password."""
    env = os.environ.get
    return (
        f"postgresql://{env('GRASSROOTS_PG_USER', 'postgres')}@{env('GRASSROOTS_PG_HOST', '127.0.0.1')}:"
        f"{env('GRASSROOTS_PG_PORT', '5432')}/{env('GRASSROOTS_PG_DBNAME', 'grassroots')}"
    )


def _libpq_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def attach(con: duckdb.DuckDBPyConnection, *, read_only: bool = False) -> None:
    """Attach the PostgreSQL warehouse to a DuckDB connection as `pgwh`."""
    load(con, "postgres_scanner")
    mode = ", READ_ONLY" if read_only else ""
    con.execute(f"ATTACH '{pg_dsn().replace(chr(39), chr(39) * 2)}' AS {PG_ALIAS} (TYPE postgres{mode})")


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
        [catalog, table],
    ).fetchall()


STATE_TABLE = "_mirror_state"  # in PostgreSQL's raw schema: fingerprint of each table mirrored whole


def mirror_raw(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Bring `raw.*` of the DuckDB warehouse (`con`) into PostgreSQL; returns per-table counts.

    One PostgreSQL transaction for all tables: either the whole mirror moves forward or none of it.
    Tables are never dropped while their shape is unchanged: dbt's staging views depend on them.
    """
    attach(con)
    local = con.execute("SELECT current_database()").fetchone()[0]
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = ? AND table_schema = 'raw' AND table_type = 'BASE TABLE' ORDER BY 1",
            [local],
        ).fetchall()
    ]
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PG_ALIAS}.raw")
    state = f"{PG_ALIAS}.raw.{STATE_TABLE}"
    con.execute(f"CREATE TABLE IF NOT EXISTS {state} (table_name VARCHAR PRIMARY KEY, fingerprint VARCHAR)")
    summary: dict[str, dict[str, int]] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for table in tables:
            summary[table] = _mirror_table(con, local, table, state)
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # the connection is gone (e.g. its backend was terminated): keep the original error
        raise
    finally:
        con.execute(f"DETACH {PG_ALIAS}")
    return summary


def _mirror_table(con: duckdb.DuckDBPyConnection, local: str, table: str, state: str) -> dict[str, int]:
    src, dst = f'"{local}".raw."{table}"', f'{PG_ALIAS}.raw."{table}"'
    cols = _columns(con, local, table)
    remote = _columns(con, PG_ALIAS, table)
    if [c[0] for c in cols] != [c[0] for c in remote]:
        # New table or changed shape: recreate it (CASCADE drops dependent staging views, which the
        # dbt stages that follow recreate).
        if remote:
            con.execute(f"CALL postgres_execute('{PG_ALIAS}', 'DROP TABLE raw.\"{table}\" CASCADE')")
        con.execute(f"CREATE TABLE {dst} AS SELECT * FROM {src}")
        con.execute(f"DELETE FROM {state} WHERE table_name = ?", [table])
        con.execute(f"INSERT INTO {state} VALUES (?, ?)", [table, _fingerprint(con, src)])
        return {
            "replaced": con.execute(f"SELECT count(*) FROM {src}").fetchone()[0],
            "inserted": 0,
            "deleted": 0,
        }
    if "load_id" in {c[0] for c in cols}:
        # A delivery's rows never change under its load id: move by load id.
        gone = con.execute(
            f"DELETE FROM {dst} WHERE load_id IN "
            f"(SELECT DISTINCT load_id FROM {dst} EXCEPT SELECT DISTINCT load_id FROM {src})"
        ).fetchone()[0]
        added = con.execute(
            f"INSERT INTO {dst} SELECT * FROM {src} WHERE load_id IN "
            f"(SELECT DISTINCT load_id FROM {src} EXCEPT SELECT DISTINCT load_id FROM {dst})"
        ).fetchone()[0]
        return {"replaced": 0, "inserted": added, "deleted": gone}
    # Reference tables: rewritten only when their content changed.
    fingerprint = _fingerprint(con, src)
    known = con.execute(f"SELECT fingerprint FROM {state} WHERE table_name = ?", [table]).fetchone()
    if known and known[0] == fingerprint:
        return {"replaced": 0, "inserted": 0, "deleted": 0}
    con.execute(f"DELETE FROM {dst}")
    n = con.execute(f"INSERT INTO {dst} SELECT * FROM {src}").fetchone()[0]
    con.execute(f"DELETE FROM {state} WHERE table_name = ?", [table])
    con.execute(f"INSERT INTO {state} VALUES (?, ?)", [table, fingerprint])
    return {"replaced": n, "inserted": 0, "deleted": 0}


def _fingerprint(con: duckdb.DuckDBPyConnection, src: str) -> str:
    """Row count and an order-independent hash of every row (computed locally, in DuckDB)."""
    n, h = con.execute(f"SELECT count(*), sum(hash(t)) FROM {src} AS t").fetchone()
    return f"{n}:{h}"


@contextmanager
def marts_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only DuckDB connection whose `marts.*` are those of the configured warehouse target."""
    if warehouse_target() != "postgres":
        from grassroots.warehouse import connect

        with connect(read_only=True) as con:
            yield con
        return
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        attach(con, read_only=True)
        con.execute(f"USE {PG_ALIAS}")
        yield con
    finally:
        con.close()
