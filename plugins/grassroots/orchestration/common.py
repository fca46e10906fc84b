"""What every DAG shares: owners, retries, assets, the warehouse pool and the failure alert."""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta

from airflow.sdk import Asset, AssetAlias

log = logging.getLogger("grassroots.alerts")

OWNER = "grassroots-data-platform"
# DuckDB has a single writer: every task that writes the warehouse takes this one-slot pool.
WAREHOUSE_POOL = os.environ.get("GRASSROOTS_WAREHOUSE_POOL", "duckdb_warehouse")
TIMEZONE = "Asia/Shanghai"


def feed_asset(feed: str) -> Asset:
    """Published raw data of a feed; the warehouse DAG is scheduled on these."""
    return Asset(name=f"grassroots_raw_{feed}", uri=f"grassroots://warehouse/raw/{feed}", group="grassroots")


def feed_deliveries_alias(feed: str) -> AssetAlias:
    """The ingest task's outlet: one event on `feed_asset(feed)` per published delivery file."""
    return AssetAlias(name=f"grassroots_raw_{feed}_deliveries", group="grassroots")


MARTS_ASSET = Asset(name="grassroots_marts", uri="grassroots://warehouse/marts", group="grassroots")


def alert_on_failure(context) -> None:
    """Structured alert for a failed task: logged always, sent to a webhook when one is configured."""
    ti = context.get("task_instance")
    alert = {
        "event": "task_failed",
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": context.get("run_id"),
        "try_number": getattr(ti, "try_number", None),
        "error": str(context.get("exception"))[:2000],
    }
    log.error("GRASSROOTS_ALERT %s", json.dumps(alert, ensure_ascii=False, default=str))
    url = os.environ.get("GRASSROOTS_ALERT_WEBHOOK")
    if url and not url.startswith(("https://", "http://")):
        log.error("GRASSROOTS_ALERT_WEBHOOK must be an http(s) URL; alert not sent")
    elif url:
        import urllib.request

        req = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, data=json.dumps(alert, default=str).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            urllib.request.urlopen(req, timeout=10)  # noqa: S310 - scheme checked above
        except OSError as exc:
            log.error("alert webhook %s failed: %s", url, exc)


def default_args(**overrides) -> dict:
    args = {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=20),
        "on_failure_callback": alert_on_failure,
    }
    args.update(overrides)
    return args
