"""The warehouse DAG: reference data, then dbt (staging ► intermediate ► marts) through Cosmos."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import AssetAll, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from grassroots.feeds import FEEDS
from grassroots.orchestration.common import MARTS_ASSET, TIMEZONE, WAREHOUSE_POOL, default_args, feed_asset

DOC = """
### Build the evaluation warehouse

Runs when every feed has published since the last run (Airflow assets emitted by the `ingest_*`
DAGs) and also nightly at `GRASSROOTS_WAREHOUSE_CRON` (default `0 3 * * *`, Asia/Shanghai).

1. `load_reference`: the 2023 division codes and the 2020 census into `raw.ref_*` (idempotent).
2. `dbt_staging` ► `dbt_intermediate` ► `dbt_marts`: `dbt build` of each layer through Cosmos
   (models and their tests; a failing test stops the layers after it).
3. `publish_marts`: emits the marts asset.

Writes to the DuckDB warehouse take the one-slot pool `duckdb_warehouse`, and at most one run is
active at a time. Marts land in schema `marts` (e.g. `marts.mart_staffing_mismatch`).
"""


def build_warehouse_dag():
    from cosmos.operators.local import DbtBuildLocalOperator

    from grassroots.orchestration.dbt_config import LAYERS, build_operator_kwargs

    schedule = AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(os.environ.get("GRASSROOTS_WAREHOUSE_CRON", "0 3 * * *"), timezone=TIMEZONE),
        assets=AssetAll(*(feed_asset(f) for f in FEEDS)),
    )

    @dag(
        dag_id="grassroots_warehouse",
        schedule=schedule,
        start_date=pendulum.datetime(2024, 1, 1, tz=TIMEZONE),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(pool=WAREHOUSE_POOL),
        tags=["grassroots", "warehouse", "dbt"],
        doc_md=DOC,
    )
    def warehouse_dag():
        @task(task_id="load_reference")
        def load_reference():
            from grassroots.reference import load_reference_tables
            from grassroots.warehouse import connect, ensure_schemas

            with connect() as con:
                ensure_schemas(con)
                return load_reference_tables(con, schema="raw")

        kwargs = build_operator_kwargs()
        # A failing dbt test is not transient: one quick retry covers a locked file, no more.
        layers = [
            DbtBuildLocalOperator(
                task_id=task_id, select=select, retries=1, retry_delay=pendulum.duration(seconds=10), **kwargs
            )
            for task_id, select in LAYERS
        ]

        @task(task_id="publish_marts", outlets=[MARTS_ASSET])
        def publish_marts():
            from grassroots.warehouse import connect

            with connect(read_only=True) as con:
                tables = con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1"
                ).fetchall()
            return [t[0] for t in tables]

        chain = load_reference()
        for op in layers:
            chain >> op
            chain = op
        chain >> publish_marts()

    return warehouse_dag()
