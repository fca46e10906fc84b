"""Airflow DAG: run dbt by hand with --select, --full-refresh and a period."""

from grassroots.orchestration.dbt_manual_dag import build_dbt_manual_dag

grassroots_dbt_manual = build_dbt_manual_dag()
