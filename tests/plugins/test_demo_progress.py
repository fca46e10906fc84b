"""`make demo` follows each `airflow dags test` log and reports Airflow's own task states."""

from __future__ import annotations

from pathlib import Path

import pytest

from grassroots.demo_progress import TaskProgress

# Lines as Airflow 3.3's `airflow dags test` writes them (abridged after the logger name).
_TS = "2026-12-07T12:57:53.286510Z [info     ] "
_DAG = " [airflow.sdk.definitions.dag] loc=dag.py:1501"
_TI = "Task instance state updated    [airflow.api_fastapi.execution_api.routes.task_instances] "
LOG = [
    _TS + "Created dag run.               [airflow.models.dagrun]",
    _TS + "[DAG TEST] starting task_id=wait_for_delivery map_index=-1" + _DAG,
    _TS + _TI + "loc=task_instances.py:254 rows_affected=1",
    _TS + _TI + "loc=task_instances.py:485 new_state=success rows_affected=1",
    _TS + "[DAG TEST] end task task_id=wait_for_delivery map_index=-1" + _DAG,
    _TS + "[DAG TEST] starting task_id=load_deliveries map_index=-1" + _DAG,
    _TS + _TI + "loc=task_instances.py:485 new_state=failed rows_affected=1",
    _TS + "[DAG TEST] end task task_id=load_deliveries map_index=-1" + _DAG,
]


def test_tasks_are_reported_as_they_start_and_end_with_their_state(tmp_path: Path) -> None:
    log = tmp_path / "ingest_x.log"
    progress = TaskProgress("ingest_x", log)
    assert progress.poll() == []  # no log yet
    with log.open("w", encoding="utf-8") as f:
        f.write("\n".join(LOG[:2]) + "\n" + LOG[2][:30])  # the third line is half written
        f.flush()
        assert progress.poll() == ["ingest_x.wait_for_delivery: running"]
        f.write(LOG[2][30:] + "\n" + "\n".join(LOG[3:6]) + "\n")
        f.flush()
        events = progress.poll()
        assert [e.split(" (")[0] for e in events] == [
            "ingest_x.wait_for_delivery: success",
            "ingest_x.load_deliveries: running",
        ]
        assert progress.poll() == []  # nothing new, nothing repeated
        f.write("\n".join(LOG[6:]) + "\n")
        f.flush()
        assert [e.split(" (")[0] for e in progress.poll()] == ["ingest_x.load_deliveries: failed"]


def _finished(tmp_path: Path, dag_id: str, output: str, code: int) -> None:
    """_finish_dag_test on a real process that wrote ``output`` to its log and exited ``code``."""
    import subprocess
    import sys
    import time

    from grassroots.cli import _finish_dag_test

    log = tmp_path / f"{dag_id}.log"
    with log.open("w", encoding="utf-8") as out:
        script = f"import sys; print({output!r}); sys.exit({code})"
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=out)
    _finish_dag_test(dag_id, (proc, log, time.monotonic(), TaskProgress(dag_id, log)))


def test_a_refused_delivery_does_not_stop_the_demo_but_other_failures_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = "AirflowFailException: 1 delivery file(s) of x not published: x/2024-03-28/a.csv: blocked"
    _finished(tmp_path, "ingest_household_registration", refused, 1)
    assert "ingest_household_registration: failed: a delivery was refused" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="airflow dags test grassroots_warehouse failed"):
        _finished(tmp_path, "grassroots_warehouse", "dbt_marts state=failed", 1)
    with pytest.raises(SystemExit):
        _finished(tmp_path, "ingest_case_log", "Traceback: disk full", 1)
