"""One ingest DAG per feed, all from this factory (DESIGN §2, §3)."""

from __future__ import annotations

import logging
import os

from airflow.sdk import Param, dag, task

from grassroots.orchestration.common import (
    WAREHOUSE_POOL,
    default_args,
    feed_asset,
    feed_deliveries_alias,
)
from grassroots.orchestration.dates import START_DATE, check_run_date_task

log = logging.getLogger(__name__)

SCHEDULES = {
    "staff_roster": "0 1 1 * *",  # monthly snapshots arrive by the 1st
    "household_registration": "0 1 1 * *",
    "resident_population": "0 1 1 */3 *",
    "case_log": "30 0 * * *",  # yesterday's cases, every night
}


def ingest_schedule(feed: str) -> str | None:
    """The feed's cron, overridable with GRASSROOTS_INGEST_CRON_<FEED> (`none`: triggered runs only)."""
    value = os.environ.get(f"GRASSROOTS_INGEST_CRON_{feed.upper()}", SCHEDULES[feed]).strip()
    return None if value.lower() in ("", "none") else value


DOC = """
### Ingest `{feed}` ({title})

Finds the deliveries of **{feed}** in the landing zone (`landing/{feed}/<YYYY-MM-DD>/`) up to the
run's date (its data interval's end as a date in Asia/Shanghai: a run at local midnight of D loads
the folder D) that are not loaded yet, and for each file: reads it with its supplier mapping, types it,
applies the row rules (bad rows go to `audit.quarantine` with the rule), validates it with the
Great Expectations suite `{feed}` (a failed *critical* expectation blocks the file), pseudonymises
personal identifiers, writes Parquet under `raw/{feed}/delivery_date=…/` and publishes it to
`raw.{feed}` in one transaction, recording `audit.load_log` (rows_in = loaded + quarantined).

Great Expectations Data Docs are rebuilt into `reports/data_docs/` at once when a file was
refused (otherwise by the warehouse run that follows). A duplicate file (same sha256) is skipped
and audited; a rejected or blocked file fails the run
without retries after the other files are loaded. Each published file emits an event on the asset
`{asset}` (through the alias `{alias}`), with its file, load id and row counts.

A refused file (rejected or blocked) is skipped by later runs while its bytes are unchanged; the
run's result lists it under `refused_not_loaded`. After a mapping fix, trigger this DAG with the
params `retry_from` / `retry_to` (delivery dates) to read those files again, audited in
`audit.retries` (or `python -m grassroots.cli retry --feed {feed} --from D1 --to D2`).

`wait_for_delivery`: a scheduled run waits for a first delivery (a poke every 5 minutes, for up to
6 hours, then fails). A manual run, `airflow dags test` or a backfill does not wait: with no
delivery dated up to its day it fails at once, saying which folder it looked in. A run dated before
the start date ({start}) fails at once in `check_run_date` with a message saying so.
"""


DATE_OR_EMPTY = r"^(\d{4}-\d{2}-\d{2})?$"
RETRY_HELP = (
    "Manual runs: read the refused (rejected or blocked) files delivered from this date (to retry_to) "
    "again, e.g. after a mapping fix; audited in audit.retries. Empty: no retry."
)


def build_ingest_dag(feed: str):
    from grassroots.feeds import get_feed

    spec = get_feed(feed)
    asset = feed_asset(feed)
    alias = feed_deliveries_alias(feed)

    @dag(
        dag_id=f"ingest_{feed}",
        schedule=ingest_schedule(feed),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["grassroots", "ingest", feed],
        doc_md=DOC.format(
            feed=feed, title=spec.title_zh, asset=asset.uri, alias=alias.name, start=START_DATE.date()
        ),
        params={
            "retry_from": Param("", type="string", pattern=DATE_OR_EMPTY, description=RETRY_HELP),
            "retry_to": Param("", type="string", pattern=DATE_OR_EMPTY, description="YYYY-MM-DD or empty"),
        },
    )
    def ingest_dag():
        @task.sensor(
            task_id="wait_for_delivery",
            poke_interval=300,
            timeout=6 * 3600,
            mode="reschedule",
            soft_fail=False,
        )
        def wait_for_delivery(**context):
            """Succeed once a delivery up to the run's day is in the landing zone (see the DAG doc)."""
            from airflow.sdk import PokeReturnValue
            from airflow.sdk.exceptions import AirflowFailException

            from grassroots.config import settings
            from grassroots.landing import find_deliveries
            from grassroots.orchestration.dates import is_on_demand, run_day, run_type

            until = run_day(context)
            landing = settings().landing_dir
            found = find_deliveries(landing, feed, until=until)
            if not found and is_on_demand(context):
                # Nobody delivers while a person waits on `dags test`: say so now, not after 6 hours.
                raise AirflowFailException(
                    f"no delivery of {feed} dated up to {until} (Asia/Shanghai) in {landing / feed}/"
                    f"<YYYY-MM-DD>/: nothing to load; a {run_type(context)} run does not wait for one"
                )
            return PokeReturnValue(is_done=bool(found), xcom_value=len(found))

        @task(task_id="load_deliveries", outlets=[alias], pool=WAREHOUSE_POOL)
        def load_deliveries(**context):
            from airflow.sdk.exceptions import AirflowFailException

            from grassroots.ingest import ingest_pending
            from grassroots.orchestration.dates import run_day

            until = run_day(context)
            results = None
            try:
                results = _retry_from_params(feed, context) + ingest_pending(
                    feed, run_id=context["run_id"], until=until
                )
            finally:
                # Auditors need the Data Docs at once when a delivery was refused (or the run broke);
                # otherwise the warehouse run that follows rebuilds them with these results.
                if results is None or any(r.status in ("rejected", "blocked") for r in results):
                    from grassroots import data_docs

                    data_docs.build(context["run_id"])
            summary = {
                s: sum(1 for r in results if r.status == s)
                for s in ("loaded", "already_loaded", "duplicate", "rejected", "blocked")
            }
            # A refused file skipped again is not a successful load: the run's result says so.
            skipped = sorted(r.source_file for r in results if r.status == "already_refused")
            if skipped:
                summary["refused_not_loaded"] = skipped
                log.warning(
                    "%d refused file(s) of %s skipped (refused earlier, unchanged): %s; after a mapping "
                    "fix: python -m grassroots.cli retry --feed %s --from D1 --to D2, or this DAG's "
                    "params retry_from/retry_to",
                    len(skipped),
                    feed,
                    skipped,
                    feed,
                )
            # One asset event per published delivery (none when nothing new was published).
            for r in results:
                if r.status == "loaded":
                    context["outlet_events"][alias].add(
                        asset,
                        extra={
                            "source_file": r.source_file,
                            "delivery_date": r.delivery_date,
                            "load_id": r.load_id,
                            "rows_loaded": r.rows_loaded,
                            "rows_quarantined": r.rows_quarantined,
                        },
                    )
            failed = [r for r in results if r.status in ("rejected", "blocked")]
            if failed:
                # Bad data does not get better by retrying: fail without retries.
                raise AirflowFailException(
                    f"{len(failed)} delivery file(s) of {feed} not published: "
                    + " | ".join(f"{r.source_file}: {r.error}" for r in failed)[:4000]
                )
            return summary

        check_run_date_task()
        wait_for_delivery() >> load_deliveries()

    return ingest_dag()


def _retry_from_params(feed: str, context) -> list:
    """The manual parameters retry_from/retry_to: re-offer refused files, audited as the run's user."""
    import datetime as dt

    params = context.get("params") or {}
    if not params.get("retry_from"):
        return []
    from grassroots.retry import retry_refused

    date_from = dt.date.fromisoformat(params["retry_from"])
    date_to = dt.date.fromisoformat(params.get("retry_to") or params["retry_from"])
    dag_run = context.get("dag_run")
    who = getattr(dag_run, "triggering_user_name", None) or "airflow"
    outcome = retry_refused(
        feed,
        date_from,
        date_to,
        requested_by=who,
        reason=f"Airflow run {context['run_id']} (params retry_from/retry_to)",
        run_id=context["run_id"],
    )
    log.info("retry of refused %s files: %s", feed, outcome.summary())
    return outcome.results
