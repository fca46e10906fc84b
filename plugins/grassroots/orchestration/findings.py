"""Warnings of a warehouse run, surfaced in the run itself rather than only in the logs.

A dbt test with severity `warn` that finds rows, or a Great Expectations expectation of severity
`warning` that fails, does not stop the pipeline. Auditors still need to see them where they look
at a run: the `report_findings` task returns them (its XCom, shown in the UI), records them in
`audit.run_findings`, and sends one `run_findings` alert through the failure-alert channels.

Also findings: files still refused (skipped by every later run until corrected or retried, with
the retry command), a feed with no delivery loaded up to the run's day ("feed X never delivered": the
warehouse still builds, on its empty raw table). And one check that is not a warning: the audit
must agree with itself (grassroots.audit_checks: quarantine counts, one live load per file, raw
row counts); a file that disagrees is recorded with the findings, then fails the task.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from datetime import datetime

from grassroots.orchestration.common import send_alert
from grassroots.warehouse import connect, ensure_schemas

log = logging.getLogger(__name__)

DBT_SQL = """
SELECT model, coalesce(test_name, name) AS test, column_name, status, failures, message
FROM audit.dbt_test_results
WHERE run_id = ? AND status IN ('warn', 'fail', 'error')
ORDER BY model, test
"""
MARTS_SQL = """
SELECT expectation, "column", severity, unexpected_count
FROM audit.validation_results
WHERE run_id = ? AND feed = 'marts' AND NOT success
ORDER BY expectation, "column"
"""
# Deliveries published since the previous run that reported findings (the first run: all of them).
DELIVERIES_SQL = """
SELECT l.feed, CAST(l.delivery_date AS VARCHAR) AS delivery_date, l.source_file, l.rows_quarantined,
       count(v.expectation) FILTER (WHERE NOT v.success) AS failed_expectations
FROM audit.load_log AS l
LEFT JOIN audit.validation_results AS v ON v.file = l.source_file AND v.feed = l.feed
WHERE l.status = 'loaded'
  AND l.finished_at > coalesce(
      (SELECT max(generated_at) FROM audit.run_findings WHERE run_id <> ?), TIMESTAMP '1970-01-01')
GROUP BY ALL
HAVING l.rows_quarantined > 0 OR count(v.expectation) FILTER (WHERE NOT v.success) > 0
ORDER BY 1, 2, 3
"""


# Feeds with no loaded delivery dated up to the run's day (all dates when the day is unknown).
UNDELIVERED_SQL = """
SELECT f.feed,
       count(l.source_file) AS files_refused,
       string_agg(DISTINCT l.status, ', ') AS refused_as
FROM (SELECT unnest(?::VARCHAR[]) AS feed) AS f
LEFT JOIN audit.load_log AS l
    ON l.feed = f.feed AND l.status IN ('rejected', 'blocked')
    AND (CAST(? AS DATE) IS NULL OR l.delivery_date <= CAST(? AS DATE))
WHERE NOT EXISTS (
    SELECT 1 FROM audit.load_log AS ok
    WHERE ok.feed = f.feed AND ok.status = 'loaded'
      AND (CAST(? AS DATE) IS NULL OR ok.delivery_date <= CAST(? AS DATE))
)
GROUP BY f.feed
ORDER BY f.feed
"""


# Files whose latest verdict is a refusal: later runs skip them until corrected or retried.
REFUSED_SQL = """
SELECT feed, CAST(delivery_date AS VARCHAR) AS delivery_date, source_file, status, error,
       'python -m grassroots.cli retry --feed ' || feed || ' --from ' || CAST(delivery_date AS VARCHAR)
       AS retry_with
FROM (
    SELECT *, row_number() OVER (
        PARTITION BY feed, source_file ORDER BY finished_at DESC NULLS LAST, started_at DESC NULLS LAST
    ) AS _n
    FROM audit.load_log
    WHERE status IN ('loaded', 'duplicate', 'rejected', 'blocked')
      AND (CAST(? AS DATE) IS NULL OR delivery_date <= CAST(? AS DATE))
) WHERE _n = 1 AND status IN ('rejected', 'blocked')
ORDER BY feed, delivery_date, source_file
"""


def _undelivered(con, until: dt.date | None) -> list[dict]:
    from grassroots.feeds import FEEDS

    rows = _dicts(con, UNDELIVERED_SQL, [list(FEEDS), until, until, until, until])
    for r in rows:
        up_to = f" up to {until}" if until else ""
        r["finding"] = (
            f"feed {r['feed']} never delivered{up_to}: its marts are empty"
            if not r["files_refused"]
            else f"feed {r['feed']}: no delivery loaded{up_to}; "
            f"{r['files_refused']} file(s) {r['refused_as']}"
        )
    return rows


def _dicts(con, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def run_findings(run_id: str, *, dag_id: str = "grassroots_warehouse", until: dt.date | None = None) -> dict:
    """Collect, record and alert this run's warnings; returns them (empty lists: a clean run).

    `until`: the run's day (Asia/Shanghai); feeds with nothing loaded up to it are findings.
    Raises AuditInconsistent (after recording and alerting) when the audit disagrees with itself.
    """
    from grassroots.audit_checks import audit_inconsistencies, correct_blocked_counts

    with connect() as con:
        ensure_schemas(con)
        corrected = correct_blocked_counts(con)
        if corrected:
            log.warning("audit: rows_quarantined of %d blocked file(s) corrected to 0", corrected)
        detail = {
            "dbt_tests": _dicts(con, DBT_SQL, [run_id]),
            "marts_expectations": _dicts(con, MARTS_SQL, [run_id]),
            "deliveries": _dicts(con, DELIVERIES_SQL, [run_id]),
            "undelivered_feeds": _undelivered(con, until),
            "refused_files": _dicts(con, REFUSED_SQL, [until, until]),
            "audit_inconsistencies": audit_inconsistencies(con),
        }
        count = sum(len(v) for v in detail.values())
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM audit.run_findings WHERE run_id = ?", [run_id])
        con.execute(
            "INSERT INTO audit.run_findings VALUES (?, ?, ?, ?, ?)",
            # Naive local time, as audit.load_log.finished_at which DELIVERIES_SQL compares it with.
            [run_id, dag_id, datetime.now(), count, json.dumps(detail, default=str)],
        )
        con.execute("COMMIT")
    result = {"run_id": run_id, "findings": count, **detail}
    if count:
        send_alert({"event": "run_findings", "dag_id": dag_id, **result}, level=logging.WARNING)
    if detail["audit_inconsistencies"]:
        bad = detail["audit_inconsistencies"]
        # Each row names its own problem (quarantine count, several live loads, raw count).
        raise AuditInconsistent(
            f"{len(bad)} file(s) whose audit disagrees with itself: "
            + "; ".join(f"{b['source_file']} [{b['status']}]: {b['problem']}" for b in bad[:20])
        )
    return result


class AuditInconsistent(RuntimeError):
    """The load audit disagrees with itself, the quarantine or raw: a defect, not a warning."""
