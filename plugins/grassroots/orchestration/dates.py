"""A run's dates in the schedule's timezone (Asia/Shanghai), and the guard against runs too early.

Airflow hands tasks aware datetimes in UTC: `data_interval_end.date()` of a run at local midnight
(`2024-06-30T00:00+08:00`) is the day before in UTC. Every delivery day a DAG derives goes through
`run_day`, which converts to the schedule's timezone first.
"""

from __future__ import annotations

import datetime as dt

import pendulum

from grassroots.orchestration.common import TIMEZONE

# The first day the DAGs run for; a run dated earlier fails at once (see `fail_if_before_start`).
START_DATE = pendulum.datetime(2024, 1, 1, tz=TIMEZONE)
# Early enough for any logical date: the guard task exists in every run, even one dated too early.
EPOCH = pendulum.datetime(1970, 1, 1, tz="UTC")
# Run types that mean a person (or a backfill) asked for this run now: they never wait for deliveries.
ON_DEMAND_RUN_TYPES = frozenset({"manual", "backfill"})


def local_day(moment: dt.datetime) -> dt.date:
    """The calendar day of `moment` in the schedule's timezone (naive datetimes are taken as UTC)."""
    return pendulum.instance(moment, tz="UTC").in_timezone(TIMEZONE).date()


def run_moment(context) -> dt.datetime | None:
    """The instant a run stands for: its data interval's end, else its logical date, else run_after."""
    for key in ("data_interval_end", "logical_date"):
        if context.get(key) is not None:
            return context[key]
    dag_run = context.get("dag_run")
    return getattr(dag_run, "run_after", None)


def run_day(context) -> dt.date | None:
    """The delivery day of a run, in Asia/Shanghai: deliveries dated up to it are due."""
    moment = run_moment(context)
    return local_day(moment) if moment is not None else None


def run_type(context) -> str:
    dag_run = context.get("dag_run")
    value = getattr(dag_run, "run_type", None)
    return str(getattr(value, "value", value) or "")


def is_on_demand(context) -> bool:
    """A manual run, `airflow dags test` or a backfill: the landing zone will not change by waiting."""
    return run_type(context) in ON_DEMAND_RUN_TYPES


def fail_if_before_start(context, start: dt.datetime = START_DATE) -> None:
    """A run dated before the DAG's start date fails with a message, instead of running no task."""
    logical = context.get("logical_date")
    if logical is None or pendulum.instance(logical, tz="UTC") >= start:
        return
    from airflow.sdk.exceptions import AirflowFailException

    dag = context.get("dag")
    raise AirflowFailException(
        f"run dated {local_day(logical)} is before the start date of "
        f"{getattr(dag, 'dag_id', 'this DAG')} ({start.date()}, {TIMEZONE}): nothing to do. "
        "Date the run on or after the start date."
    )


def check_run_date_task():
    """A task `check_run_date` that fails runs dated before the DAG's start date, with a message.

    Airflow creates no task instance for a run dated before a task's start date, so such a run
    would 'succeed' having run nothing. This task alone starts at the epoch, so it exists in every
    run; it has no downstream task, so as a leaf its failure fails the run (a failed task whose
    downstream tasks were never created would leave the run 'successful'). Call inside a DAG.
    """
    from airflow.sdk import task

    @task(task_id="check_run_date")
    def check_run_date(**context) -> str:
        fail_if_before_start(context)
        day = run_day(context)
        return f"run day {day} ({TIMEZONE})"

    guard = check_run_date()
    guard.operator.start_date = EPOCH
    return guard
