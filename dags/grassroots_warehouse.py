"""Airflow DAG: build the evaluation warehouse with dbt (through Cosmos) when the feeds are published."""

from grassroots.orchestration.warehouse_dag import build_warehouse_dag

grassroots_warehouse = build_warehouse_dag()
