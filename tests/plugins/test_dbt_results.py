"""dbt run_results.json → audit.dbt_test_results."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from airflow.sdk.exceptions import AirflowFailException

from grassroots import dbt_results

INVOCATION = "c1a707b9-5cb7-45cd-a158-77b52b2a66cd"


def _result(unique_id, status, failures, message=None, seconds=0.1):
    return {
        "status": status,
        "timing": [],
        "thread_id": "Thread-1",
        "execution_time": seconds,
        "adapter_response": {},
        "message": message,
        "failures": failures,
        "unique_id": unique_id,
        "compiled": True,
        "relation_name": None,
    }


NOT_NULL = "test.grassroots.not_null_dim_unit_unit_code.1a2b3c4d5e"
UNIQUE_COMBO = "test.grassroots.unique_combination_mart_staffing_mismatch_unit_code__month.9f8e7d6c5b"
RANGE = "test.grassroots.accepted_range_mart_staffing_mismatch_staff_share__1__0.0a0b0c0d0e"
SOURCE_TEST = "test.grassroots.source_not_null_raw_case_log_case_id.abcdef0123"
UNIT_TEST = "unit_test.grassroots.mart_staffing_mismatch.dissimilarity_indices_and_reallocation_plan"

RUN_RESULTS = {
    "metadata": {
        "dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
        "dbt_version": "1.11.16",
        "generated_at": "2026-11-27T01:30:14.705944Z",
        "invocation_id": INVOCATION,
        "env": {},
    },
    "results": [
        _result("model.grassroots.dim_unit", "success", None, "OK"),
        _result(NOT_NULL, "pass", 0),
        _result(UNIQUE_COMBO, "fail", 3, "Got 3 results, configured to fail if != 0", 0.25),
        _result(RANGE, "warn", 2, "Got 2 results, configured to warn if != 0"),
        _result(SOURCE_TEST, "error", None, "Runtime Error: relation does not exist"),
        _result(UNIT_TEST, "pass", 0),
        _result("seed.grassroots.case_categories", "success", None),
    ],
    "elapsed_time": 3.2,
    "args": {"which": "build"},
}


def _test_node(name, test_name, attached, column=None, kwargs=None, severity="ERROR"):
    return {
        "resource_type": "test",
        "name": name,
        "test_metadata": {"name": test_name, "kwargs": kwargs or {}},
        "column_name": column,
        "attached_node": attached,
        "depends_on": {"nodes": [attached] if attached else []},
        "config": {"severity": severity},
    }


MANIFEST = {
    "metadata": {"invocation_id": INVOCATION},
    "nodes": {
        NOT_NULL: _test_node(
            "not_null_dim_unit_unit_code", "not_null", "model.grassroots.dim_unit", "unit_code"
        ),
        UNIQUE_COMBO: _test_node(
            "unique_combination_mart_staffing_mismatch_unit_code__month",
            "unique_combination",
            "model.grassroots.mart_staffing_mismatch",
            kwargs={"combination_of_columns": ["unit_code", "month"]},
        ),
        RANGE: _test_node(
            "accepted_range_mart_staffing_mismatch_staff_share__1__0",
            "accepted_range",
            "model.grassroots.mart_staffing_mismatch",
            "staff_share",
            severity="warn",
        ),
        SOURCE_TEST: {
            **_test_node("source_not_null_raw_case_log_case_id", "not_null", None, "case_id"),
            "depends_on": {"nodes": ["source.grassroots.raw.case_log"]},
        },
    },
    "unit_tests": {
        UNIT_TEST: {
            "resource_type": "unit_test",
            "name": "dissimilarity_indices_and_reallocation_plan",
            "model": "mart_staffing_mismatch",
        }
    },
}


@pytest.fixture()
def target(tmp_path) -> Path:
    (tmp_path / "run_results.json").write_text(json.dumps(RUN_RESULTS))
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    return tmp_path


def _rows(con):
    return {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT unique_id, run_id, invocation_id, resource_type, name, test_name, model, "
            "column_name, severity, status, failures, message, execution_time, generated_at "
            "FROM audit.dbt_test_results"
        ).fetchall()
    }


def test_load_run_results_with_manifest(target):
    con = duckdb.connect()
    n = dbt_results.load_run_results(target / "run_results.json", target / "manifest.json", con, "run-1")
    assert n == 5  # tests and unit tests only, not models or seeds
    rows = _rows(con)
    generated = dt.datetime(2026, 11, 27, 1, 30, 14, 705944)
    assert rows[NOT_NULL] == (
        "run-1",
        INVOCATION,
        "test",
        "not_null_dim_unit_unit_code",
        "not_null",
        "dim_unit",
        "unit_code",
        "error",
        "pass",
        0,
        None,
        pytest.approx(0.1),
        generated,
    )
    assert rows[UNIQUE_COMBO][4:10] == (
        "unique_combination",
        "mart_staffing_mismatch",
        "unit_code,month",
        "error",
        "fail",
        3,
    )
    assert "configured to fail" in rows[UNIQUE_COMBO][10]
    assert rows[RANGE][7:10] == ("warn", "warn", 2)
    assert rows[SOURCE_TEST][5:10] == ("raw.case_log", "case_id", "error", "error", None)
    assert rows[UNIT_TEST][2:9] == (
        "unit_test",
        "dissimilarity_indices_and_reallocation_plan",
        None,
        "mart_staffing_mismatch",
        None,
        "error",
        "pass",
    )

    # Idempotent: the same invocation again replaces its rows.
    dbt_results.load_run_results(target / "run_results.json", target / "manifest.json", con, "run-1")
    assert con.execute("SELECT count(*) FROM audit.dbt_test_results").fetchone() == (5,)


def test_load_run_results_without_manifest(target):
    con = duckdb.connect()
    dbt_results.load_run_results(target / "run_results.json", None, con, "run-2")
    rows = _rows(con)
    assert rows[NOT_NULL][3:8] == ("not_null_dim_unit_unit_code", None, None, None, None)
    assert rows[RANGE][7] == "warn"  # inferred from the status
    assert rows[UNIT_TEST][5] == "mart_staffing_mismatch"


def test_cosmos_callback(target, data_dir):
    (target / "target").mkdir()
    for name in ("run_results.json", "manifest.json"):
        (target / name).rename(target / "target" / name)
    # The run has a failed test: recorded first, then the task fails without retry.
    with pytest.raises(AirflowFailException, match=r"1 dbt test\(s\) failed .*unique_combination"):
        dbt_results.cosmos_callback(str(target), context={"run_id": "airflow-run"})
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM audit.dbt_test_results").fetchone()[0] == 5
    assert con.execute("SELECT DISTINCT run_id FROM audit.dbt_test_results").fetchall() == [("airflow-run",)]
    con.close()
    assert dbt_results.cosmos_callback(str(data_dir)) == 0  # no target/: nothing, no error


def test_cosmos_callback_without_failed_tests_returns_the_count(target, data_dir):
    (target / "target").mkdir()
    results = json.loads((target / "run_results.json").read_text())
    results["results"] = [r for r in results["results"] if r["status"] != "fail"]
    (target / "target" / "run_results.json").write_text(json.dumps(results))
    (target / "manifest.json").rename(target / "target" / "manifest.json")
    assert dbt_results.failed_tests(target / "target" / "run_results.json") == []
    assert dbt_results.cosmos_callback(str(target), context={"run_id": "airflow-run"}) == 4
