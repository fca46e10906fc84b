"""The embedded DuckDB warehouse: connections, schemas and the audit tables.

DuckDB allows one writer per file. Airflow tasks that write are serialised by a pool; as a second
line of defence `connect` waits for the file lock for a bounded time and then fails with a clear
message rather than corrupting anything.
"""

from __future__ import annotations

import os
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
    status VARCHAR NOT NULL,          -- loaded | duplicate | rejected | blocked | superseded
                                      -- (superseded: replaced by new content at the same path)
    rows_in BIGINT,
    rows_loaded BIGINT,
    rows_quarantined BIGINT,
    supersedes_load_ids VARCHAR,      -- restatement: the earlier loads this one replaces
    error VARCHAR,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    mapping_sha256 VARCHAR            -- sha256 of the mapping file the delivery was read with
);
-- Warehouses created before the column: added in place (the view below reads load_log.*).
ALTER TABLE audit.load_log ADD COLUMN IF NOT EXISTS mapping_sha256 VARCHAR;
-- Refused files offered again (grassroots.retry): who asked, for which files, with which mapping.
CREATE TABLE IF NOT EXISTS audit.retries (
    retry_id VARCHAR NOT NULL,
    requested_by VARCHAR NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    reason VARCHAR,
    feed VARCHAR NOT NULL,
    date_from DATE NOT NULL,
    date_to DATE NOT NULL,
    source_file VARCHAR NOT NULL,
    file_sha256 VARCHAR,
    previous_status VARCHAR,          -- rejected | blocked
    new_status VARCHAR,               -- loaded | rejected | blocked | duplicate | missing
    load_id VARCHAR,
    mapping VARCHAR,
    mapping_sha256 VARCHAR,
    error VARCHAR
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
-- dbt test results, one row per test node of a dbt invocation (grassroots.dbt_results).
CREATE TABLE IF NOT EXISTS audit.dbt_test_results (
    run_id VARCHAR,                   -- the Airflow run (or 'manual')
    invocation_id VARCHAR NOT NULL,   -- dbt's invocation id (run_results.json metadata)
    unique_id VARCHAR NOT NULL,       -- e.g. test.grassroots.not_null_dim_unit_unit_code.1a2b3c
    resource_type VARCHAR,            -- test | unit_test
    name VARCHAR,
    test_name VARCHAR,                -- generic test (not_null, accepted_range, ...) or null
    model VARCHAR,                    -- the model (or source, seed) tested
    column_name VARCHAR,              -- the column tested, null for table-level tests
    severity VARCHAR,                 -- error | warn
    status VARCHAR,                   -- pass | fail | warn | error | skipped
    failures BIGINT,                  -- failing rows (null when the test did not run)
    message VARCHAR,
    execution_time DOUBLE,            -- seconds
    generated_at TIMESTAMP,           -- when dbt wrote run_results.json (UTC)
    loaded_at TIMESTAMP
);
-- Warnings of each warehouse run (grassroots.orchestration.findings), one row per run.
CREATE TABLE IF NOT EXISTS audit.run_findings (
    run_id VARCHAR NOT NULL,
    dag_id VARCHAR,
    generated_at TIMESTAMP NOT NULL,
    findings INTEGER NOT NULL,
    detail VARCHAR                    -- JSON: dbt_tests, marts_expectations, deliveries
);
-- Per feed and delivery date: what was delivered, loaded, quarantined or refused, and why. Each
-- delivered file counts once, in its latest state (a corrected file replaces a refused one; a load
-- superseded by new content at the same path is history, never the file's state).
CREATE OR REPLACE VIEW audit.delivery_status AS
WITH latest AS (
    SELECT * FROM (
        SELECT
            *,
            row_number() OVER (
                PARTITION BY feed, source_file
                ORDER BY finished_at DESC NULLS LAST, started_at DESC NULLS LAST, load_id
            ) AS _n
        FROM audit.load_log
        WHERE status <> 'superseded'
    ) AS ranked
    WHERE _n = 1
),
checks AS (
    SELECT
        feed,
        delivery_date,
        file,
        count(*) AS expectations,
        count(*) FILTER (WHERE NOT success AND severity = 'critical') AS critical_failed,
        count(*) FILTER (WHERE NOT success AND severity <> 'critical') AS warnings,
        string_agg(
            CASE WHEN NOT success THEN
                severity || ' ' || expectation
                || coalesce('(' || "column" || ')', '')
                || coalesce(': ' || CAST(unexpected_count AS VARCHAR) || ' unexpected', '')
            END,
            '; ' ORDER BY severity, expectation, "column"
        ) AS failed_expectations
    FROM audit.validation_results
    GROUP BY feed, delivery_date, file
),
files AS (
    SELECT
        latest.*,
        coalesce(checks.expectations, 0) AS expectations,
        coalesce(checks.critical_failed, 0) AS critical_failed,
        coalesce(checks.warnings, 0) AS warnings,
        checks.failed_expectations
    FROM latest
    LEFT JOIN checks
        ON checks.feed = latest.feed
        AND checks.delivery_date = latest.delivery_date
        AND checks.file = latest.source_file
)
SELECT
    feed,
    delivery_date,
    count(*) AS files,
    count(*) FILTER (WHERE status = 'loaded') AS files_loaded,
    count(*) FILTER (WHERE status = 'duplicate') AS files_duplicate,
    count(*) FILTER (WHERE status = 'blocked') AS files_blocked,
    count(*) FILTER (WHERE status = 'rejected') AS files_rejected,
    coalesce(sum(rows_in), 0) AS rows_in,
    coalesce(sum(rows_loaded) FILTER (WHERE status = 'loaded'), 0) AS rows_loaded,
    coalesce(sum(rows_quarantined) FILTER (WHERE status = 'loaded'), 0) AS rows_quarantined,
    coalesce(sum(rows_in) FILTER (WHERE status IN ('blocked', 'rejected')), 0) AS rows_refused,
    coalesce(sum(expectations), 0) AS expectations_checked,
    coalesce(sum(critical_failed), 0) AS critical_failed,
    coalesce(sum(warnings), 0) AS warnings,
    CASE
        WHEN count(*) FILTER (WHERE status IN ('blocked', 'rejected')) > 0 THEN 'refused'
        WHEN coalesce(sum(rows_quarantined) FILTER (WHERE status = 'loaded'), 0) > 0
            OR coalesce(sum(warnings), 0) > 0 THEN 'loaded_with_findings'
        ELSE 'loaded'
    END AS status,
    string_agg(
        CASE WHEN status IN ('blocked', 'rejected', 'duplicate') THEN
            source_file || ' [' || status || ']: ' || coalesce(error, '')
        END,
        ' | ' ORDER BY source_file
    ) AS why,
    string_agg(
        CASE WHEN failed_expectations IS NOT NULL THEN
            source_file || ': ' || failed_expectations
        END,
        ' | ' ORDER BY source_file
    ) AS failed_expectations,
    max(finished_at) AS last_finished_at
FROM files
GROUP BY feed, delivery_date;
"""


def warehouse_path() -> Path:
    return settings().warehouse_path


def duckdb_config() -> dict[str, object]:
    """Settings of every DuckDB connection the platform opens (the dbt profile sets the same).

    memory_limit: DuckDB's default is 80 % of the machine's memory; the platform keeps each stage
    under 6 GB of RSS (issue #8) and lets DuckDB spill to disk beyond the limit instead.
    """
    return {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": os.environ.get("GRASSROOTS_DUCKDB_MEMORY_LIMIT", "4GB"),
    }


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
                config=duckdb_config(),
            )
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"warehouse {path} is locked by another writer and stayed locked for "
                    f"{lock_timeout_s:.0f}s; nothing was changed: {exc}"
                ) from exc
            time.sleep(0.2)
    try:
        yield con
    finally:
        con.close()


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(AUDIT_DDL)


def raw_table_ddl(feed) -> str:
    """`raw.<feed>` with the columns grassroots.feeds defines (pseudonymised, with lineage)."""
    cols = ", ".join(f'"{n}" {t}' for n, t in feed.raw_columns)
    return f"CREATE TABLE IF NOT EXISTS raw.{feed.name} ({cols})"


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create every missing `raw.<feed>` table, empty, so dbt builds before a feed's first delivery.

    Returns the feeds whose table was created now (nothing was loaded into them yet).
    """
    from grassroots.feeds import FEEDS, get_feed

    ensure_schemas(con)
    existing = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = 'raw'"
        ).fetchall()
    }
    created = []
    for name in FEEDS:
        if name not in existing:
            con.execute(raw_table_ddl(get_feed(name)))
            created.append(name)
    return created
