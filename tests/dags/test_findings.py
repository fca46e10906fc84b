"""Warnings of a warehouse run are returned, recorded once per run and alerted."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from grassroots.orchestration.findings import run_findings
from grassroots.warehouse import connect, ensure_schemas


def _seed(con, run_id: str) -> None:
    now = dt.datetime(2024, 2, 1, 3, 0)
    con.execute(
        "INSERT INTO audit.dbt_test_results (run_id, invocation_id, unique_id, name, test_name, model, "
        "column_name, severity, status, failures) VALUES "
        "(?, 'i1', 'test.a', 'warn_a', 'accepted_range', 'mart_workload', 'cases_per_staff', 'warn', "
        "'warn', 3),"
        "(?, 'i1', 'test.b', 'pass_b', 'not_null', 'dim_unit', 'unit_code', 'error', 'pass', 0),"
        "('other-run', 'i0', 'test.c', 'old', 'not_null', 'dim_unit', 'unit_code', 'warn', 'warn', 1)",
        [run_id, run_id],
    )
    con.execute(
        'INSERT INTO audit.validation_results (run_id, feed, file, suite, expectation, "column", severity, '
        "success, unexpected_count) VALUES "
        "(?, 'marts', 'marts.mart_staffing_mismatch', 'marts', 'expect_column_values_to_be_between', "
        "'staff_per_10k_resident', 'warning', false, 2),"
        "(?, 'marts', 'marts.mart_staffing_mismatch', 'marts', 'expect_column_values_to_not_be_null', "
        "'unit_code', 'critical', true, 0),"
        "('ingest-run', 'case_log', 'case_log/2024-01-31/a.csv', 'case_log', 'expect_x', 'status', "
        "'warning', false, 5)",
        [run_id, run_id],
    )
    con.execute(
        "INSERT INTO audit.load_log (load_id, feed, delivery_date, source_file, file_sha256, status, "
        "rows_in, rows_loaded, rows_quarantined, started_at, finished_at) VALUES "
        "('l1', 'case_log', DATE '2024-01-31', 'case_log/2024-01-31/a.csv', 'x', 'loaded', 10, 10, 0, ?, ?),"
        "('l2', 'staff_roster', DATE '2024-01-31', 'staff_roster/2024-01-31/r.csv', 'y', 'loaded', "
        "5, 4, 1, ?, ?),"
        "('l3', 'staff_roster', DATE '2024-01-31', 'staff_roster/2024-01-31/s.csv', 'z', 'loaded', "
        "5, 5, 0, ?, ?)",
        [now, now] * 3,
    )


def test_findings_are_returned_recorded_and_alerted(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with connect() as con:
        ensure_schemas(con)
        _seed(con, "run-1")
    with caplog.at_level(logging.WARNING, logger="grassroots.alerts"):
        result = run_findings("run-1")
        again = run_findings("run-1")  # a retry of the task: same answer, still one row

    assert [(d["model"], d["test"], d["failures"]) for d in result["dbt_tests"]] == [
        ("mart_workload", "accepted_range", 3)
    ]
    assert [(e["column"], e["unexpected_count"]) for e in result["marts_expectations"]] == [
        ("staff_per_10k_resident", 2)
    ]
    # Deliveries with quarantined rows or failed (warning) expectations; the clean one is left out.
    deliveries = result["deliveries"]
    assert [(d["source_file"], d["rows_quarantined"], d["failed_expectations"]) for d in deliveries] == [
        ("case_log/2024-01-31/a.csv", 0, 1),
        ("staff_roster/2024-01-31/r.csv", 1, 0),
    ]
    assert result["findings"] == 4 and again == result
    with connect(read_only=True) as con:
        rows = con.execute("SELECT run_id, findings, detail FROM audit.run_findings").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("run-1", 4)]
    assert json.loads(rows[0][2])["dbt_tests"][0]["model"] == "mart_workload"
    alerts = [r.getMessage() for r in caplog.records if "GRASSROOTS_ALERT" in r.getMessage()]
    assert len(alerts) == 2 and all('"event": "run_findings"' in a for a in alerts)

    # The next run reports only deliveries published after this one.
    assert run_findings("run-2")["deliveries"] == []


def test_clean_run_sends_no_alert(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="grassroots.alerts"):
        result = run_findings("clean")
    assert result["findings"] == 0
    assert not [r for r in caplog.records if "GRASSROOTS_ALERT" in r.getMessage()]
