"""Airflow DAGs: one ingest DAG per feed, all made by one factory (grassroots.orchestration)."""

from grassroots.feeds import FEEDS
from grassroots.orchestration.ingest_dag import build_ingest_dag

for _feed in FEEDS:
    globals()[f"ingest_{_feed}"] = build_ingest_dag(_feed)
