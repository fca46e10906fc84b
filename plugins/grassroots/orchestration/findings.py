"""Warnings of a warehouse run, surfaced in the run itself rather than only in the logs.

A dbt test with severity `warn` that finds rows, or a Great Expectations expectation of severity
`warning` that fails, does not stop the pipeline. Auditors still need to see them where they look
at a run: the `report_findings` task returns them (its XCom, shown in the UI), records them in
`audit.run_findings`, and sends one `run_findings` alert through the failure-alert channels.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from grassroots.orchestration.common import send_alert
from grassroots.warehouse import connect, ensure_schemas

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


def _dicts(con, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def run_findings(run_id: str, *, dag_id: str = "grassroots_warehouse") -> dict:
    """Collect, record and alert this run's warnings; returns them (empty lists: a clean run)."""
    with connect() as con:
        ensure_schemas(con)
        detail = {
            "dbt_tests": _dicts(con, DBT_SQL, [run_id]),
            "marts_expectations": _dicts(con, MARTS_SQL, [run_id]),
            "deliveries": _dicts(con, DELIVERIES_SQL, [run_id]),
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
    return result
