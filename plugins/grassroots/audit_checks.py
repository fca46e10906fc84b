"""Checks that the audit agrees with itself, run on every warehouse run (report_findings).

For every delivered file (its latest audit record), `audit.load_log.rows_quarantined` equals its
rows in `audit.quarantine`. A blocked or rejected file is refused whole: both count 0, and its
`error` says why (its rows are `rows_in`, shown as `rows_refused` in `audit.delivery_status`).
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
       coalesce(q.rows, 0) AS rows_in_quarantine
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


def audit_inconsistencies(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Files whose rows_quarantined differs from their rows in audit.quarantine (or refused unexplained)."""
    cur = con.execute(INCONSISTENT_SQL)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
