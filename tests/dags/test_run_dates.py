"""Delivery days are dates in Asia/Shanghai, and every DAG guards against runs dated too early."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pendulum
import pytest

from grassroots.feeds import FEEDS
from grassroots.orchestration.dates import EPOCH, START_DATE, fail_if_before_start, is_on_demand, run_day

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = "Asia/Shanghai"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.mark.parametrize("day", ["2024-06-30", "2024-01-01", "2024-12-31"])
def test_local_midnight_is_that_day_not_the_day_before(day: str) -> None:
    midnight = pendulum.parse(day, tz=SHANGHAI)
    as_airflow_passes_it = midnight.in_timezone("UTC")  # the previous day in UTC
    assert as_airflow_passes_it.date() < midnight.date()
    assert run_day({"data_interval_end": as_airflow_passes_it}) == dt.date.fromisoformat(day)
    # A run with no data interval (triggered without a logical date) uses run_after.
    ctx = {"dag_run": SimpleNamespace(run_after=as_airflow_passes_it, run_type="manual")}
    assert run_day(ctx) == dt.date.fromisoformat(day)
    # One second before local midnight is still the day before.
    assert run_day({"logical_date": as_airflow_passes_it.subtract(seconds=1)}) == (
        dt.date.fromisoformat(day) - dt.timedelta(days=1)
    )


def test_every_ingest_dag_and_the_warehouse_dag_at_local_midnight_is_that_day(dagbag) -> None:
    """`airflow dags test <dag> D` (D at local midnight) derives day D, through each DAG's timetable."""
    from airflow.serialization.encoders import coerce_to_core_timetable

    for dag_id in [f"ingest_{f}" for f in FEEDS] + ["grassroots_warehouse"]:
        timetable = coerce_to_core_timetable(dagbag.dags[dag_id].timetable)
        midnight = pendulum.datetime(2024, 6, 30, tz=SHANGHAI)
        interval = timetable.infer_manual_data_interval(run_after=midnight)
        context = {"data_interval_end": interval.end.in_timezone("UTC"), "logical_date": midnight}
        assert run_day(context) == dt.date(2024, 6, 30), dag_id


def test_on_demand_runs_do_not_wait() -> None:
    kinds = [("manual", True), ("backfill", True), ("scheduled", False), ("asset_triggered", False)]
    for kind, expected in kinds:
        assert is_on_demand({"dag_run": SimpleNamespace(run_type=kind)}) is expected


def test_run_before_start_date_fails_with_a_message() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    dag = SimpleNamespace(dag_id="grassroots_warehouse")
    with pytest.raises(AirflowFailException, match=r"2015-03-09 is before the start date .*2024-01-01"):
        fail_if_before_start({"logical_date": pendulum.datetime(2015, 3, 9, tz=SHANGHAI), "dag": dag})
    fail_if_before_start({"logical_date": START_DATE, "dag": dag})  # the start date itself runs
    fail_if_before_start({"logical_date": None, "dag": dag})  # no logical date: nothing to compare


def test_every_dag_has_a_leaf_guard_that_exists_in_early_runs(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        guard = dag.get_task("check_run_date")
        assert guard.start_date == EPOCH, dag_id
        # A leaf: its failure decides the run's state even when no other task was created.
        assert not guard.downstream_task_ids and not guard.upstream_task_ids, dag_id
        others = [t for t in dag.tasks if t.task_id != "check_run_date"]
        assert all(t.start_date == START_DATE for t in others), dag_id


def test_ingest_sensor_waits_hours_only_when_scheduled(dagbag) -> None:
    for feed in FEEDS:
        sensor = dagbag.dags[f"ingest_{feed}"].get_task("wait_for_delivery")
        assert sensor.timeout == 6 * 3600 and sensor.mode == "reschedule"
