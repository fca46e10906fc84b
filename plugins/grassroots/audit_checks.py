"""Checks that the audit agrees with itself, run on every warehouse run (report_findings).

For every delivered file (its latest audit record), `audit.load_log.rows_quarantined` equals its
rows in `audit.quarantine`. A blocked or rejected file is refused whole: both count 0, and its
`error` says why (its rows are `rows_in`, shown as `rows_refused` in `audit.delivery_status`).

One file identity (feed, delivery date, path) has at most one live load: new content at the same
path marks the earlier load `superseded` (grassroots.ingest), and every live load's
`rows_loaded` equals its rows in `raw.<feed>`.
"""

from __future__ import annotations

import duckdb

# The latest record of each file, as audit.delivery_status counts them (an earlier load of the same
# path was replaced together with its quarantined rows).
INCONSISTENT_SQL = """
WITH latest AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (
            PARTITION BY feed, source_file
            ORDER BY finished_at DESC NULLS LAST, started_at DESC NULLS LAST, load_id
        ) AS _n
        FROM audit.load_log
        WHERE status IN ('loaded', 'duplicate', 'rejected', 'blocked')
    ) WHERE _n = 1
),
quarantined AS (
    SELECT load_id, count(*) AS rows FROM audit.quarantine GROUP BY load_id
)
SELECT l.feed, l.source_file, l.load_id, l.status,
       coalesce(l.rows_quarantined, 0) AS rows_quarantined,
       coalesce(q.rows, 0) AS rows_in_quarantine,
       CASE WHEN coalesce(l.rows_quarantined, 0) <> coalesce(q.rows, 0)
            THEN 'rows_quarantined ' || CAST(coalesce(l.rows_quarantined, 0) AS VARCHAR)
                 || ' differs from its ' || CAST(coalesce(q.rows, 0) AS VARCHAR)
                 || ' rows in audit.quarantine'
            ELSE 'refused without a reason' END AS problem
FROM latest AS l
LEFT JOIN quarantined AS q USING (load_id)
WHERE coalesce(l.rows_quarantined, 0) <> coalesce(q.rows, 0)
   OR (l.status IN ('blocked', 'rejected') AND l.error IS NULL)
ORDER BY l.feed, l.source_file
"""

# Blocked files audited before the fix counted their whole file as quarantined, with no rows in
# audit.quarantine. Their count is corrected, and the record says so.
CORRECT_BLOCKED_SQL = """
UPDATE audit.load_log AS l
SET error = coalesce(l.error, '') || ' [audit corrected: rows_quarantined was '
            || CAST(l.rows_quarantined AS VARCHAR) || '; a blocked file is refused whole, not quarantined]',
    rows_quarantined = 0
WHERE l.status = 'blocked' AND l.rows_quarantined > 0
  AND NOT EXISTS (SELECT 1 FROM audit.quarantine AS q WHERE q.load_id = l.load_id)
"""


def correct_blocked_counts(con: duckdb.DuckDBPyConnection) -> int:
    """Correct blocked files audited with rows_quarantined = rows_in; returns how many."""
    before = con.execute(
        "SELECT count(*) FROM audit.load_log AS l WHERE status = 'blocked' AND rows_quarantined > 0 "
        "AND NOT EXISTS (SELECT 1 FROM audit.quarantine AS q WHERE q.load_id = l.load_id)"
    ).fetchone()[0]
    if before:
        con.execute(CORRECT_BLOCKED_SQL)
    return before


# Every live load but the latest of a file identity: a path loaded twice without the first being
# marked superseded still claims rows that the second load replaced.
SEVERAL_LIVE_SQL = """
WITH quarantined AS (
    SELECT load_id, count(*) AS rows FROM audit.quarantine GROUP BY load_id
)
SELECT l.feed, l.source_file, l.load_id, l.status,
       coalesce(l.rows_quarantined, 0) AS rows_quarantined,
       coalesce(q.rows, 0) AS rows_in_quarantine,
       'several live loads of one file (feed, delivery date, path): not marked superseded' AS problem
FROM (
    SELECT *, row_number() OVER (
        PARTITION BY feed, delivery_date, source_file
        ORDER BY finished_at DESC NULLS LAST, started_at DESC NULLS LAST, load_id
    ) AS _n
    FROM audit.load_log
    WHERE status = 'loaded'
) AS l
LEFT JOIN quarantined AS q USING (load_id)
WHERE l._n > 1
ORDER BY l.feed, l.source_file, l.load_id
"""

# Live loads of one feed whose rows_loaded differs from their rows in raw.<feed>, and raw rows of a
# load that is not live (its audit row was superseded, or there is none).
RAW_MISMATCH_SQL = """
WITH live AS (
    SELECT feed, source_file, load_id, status, rows_loaded, rows_quarantined FROM audit.load_log
    WHERE feed = $feed AND status = 'loaded'
),
raw_rows AS (SELECT load_id, count(*) AS n FROM raw."{feed}" GROUP BY load_id),
quarantined AS (SELECT load_id, count(*) AS rows FROM audit.quarantine GROUP BY load_id)
SELECT $feed AS feed, l.source_file, load_id, coalesce(l.status, 'not live') AS status,
       coalesce(l.rows_quarantined, 0) AS rows_quarantined, coalesce(q.rows, 0) AS rows_in_quarantine,
       'rows_loaded ' || CAST(coalesce(l.rows_loaded, 0) AS VARCHAR) || ' differs from the load''s '
       || CAST(coalesce(r.n, 0) AS VARCHAR) || ' rows in raw' AS problem
FROM live AS l
FULL OUTER JOIN raw_rows AS r USING (load_id)
LEFT JOIN quarantined AS q USING (load_id)
WHERE coalesce(l.rows_loaded, 0) <> coalesce(r.n, 0)
ORDER BY 2, 3
"""


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def raw_count_mismatches(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Live loads whose rows_loaded differs from their rows in raw.<feed> (a load claiming rows
    that left raw), and raw rows of a load the audit does not list as live."""
    raw_tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = 'raw'"
        ).fetchall()
    }
    feeds = [r[0] for r in con.execute("SELECT DISTINCT feed FROM audit.load_log ORDER BY 1").fetchall()]
    out: list[dict] = []
    for feed in (f for f in feeds if f in raw_tables):  # a feed name from raw's own table list
        out += _dicts(con.execute(RAW_MISMATCH_SQL.replace("{feed}", feed), {"feed": feed}))
    return out


def audit_inconsistencies(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Files whose audit disagrees with itself: rows_quarantined differs from their rows in
    audit.quarantine (or refused unexplained), several live loads of one path, or a live load whose
    rows_loaded differs from its rows in raw. Each with the `problem` in words."""
    return (
        _dicts(con.execute(INCONSISTENT_SQL))
        + _dicts(con.execute(SEVERAL_LIVE_SQL))
        + raw_count_mismatches(con)
    )
