"""The embedded DuckDB warehouse: connections, schemas and the audit tables.

DuckDB allows one writer per file. Airflow tasks that write are serialised by a pool; as a second
line of defence `connect` waits for the file lock for a bounded time and then fails with a clear
message rather than corrupting anything.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from grassroots.config import settings

SCHEMAS = ("raw", "audit", "staging", "intermediate", "marts")

AUDIT_DDL = """
CREATE TABLE IF NOT EXISTS audit.load_log (
    load_id VARCHAR NOT NULL,
    run_id VARCHAR,
    feed VARCHAR NOT NULL,
    delivery_date DATE NOT NULL,
    source_file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    mapping VARCHAR,
    status VARCHAR NOT NULL,          -- loaded | duplicate | rejected | blocked
    rows_in BIGINT,
    rows_loaded BIGINT,
    rows_quarantined BIGINT,
    supersedes_load_ids VARCHAR,      -- restatement: the earlier loads this one replaces
    error VARCHAR,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit.quarantine (
    load_id VARCHAR NOT NULL,
    feed VARCHAR NOT NULL,
    delivery_date DATE NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    rule VARCHAR NOT NULL,
    detail VARCHAR,
    sample VARCHAR                    -- the row as JSON, personal fields pseudonymised or dropped
);
CREATE TABLE IF NOT EXISTS audit.validation_results (
    run_id VARCHAR,
    feed VARCHAR,
    delivery_date DATE,
    file VARCHAR,
    suite VARCHAR,
    expectation VARCHAR,
    "column" VARCHAR,
    severity VARCHAR,
    success BOOLEAN,
    element_count BIGINT,
    unexpected_count BIGINT,
    unexpected_percent DOUBLE,
    unexpected_sample VARCHAR
);
"""


def warehouse_path() -> Path:
    return settings().warehouse_path


@contextmanager
def connect(
    path: Path | None = None, *, read_only: bool = False, lock_timeout_s: float = 120.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, waiting up to `lock_timeout_s` for another writer to finish."""
    path = path or warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout_s
    while True:
        try:
            con = duckdb.connect(
                str(path),
                read_only=read_only,
                config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
            )
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"warehouse {path} is locked by another writer and stayed locked for "
                    f"{lock_timeout_s:.0f}s; nothing was changed: {exc}"
                ) from exc
            time.sleep(1.0)
    try:
        yield con
    finally:
        con.close()


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(AUDIT_DDL)
