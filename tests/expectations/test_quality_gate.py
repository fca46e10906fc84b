"""The gate in the real ingest: a few bad rows are quarantined and the file published; a broken
delivery (a critical expectation failed) is blocked, nothing is published, the audit says why,
and the Airflow task fails instead of passing silently."""

from __future__ import annotations

import collections
import types
from pathlib import Path

import duckdb
import pytest

from grassroots.ingest import ingest_pending

# Real 2023 units: communities of 东华门街道, 东城区, 北京.
UNITS = ["110101001001", "110101001002", "110101001005"]
DAY = "2024-03-05"
HEADER = (
    "case_id,unit_code,channel,category,reported_at,assigned_at,first_response_at,closed_at,"
    "status,escalated_to_level,handled_by_unit_code,satisfaction,reporter_phone,description,"
    "updated_at"
)
N = 40


def case_lines(bad_channel_rows: set[int]) -> list[str]:
    lines = [HEADER]
    for i in range(N):
        channel = "fax" if i in bad_channel_rows else "hotline_12345"
        unit = UNITS[i % len(UNITS)]
        lines.append(
            f"C{i:05d},{unit},{channel},utilities,2024-03-04 08:{i:02d}:00,2024-03-04 09:00:00,"
            f"2024-03-04 10:00:00,2024-03-04 12:00:00,closed,none,{unit},satisfied,"
            f"1391234{i:04d},路灯不亮,2024-03-04 12:00:00"
        )
    return lines


def deliver(data_dir: Path, name: str, lines: list[str]) -> Path:
    path = data_dir / "landing" / "case_log" / DAY / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def gate_env(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("GRASSROOTS_GX_DIR", str(tmp_path / "gx"))
    monkeypatch.delenv("GRASSROOTS_CRITICAL_MOSTLY", raising=False)
    return data_dir


def query(data_dir: Path, sql: str, params=None):
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_few_bad_rows_are_quarantined_and_the_file_published(gate_env):
    deliver(gate_env, "case_log_20240305.csv", case_lines({7}))  # 1 of 40
    [res] = ingest_pending("case_log", run_id="gate-ok")
    assert res.status == "loaded", res.error
    assert (res.rows_in, res.rows_loaded, res.rows_quarantined) == (N, N - 1, 1)
    assert query(gate_env, "SELECT count(*) FROM raw.case_log") == [(N - 1,)]
    rows = query(
        gate_env,
        "SELECT severity, success, unexpected_count FROM audit.validation_results "
        "WHERE expectation = 'expect_column_values_to_be_in_set' AND \"column\" = 'channel'",
    )
    # The auditor sees the bad row although it did not block the delivery.
    assert rows == [("critical", True, 1)]
    status = query(
        gate_env,
        "SELECT files, files_loaded, rows_loaded, rows_quarantined, status FROM audit.delivery_status",
    )
    assert status == [(1, 1, N - 1, 1, "loaded_with_findings")]


def test_broken_delivery_is_blocked_audited_and_fails_the_task(gate_env):
    deliver(gate_env, "case_log_20240305.csv", case_lines({1, 5, 9, 13, 17}))  # 12.5%
    [res] = ingest_pending("case_log", run_id="gate-blocked")
    assert res.status == "blocked"
    assert "expect_column_values_to_be_in_set(channel)" in res.error
    # Nothing published, everything audited.
    assert query(gate_env, "SELECT count(*) FROM raw.case_log") == [(0,)]
    assert not list((gate_env / "raw").rglob("*.parquet"))
    log = query(gate_env, "SELECT status, rows_in, rows_loaded, error FROM audit.load_log")
    assert [(s, i, lo) for s, i, lo, _ in log] == [("blocked", N, 0)]
    assert "critical expectations failed" in log[0][3]
    failed = query(
        gate_env,
        'SELECT "column", unexpected_count FROM audit.validation_results '
        "WHERE NOT success AND severity = 'critical'",
    )
    assert failed == [("channel", 5)]
    why = query(
        gate_env,
        "SELECT status, files_blocked, rows_refused, critical_failed, why, failed_expectations "
        "FROM audit.delivery_status",
    )
    assert why[0][:4] == ("refused", 1, N, 1)
    assert "case_log_20240305.csv [blocked]" in why[0][4]
    assert "critical expect_column_values_to_be_in_set(channel): 5 unexpected" in why[0][5]

    # The same file again: refused again without loading, the Airflow task fails (no retries).
    deliver(gate_env, "case_log_20240305.csv", case_lines({1, 5, 9, 13, 17}))
    from airflow.sdk.exceptions import AirflowFailException

    from grassroots.orchestration.ingest_dag import build_ingest_dag

    dag = build_ingest_dag("case_log")
    task = dag.get_task("load_deliveries")
    # A second broken file of the same day, not seen before: blocked by the task itself.
    deliver(gate_env, "case_log_20240305b.csv", case_lines({0, 2, 4, 6, 8}))
    outlet_events = collections.defaultdict(types.SimpleNamespace)
    context = {"run_id": "gate-task", "data_interval_end": None, "outlet_events": outlet_events}
    with pytest.raises(AirflowFailException, match="case_log_20240305b.csv"):
        task.python_callable(**context)
    assert query(gate_env, "SELECT count(*) FROM raw.case_log") == [(0,)]
    assert query(gate_env, "SELECT status FROM audit.load_log WHERE source_file LIKE '%b.csv'") == [
        ("blocked",)
    ]
