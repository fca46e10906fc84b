"""The audit DDL: idempotent, and audit.delivery_status tells auditors what happened and why."""

from __future__ import annotations

import datetime as dt

import duckdb

from grassroots.warehouse import AUDIT_DDL, ensure_schemas

T0 = dt.datetime(2024, 3, 5, 1, 0)


def _log(con, load_id, feed, day, file, status, rows_in, loaded, quarantined, error=None, minute=0):
    con.execute(
        "INSERT INTO audit.load_log VALUES (?, 'run', ?, ?, ?, 'sha', 'm', ?, ?, ?, ?, NULL, ?, ?, ?, NULL)",
        [
            load_id,
            feed,
            day,
            file,
            status,
            rows_in,
            loaded,
            quarantined,
            error,
            T0 + dt.timedelta(minutes=minute),
            T0 + dt.timedelta(minutes=minute, seconds=5),
        ],
    )


def _check(con, feed, day, file, expectation, column, severity, success, unexpected):
    con.execute(
        "INSERT INTO audit.validation_results VALUES ('run', ?, ?, ?, ?, ?, ?, ?, ?, 100, ?, ?, '')",
        [feed, day, file, feed, expectation, column, severity, success, unexpected, unexpected],
    )


def test_ddl_is_idempotent_and_keeps_data():
    con = duckdb.connect()
    ensure_schemas(con)
    _log(con, "a", "case_log", "2024-03-05", "f.csv", "loaded", 10, 10, 0)
    ensure_schemas(con)
    con.execute(AUDIT_DDL)
    assert con.execute("SELECT count(*) FROM audit.load_log").fetchone() == (1,)
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'audit'"
        ).fetchall()
    }
    assert {"load_log", "quarantine", "validation_results", "dbt_test_results", "delivery_status"} <= tables


def test_delivery_status():
    con = duckdb.connect()
    ensure_schemas(con)
    day, other = "2024-03-05", "2024-03-06"
    # Day 1: one clean file, one with quarantined rows and a warning, one duplicate, one rejected,
    # one blocked then corrected (same file name, later load): counts once, as loaded.
    _log(con, "a", "case_log", day, "a.csv", "loaded", 100, 100, 0)
    _check(con, "case_log", day, "a.csv", "expect_column_values_to_be_in_set", "channel", "critical", True, 0)
    _log(con, "b", "case_log", day, "b.csv", "loaded", 50, 48, 2)
    _check(
        con, "case_log", day, "b.csv", "expect_column_values_to_be_in_set", "category", "warning", False, 3
    )
    _check(con, "case_log", day, "b.csv", "expect_column_values_to_be_in_set", "channel", "critical", True, 2)
    _log(con, "c", "case_log", day, "c.csv", "duplicate", 0, 0, 0, "same content as a.csv")
    _log(con, "d", "case_log", day, "d.xlsx", "rejected", 0, 0, 0, "d.xlsx: missing column status")
    _log(con, "e1", "case_log", day, "e.csv", "blocked", 30, 0, 30, "critical expectations failed", minute=1)
    _log(con, "e2", "case_log", day, "e.csv", "loaded", 30, 30, 0, minute=9)
    # Day 2 of another feed: a blocked file.
    _log(
        con, "f", "staff_roster", other, "r.csv", "blocked", 20, 0, 20, "r.csv: critical expectations failed"
    )
    _check(
        con,
        "staff_roster",
        other,
        "r.csv",
        "expect_column_values_to_be_valid_chinese_id_number",
        "id_number",
        "critical",
        False,
        4,
    )
    # Marts results never show up as deliveries.
    _check(
        con,
        "marts",
        day,
        "marts.mart_staffing_mismatch",
        "expect_column_values_to_be_between",
        "staff_share",
        "critical",
        False,
        1,
    )

    rows = (
        con.execute("SELECT * FROM audit.delivery_status ORDER BY feed, delivery_date")
        .df()
        .to_dict("records")
    )
    assert [r["feed"] for r in rows] == ["case_log", "staff_roster"]
    cases, roster = rows
    assert (
        cases["files"],
        cases["files_loaded"],
        cases["files_duplicate"],
        cases["files_rejected"],
        cases["files_blocked"],
    ) == (5, 3, 1, 1, 0)
    assert (cases["rows_in"], cases["rows_loaded"], cases["rows_quarantined"], cases["rows_refused"]) == (
        180,
        178,
        2,
        0,
    )
    assert (cases["warnings"], cases["critical_failed"], cases["expectations_checked"]) == (1, 0, 3)
    assert cases["status"] == "refused"  # a rejected file
    assert "d.xlsx [rejected]: d.xlsx: missing column status" in cases["why"]
    assert "c.csv [duplicate]" in cases["why"] and "e.csv" not in cases["why"]
    assert cases["failed_expectations"] == (
        "b.csv: warning expect_column_values_to_be_in_set(category): 3 unexpected"
    )
    assert (roster["files_blocked"], roster["rows_refused"], roster["critical_failed"]) == (1, 20, 1)
    assert roster["status"] == "refused"
    assert "r.csv [blocked]" in roster["why"]
    assert "id_number" in roster["failed_expectations"]
