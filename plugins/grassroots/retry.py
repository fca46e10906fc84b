"""Offer refused deliveries again: after a mapping fix or a supplier's confirmation.

A refused file (rejected or blocked) is keyed on its path and sha256, so an ordinary run skips it
(`already_refused`). `retry_refused` reads the refused files of one feed and delivery-date range
again through the real ingest, and records in `audit.retries` who asked, why, and the verdict of
each file with the mapping (name and sha256) it was read with. Entry points:
`python -m grassroots.cli retry --feed F --from D1 --to D2`, and the ingest DAGs' manual
parameters `retry_from` / `retry_to`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import logging
from dataclasses import dataclass, field

from grassroots.config import Settings, settings
from grassroots.feeds import get_feed
from grassroots.ingest import LoadResult, ingest_delivery, staging_connection
from grassroots.landing import find_deliveries
from grassroots.mappings import load_mappings
from grassroots.pii import pii_key
from grassroots.warehouse import connect, ensure_schemas

log = logging.getLogger(__name__)

# Files whose latest verdict is a refusal, in a feed and delivery-date range.
REFUSED_SQL = """
SELECT source_file, file_sha256, status FROM (
    SELECT source_file, file_sha256, status, row_number() OVER (
        PARTITION BY source_file ORDER BY finished_at DESC NULLS LAST, started_at DESC NULLS LAST
    ) AS _n
    FROM audit.load_log
    WHERE feed = ? AND delivery_date BETWEEN ? AND ?
      AND status IN ('loaded', 'duplicate', 'rejected', 'blocked')
) WHERE _n = 1 AND status IN ('rejected', 'blocked')
ORDER BY source_file
"""


@dataclass
class RetryOutcome:
    retry_id: str
    requested_by: str
    feed: str
    date_from: dt.date
    date_to: dt.date
    results: list[LoadResult] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # refused files no longer in the landing zone

    @property
    def loaded(self) -> list[str]:
        return [r.source_file for r in self.results if r.status == "loaded"]

    @property
    def still_refused(self) -> list[LoadResult]:
        return [r for r in self.results if r.status in ("rejected", "blocked")]

    def summary(self) -> dict:
        return {
            "retry_id": self.retry_id,
            "requested_by": self.requested_by,
            "feed": self.feed,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "loaded": self.loaded,
            "still_refused": [f"{r.source_file} [{r.status}]: {r.error}" for r in self.still_refused],
            "missing": self.missing,
        }


def refused_files(
    feed: str, date_from: dt.date, date_to: dt.date, cfg: Settings | None = None
) -> list[tuple]:
    """(source_file, sha256, status) of the feed's files still refused in the range."""
    cfg = cfg or settings()
    with connect(cfg.warehouse_path) as wh:
        ensure_schemas(wh)
        return wh.execute(REFUSED_SQL, [feed, date_from, date_to]).fetchall()


def retry_refused(
    feed: str,
    date_from: dt.date,
    date_to: dt.date,
    *,
    requested_by: str | None = None,
    reason: str | None = None,
    run_id: str | None = None,
    cfg: Settings | None = None,
) -> RetryOutcome:
    """Ingest again the refused files of `feed` delivered between the two dates (inclusive)."""
    get_feed(feed)
    if date_to < date_from:
        raise ValueError(f"retry range is empty: --to {date_to} is before --from {date_from}")
    cfg = cfg or settings()
    who = requested_by or getpass.getuser()
    requested_at = dt.datetime.now()
    retry_id = hashlib.sha256(f"{feed}|{date_from}|{date_to}|{who}|{requested_at}".encode()).hexdigest()[:16]
    outcome = RetryOutcome(retry_id, who, feed, date_from, date_to)
    refused = {sf: (sha, status) for sf, sha, status in refused_files(feed, date_from, date_to, cfg)}
    present = {
        d.source_file: d for d in find_deliveries(cfg.landing_dir, feed, since=date_from, until=date_to)
    }
    rows = []
    mappings, key = load_mappings(cfg.mappings_dir), pii_key()
    staging = staging_connection()
    try:
        for source_file, (sha, previous) in refused.items():
            delivery = present.get(source_file)
            if delivery is None:
                outcome.missing.append(source_file)
                rows.append(
                    (source_file, sha, previous, "missing", None, None, None, "not in the landing zone")
                )
                continue
            res = ingest_delivery(
                delivery,
                run_id=run_id or f"retry__{retry_id}",
                cfg=cfg,
                mappings=mappings,
                key=key,
                staging=staging,
                retry=True,
            )
            outcome.results.append(res)
            rows.append(
                (source_file, res.file_sha256, previous, res.status, res.load_id)
                + (res.mapping, res.mapping_sha256, res.error)
            )
            log.info("retry %s: %s was %s, now %s", retry_id, source_file, previous, res.status)
    finally:
        staging.close()
    with connect(cfg.warehouse_path) as wh:
        ensure_schemas(wh)
        wh.execute("BEGIN TRANSACTION")
        for row in rows:
            wh.execute(
                "INSERT INTO audit.retries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [retry_id, who, requested_at, reason, feed, date_from, date_to, *row],
            )
        wh.execute("COMMIT")
    return outcome
