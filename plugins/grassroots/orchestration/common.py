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


ALERT_SMTP_CONN_ID = "grassroots_smtp"
ALERT_EMAIL_VARIABLE = "grassroots_alert_email"


def alert_on_failure(context) -> None:
    """Structured alert for a failed task: logged always, sent on where a channel is configured."""
    ti = context.get("task_instance")
    send_alert(
        {
            "event": "task_failed",
            "dag_id": getattr(ti, "dag_id", None),
            "task_id": getattr(ti, "task_id", None),
            "run_id": context.get("run_id"),
            "try_number": getattr(ti, "try_number", None),
            "error": str(context.get("exception"))[:2000],
        }
    )


def send_alert(alert: dict, *, level: int = logging.ERROR) -> list[str]:
    """Log the alert as one JSON line, then post it to the webhook and mail it where configured.

    Channels: ``GRASSROOTS_ALERT_WEBHOOK`` (an http(s) URL), and e-mail to the addresses in the
    Airflow Variable ``grassroots_alert_email`` through the SMTP connection ``grassroots_smtp``.
    A channel that fails is logged; alerting never masks the task's own error. Returns the
    channels the alert went out on.
    """
    text = json.dumps(alert, ensure_ascii=False, default=str)
    log.log(level, "GRASSROOTS_ALERT %s", text)
    sent = []
    url = os.environ.get("GRASSROOTS_ALERT_WEBHOOK")
    if url and not url.startswith(("https://", "http://")):
        log.error("GRASSROOTS_ALERT_WEBHOOK must be an http(s) URL; alert not sent")
    elif url:
        import urllib.request

        req = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, data=text.encode(), headers={"Content-Type": "application/json"}
        )
        try:
            urllib.request.urlopen(req, timeout=10)  # noqa: S310 - scheme checked above
            sent.append("webhook")
        except OSError as exc:
            log.error("alert webhook %s failed: %s", url, exc)
    recipients = _alert_recipients()
    if recipients:
        try:
            _mail(alert, recipients)
            sent.append("email")
        except Exception as exc:  # noqa: BLE001 - a broken mail server must not hide the alert
            log.error("alert e-mail to %s via connection %s failed: %s", recipients, ALERT_SMTP_CONN_ID, exc)
    return sent


def _alert_recipients() -> str | None:
    try:
        from airflow.sdk import Variable

        return Variable.get(ALERT_EMAIL_VARIABLE, default=None) or None
    except Exception:  # noqa: BLE001 - no metadata database reachable: no e-mail channel
        return os.environ.get(f"AIRFLOW_VAR_{ALERT_EMAIL_VARIABLE.upper()}") or None


def _mail(alert: dict, recipients: str) -> None:
    import html

    from airflow.providers.smtp.hooks.smtp import SmtpHook

    body = html.escape(json.dumps(alert, ensure_ascii=False, indent=2, default=str))
    subject = f"[grassroots] {alert.get('event')}: {alert.get('dag_id')}.{alert.get('task_id') or ''}"
    with SmtpHook(smtp_conn_id=ALERT_SMTP_CONN_ID) as hook:
        hook.send_email_smtp(
            to=recipients,
            subject=subject,
            html_content=f"<pre>{body}</pre>",
            from_email=hook.from_email or "grassroots-alerts@localhost",
            custom_headers={"X-Grassroots-Alert": alert.get("event", "alert")},
        )


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
