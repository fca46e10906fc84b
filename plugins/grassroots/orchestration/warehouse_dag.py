"""The warehouse DAG: reference data, then dbt (staging ► intermediate ► marts) through Cosmos."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import AssetAll, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from grassroots.feeds import FEEDS
from grassroots.orchestration.common import MARTS_ASSET, TIMEZONE, WAREHOUSE_POOL, default_args, feed_asset
from grassroots.orchestration.dates import START_DATE, check_run_date_task

DOC = """
### Build the evaluation warehouse

Runs when every feed has published since the last run (Airflow assets emitted by the `ingest_*`
DAGs) and also nightly at `GRASSROOTS_WAREHOUSE_CRON` (default `0 3 * * *`, Asia/Shanghai; `none`
runs on the assets only).

1. `load_reference`: the 2023 division codes and the 2020 census into `raw.ref_*` (idempotent),
   and an empty `raw.<feed>` for every feed not delivered yet (so the first nights build).
   `mirror_raw`: with `GRASSROOTS_DBT_TARGET=postgres`, `raw.*` is mirrored into the PostgreSQL
   warehouse (new loads copied, withdrawn loads deleted, one transaction) and the read-only role
   `analyst` is granted SELECT on schema `marts` only; a no-op on DuckDB.
2. `dbt_staging` ► `dbt_marts`: `dbt build` (models and their tests) of the seeds and staging
   models, then of the intermediate models and marts (unit-month marts, reallocation plan,
   scorecard), through Cosmos. A failing test stops the stage after it; every test result is
   recorded in `audit.dbt_test_results`. One model alone: the manual DAG `grassroots_dbt_manual`.
3. `validate_marts`: the Great Expectations suite of the published marts (results in
   `audit.validation_results`, feed `marts`); Data Docs rebuilt into `reports/data_docs/`.
4. `dbt_docs`: `dbt docs generate --static` into `reports/dbt_docs/index.html` (before the report,
   whose pages link to it).
5. `build_report`: the evaluation report (HTML, charts, CSV/Excel exports) for the latest month
   into `reports/evaluation/<YYYY-MM>/` and `reports/evaluation/latest/`.
6. `publish_marts`: emits the marts asset.
7. `report_findings`: the warnings of this run (dbt tests with severity warn that found rows,
   Great Expectations warnings of the marts suite and of the deliveries loaded since the last
   run) as the task's return value (XCom `return_value`, shown in the UI) and one
   `run_findings` alert on the configured channels (log, webhook, e-mail). Feeds with no delivery
   loaded up to the run's day are findings ("feed X never delivered"), not failures. The audit
   check fails the task: every file's `rows_quarantined` must equal its rows in `audit.quarantine`.

A run dated before the start date (2024-01-01, Asia/Shanghai) fails in `check_run_date` with a
message saying so.

Writes to the DuckDB warehouse take the one-slot pool `duckdb_warehouse`, and at most one run is
active at a time. Marts land in schema `marts` (e.g. `marts.mart_staffing_mismatch`).
"""


def build_warehouse_dag():
    from cosmos.operators.local import DbtBuildLocalOperator

    from grassroots.orchestration.dbt_config import LAYERS, build_operator_kwargs

    feeds_published = AssetAll(*(feed_asset(f) for f in FEEDS))
    cron = os.environ.get("GRASSROOTS_WAREHOUSE_CRON", "0 3 * * *").strip()
    # `none`: on the assets only (no nightly run).
    schedule = (
        feeds_published
        if cron.lower() in ("", "none")
        else AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(cron, timezone=TIMEZONE), assets=feeds_published
        )
    )

    @dag(
        dag_id="grassroots_warehouse",
        schedule=schedule,
        start_date=START_DATE,
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
            from grassroots.warehouse import connect, ensure_raw_tables

            with connect() as con:
                # A feed not delivered yet still has its (empty) raw table: dbt builds from night one.
                created = ensure_raw_tables(con)
                return {**load_reference_tables(con, schema="raw"), "empty_raw_tables_created": created}

        @task(task_id="mirror_raw")
        def mirror_raw():
            """On the PostgreSQL target: bring raw.* into PostgreSQL (by load id, one transaction)."""
            from grassroots.pg_warehouse import describe, mirror_raw, warehouse_target
            from grassroots.warehouse import connect

            if warehouse_target() != "postgres":
                return {"target": warehouse_target(), "mirrored": {}}
            import psycopg2

            from grassroots.pg_roles import grant_analyst_role
            from grassroots.pg_warehouse import pg_dsn

            # A read-write handle (under the pool): DuckDB attaches PostgreSQL read-only otherwise.
            with connect() as con:
                mirrored = mirror_raw(con)
            # The analysts' read-only role: SELECT on marts only, also on the tables dbt creates next.
            pg = psycopg2.connect(pg_dsn())
            try:
                grant_analyst_role(pg)
            finally:
                pg.close()
            return {"target": describe(), "mirrored": mirrored, "analyst_role": "marts only"}

        kwargs = build_operator_kwargs()
        # One quick retry covers a locked file; a failed dbt test fails at once (dbt_results.cosmos_callback).
        layers = [
            DbtBuildLocalOperator(
                task_id=task_id,
                select=select,
                exclude=exclude,
                retries=1,
                retry_delay=pendulum.duration(seconds=10),
                **kwargs,
            )
            for task_id, select, exclude in LAYERS
        ]

        @task(task_id="validate_marts")
        def validate_marts(**context):
            """The published-marts suite; a critical failure stops the run (no retry: data won't change)."""
            from airflow.sdk.exceptions import AirflowFailException

            from grassroots import data_docs
            from grassroots.validation import ValidationFailed
            from grassroots.validation import validate_marts as run_marts_suite

            report = run_marts_suite(None, context["run_id"])
            data_docs.build(context["run_id"])
            try:
                report.raise_if_critical()
            except ValidationFailed as exc:
                raise AirflowFailException(str(exc)) from exc
            return {"warnings": report.warnings}

        @task(task_id="build_report")
        def build_report():
            """The evaluation report for the latest month, into reports/evaluation/<period>/ and latest/."""
            from grassroots.report import build_report as build

            return str(build())

        @task(task_id="dbt_docs")
        def dbt_docs():
            """`dbt docs generate --static`: one self-contained page for analysts, under reports/dbt_docs."""
            import shutil
            import subprocess
            import tempfile

            from grassroots.config import settings
            from grassroots.orchestration.dbt_config import (
                DBT_EXECUTABLE,
                DBT_PROJECT_DIR,
                DBT_TARGET,
                build_operator_kwargs,
            )

            out = settings().reports_dir / "dbt_docs"
            with tempfile.TemporaryDirectory() as tmp:
                # Reuse the dbt stages' partial-parse state instead of parsing the project again.
                cached = build_operator_kwargs()["cache_dir"] / "target" / "partial_parse.msgpack"
                if cached.exists():
                    shutil.copy2(cached, f"{tmp}/partial_parse.msgpack")
                subprocess.run(
                    [
                        str(DBT_EXECUTABLE),
                        "docs",
                        "generate",
                        "--static",
                        "--target",
                        DBT_TARGET,
                        "--project-dir",
                        str(DBT_PROJECT_DIR),
                        "--profiles-dir",
                        str(DBT_PROJECT_DIR),
                        "--target-path",
                        tmp,
                        "--log-path",
                        tmp,
                        "--quiet",
                    ],
                    check=True,
                )
                out.mkdir(parents=True, exist_ok=True)
                for name in ("static_index.html", "manifest.json", "catalog.json"):
                    shutil.copy2(
                        f"{tmp}/{name}", out / ("index.html" if name == "static_index.html" else name)
                    )
            return str(out / "index.html")

        @task(task_id="publish_marts", outlets=[MARTS_ASSET])
        def publish_marts():
            from grassroots.pg_warehouse import marts_connection

            with marts_connection() as con:
                tables = con.execute(
                    "SELECT DISTINCT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'marts' ORDER BY 1"
                ).fetchall()
            return [t[0] for t in tables]

        @task(task_id="report_findings")
        def report_findings(**context):
            """dbt test warnings and GX warnings of this run, as the task's result and one alert."""
            from airflow.sdk.exceptions import AirflowFailException

            from grassroots.orchestration.dates import run_day
            from grassroots.orchestration.findings import AuditInconsistent, run_findings

            try:
                return run_findings(context["run_id"], dag_id=context["dag"].dag_id, until=run_day(context))
            except AuditInconsistent as exc:
                raise AirflowFailException(str(exc)) from exc

        check_run_date_task()
        chain = load_reference() >> mirror_raw()
        for op in layers:
            chain >> op
            chain = op
        chain >> validate_marts() >> dbt_docs() >> build_report() >> publish_marts() >> report_findings()

    return warehouse_dag()
