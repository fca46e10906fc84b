"""A manually triggered dbt run: any selection, optionally a full refresh, for one period."""

from __future__ import annotations

from airflow.sdk import Param, dag

from grassroots.orchestration.common import WAREHOUSE_POOL, default_args
from grassroots.orchestration.dates import START_DATE, check_run_date_task

DOC = """
### Run dbt by hand

Trigger with parameters:

* `select` — a dbt selection (`--select`), e.g. `mart_workload+` or `path:models/marts`;
* `full_refresh` — rebuild incremental models from scratch (`--full-refresh`);
* `period` — the month to (re)build, `YYYY-MM`, passed to dbt as the variable `period`
  (empty: every period).

Runs `dbt build` (models and their tests) through Cosmos against the configured warehouse target,
in the one-slot `duckdb_warehouse` pool so it never overlaps a nightly build. A run dated before
the start date (2024-01-01, Asia/Shanghai) fails in `check_run_date` with a message saying so.
"""


def build_dbt_manual_dag():
    from cosmos.operators.local import DbtBuildLocalOperator

    from grassroots.orchestration.dbt_config import build_operator_kwargs

    @dag(
        dag_id="grassroots_dbt_manual",
        schedule=None,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(pool=WAREHOUSE_POOL),
        tags=["grassroots", "dbt", "manual"],
        doc_md=DOC,
        params={
            "select": Param("path:models", type="string", minLength=1, description="dbt --select"),
            "full_refresh": Param(False, type="boolean", description="dbt --full-refresh"),
            "period": Param("", type="string", pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM or empty"),
        },
    )
    def dbt_manual_dag():
        check_run_date_task()
        DbtBuildLocalOperator(
            task_id="dbt_build",
            select="{{ params.select }}",
            full_refresh="{{ params.full_refresh }}",
            vars={"period": "{{ params.period }}"},
            **build_operator_kwargs(),
        )

    return dbt_manual_dag()
