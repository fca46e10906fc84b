"""The landing zone: where deliveries arrive, and how they are found.

Layout: ``<landing>/<feed>/<YYYY-MM-DD>/<file>``. The folder date is the delivery date; it must be
an exact ISO date (``2024-03-31``: not ``20240331``, ``2024-3-31`` or the impossible ``2024-02-30``).
Every file in a folder that is not one is refused and audited (rule ``not_a_delivery_date``), never
skipped in silence; a folder dated after today (Asia/Shanghai) waits for its day: it is not loaded
before, and the ingest reports it as waiting. Anything else in the tree (a stray file, a name that
escapes the zone through a symlink or ``..``) is reported, never followed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from grassroots.feeds import get_feed

log = logging.getLogger(__name__)

SUFFIXES = {".csv", ".txt", ".xlsx", ".parquet"}
# The schedule's timezone (grassroots.orchestration.common.TIMEZONE, not imported: it needs Airflow).
SCHEDULE_TIMEZONE = "Asia/Shanghai"
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Delivery:
    feed: str
    delivery_date: dt.date
    path: Path
    landing_dir: Path

    @property
    def source_file(self) -> str:
        """Stable identity of the delivery: its path relative to the landing zone."""
        return self.path.relative_to(self.landing_dir).as_posix()

    @property
    def series(self) -> str:
        return supplier_series(self.source_file)


# A period in a file name: 2024-03, 202403, 20240331, 2024-03-31 (years 19xx/20xx; no division
# code starts with 19 or 20, so a county code such as 231224 or 350206 is never taken for one).
_PERIOD = re.compile(r"(?<!\d)(?:19|20)\d{2}(?:[-_]?\d{2}){1,2}(?!\d)")


def supplier_series(source_file: str) -> str:
    """The series a delivery belongs to: its file name with the period masked.

    One supplier sends one series per feed and county (``staff_roster_231224_202403.csv`` and
    ``staff_roster_231224_202404.csv`` are both ``staff_roster_231224_{period}.csv``), so a
    delivery is compared with the previous one of its own series, never with another county's.
    """
    return _PERIOD.sub("{period}", PurePosixPath(source_file).name)


def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def landing_today() -> dt.date:
    """Today in the schedule's timezone: a delivery folder dated later waits for its day."""
    return dt.datetime.now(ZoneInfo(SCHEDULE_TIMEZONE)).date()


def folder_day(name: str) -> dt.date | None:
    """The delivery date a folder name stands for: only an exact, valid ISO date ``YYYY-MM-DD``.

    (`date.fromisoformat` alone would also take ``20240331`` or ``2024-W13-1``.)
    """
    if not _ISO_DAY.fullmatch(name):
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:  # 2024-02-30, 2024-13-01
        return None


@dataclass(frozen=True)
class RefusedFile:
    """A file in a folder that is not a delivery date: refused (and audited) without being read."""

    feed: str
    path: Path
    landing_dir: Path
    reason: str

    @property
    def source_file(self) -> str:
        return self.path.relative_to(self.landing_dir).as_posix()


@dataclass
class LandingScan:
    deliveries: list[Delivery] = field(default_factory=list)  # due: dated up to today
    refused: list[RefusedFile] = field(default_factory=list)  # in a folder that is not a date
    waiting: list[Delivery] = field(default_factory=list)  # dated after today


def _files(day_dir: Path, landing_dir: Path) -> list[Path]:
    """The delivery files of a folder (hidden files, escapes and other kinds reported, not followed)."""
    out = []
    for path in sorted(day_dir.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_symlink() or not _is_inside(path, landing_dir):
            log.error("landing: refusing %s: it points outside the landing zone", path)
            continue
        if not path.is_file() or path.suffix.lower() not in SUFFIXES:
            log.warning("landing: ignoring %s: not a delivery file (%s)", path, sorted(SUFFIXES))
            continue
        out.append(path)
    return out


def scan_landing(
    landing_dir: Path,
    feed: str,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    today: dt.date | None = None,
) -> LandingScan:
    """Everything in a feed's landing folder: due deliveries (ordered by delivery date then file
    name), files refused for their folder name, and deliveries waiting for their day.

    Files in a folder that is not a date are refused whatever `since`/`until` say (their date is
    unknown); `today` defaults to today in Asia/Shanghai.
    """
    get_feed(feed)
    scan = LandingScan()
    feed_dir = landing_dir / feed
    if not feed_dir.is_dir():
        return scan
    today = today or landing_today()
    for day_dir in sorted(feed_dir.iterdir()):
        # A day folder that is a link out of the zone is followed only to refuse each of its files.
        if not day_dir.is_dir() or day_dir.name.startswith("."):
            if not day_dir.name.startswith("."):
                log.warning("landing: ignoring %s: not a delivery folder YYYY-MM-DD", day_dir)
            continue
        day = folder_day(day_dir.name)
        if day is None:
            reason = (
                f"folder {day_dir.name!r} is not a delivery date: folders must be named by an existing "
                "calendar day, exactly YYYY-MM-DD (e.g. 2024-03-31); move the file to its date's folder"
            )
            log.error("landing: refusing the files of %s: %s", day_dir, reason)
            scan.refused += [RefusedFile(feed, p, landing_dir, reason) for p in _files(day_dir, landing_dir)]
            continue
        if (since and day < since) or (until and day > until):
            continue
        found = [Delivery(feed, day, p, landing_dir) for p in _files(day_dir, landing_dir)]
        if day > today:
            log.warning(
                "landing: %s is dated after today (%s, %s): waits for its day",
                day_dir,
                today,
                SCHEDULE_TIMEZONE,
            )
            scan.waiting += found
        else:
            scan.deliveries += found
    return scan


def find_deliveries(
    landing_dir: Path,
    feed: str,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[Delivery]:
    """Due delivery files of a feed (dated up to today, Asia/Shanghai), by delivery date then file name."""
    return scan_landing(landing_dir, feed, since=since, until=until).deliveries


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
