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
    # r.csv's quarantined row: the audit agrees with itself (rows_quarantined = its quarantine rows).
    con.execute(
        "INSERT INTO audit.quarantine VALUES ('l2', 'staff_roster', DATE '2024-01-31', "
        "'staff_roster/2024-01-31/r.csv', 3, 'invalid_id_number', NULL, NULL)"
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
    # Two feeds never delivered: findings that say so, not failures.
    assert [u["finding"] for u in result["undelivered_feeds"]] == [
        "feed household_registration never delivered: its marts are empty",
        "feed resident_population never delivered: its marts are empty",
    ]
    assert result["audit_inconsistencies"] == []
    assert result["findings"] == 6 and again == result
    with connect(read_only=True) as con:
        rows = con.execute("SELECT run_id, findings, detail FROM audit.run_findings").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("run-1", 6)]
    assert json.loads(rows[0][2])["dbt_tests"][0]["model"] == "mart_workload"
    alerts = [r.getMessage() for r in caplog.records if "GRASSROOTS_ALERT" in r.getMessage()]
    assert len(alerts) == 2 and all('"event": "run_findings"' in a for a in alerts)

    # The next run reports only deliveries published after this one.
    assert run_findings("run-2")["deliveries"] == []


def _load(con, feed: str, day: str, status: str = "loaded", *, rows_q: int = 0, error: str | None = None):
    con.execute(
        "INSERT INTO audit.load_log (load_id, feed, delivery_date, source_file, file_sha256, status, "
        "rows_in, rows_loaded, rows_quarantined, error, started_at, finished_at) "
        "VALUES (?, ?, ?, ?, 'sha', ?, 10, 10, ?, ?, TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-01')",
        [f"{feed}-{day}-{status}", feed, day, f"{feed}/{day}/f.csv", status, rows_q, error],
    )


def test_clean_run_sends_no_alert(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    from grassroots.feeds import FEEDS

    with connect() as con:
        ensure_schemas(con)
        for feed in FEEDS:
            _load(con, feed, "2024-01-31")
    with caplog.at_level(logging.WARNING, logger="grassroots.alerts"):
        result = run_findings("clean")
    assert result["findings"] == 0
    assert not [r for r in caplog.records if "GRASSROOTS_ALERT" in r.getMessage()]


def test_undelivered_feeds_are_counted_up_to_the_run_day(data_dir: Path) -> None:
    with connect() as con:
        ensure_schemas(con)
        _load(con, "case_log", "2024-01-31")
        _load(con, "staff_roster", "2024-02-01")  # after the run's day: not delivered yet for it
        _load(con, "household_registration", "2024-01-31", "blocked", error="2 of 2 rows break rules")
        _load(con, "resident_population", "2024-01-30")
    result = run_findings("night-1", until=dt.date(2024, 1, 31))
    assert [u["finding"] for u in result["undelivered_feeds"]] == [
        "feed household_registration: no delivery loaded up to 2024-01-31; 1 file(s) blocked",
        "feed staff_roster never delivered up to 2024-01-31: its marts are empty",
    ]
    # A day later staff_roster counts as delivered.
    later = run_findings("night-2", until=dt.date(2024, 2, 1))
    assert [u["feed"] for u in later["undelivered_feeds"]] == ["household_registration"]


def test_audit_that_disagrees_with_itself_fails_after_recording(data_dir: Path) -> None:
    from grassroots.orchestration.findings import AuditInconsistent

    with connect() as con:
        ensure_schemas(con)
        # A loaded file claiming 2 quarantined rows with none in audit.quarantine.
        _load(con, "case_log", "2024-01-31", rows_q=2)
    with pytest.raises(
        AuditInconsistent,
        match=r"case_log/2024-01-31/f.csv \[loaded\]: rows_quarantined 2 differs from its 0 rows",
    ):
        run_findings("bad-audit")
    with connect(read_only=True) as con:
        detail = json.loads(
            con.execute("SELECT detail FROM audit.run_findings WHERE run_id = 'bad-audit'").fetchone()[0]
        )
    assert [(b["source_file"], b["rows_quarantined"]) for b in detail["audit_inconsistencies"]] == [
        ("case_log/2024-01-31/f.csv", 2)
    ]


def test_blocked_file_audited_before_the_fix_is_corrected_and_says_so(data_dir: Path) -> None:
    with connect() as con:
        ensure_schemas(con)
        _load(con, "case_log", "2024-01-31", "blocked", rows_q=10, error="blocked: 10 of 10 rows bad")
    result = run_findings("after-fix")
    assert result["audit_inconsistencies"] == []
    with connect(read_only=True) as con:
        rows_q, error = con.execute("SELECT rows_quarantined, error FROM audit.load_log").fetchone()
    assert rows_q == 0
    assert error.startswith("blocked: 10 of 10 rows bad [audit corrected: rows_quarantined was 10")
