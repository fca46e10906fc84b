"""`make demo` follows each `airflow dags test` log and reports Airflow's own task states."""

from __future__ import annotations

from pathlib import Path

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
