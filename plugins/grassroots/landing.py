"""The landing zone: where deliveries arrive, and how they are found.

Layout: ``<landing>/<feed>/<YYYY-MM-DD>/<file>``. The folder date is the delivery date. Anything
else in the tree (a stray file, a folder that is not a date, a name that escapes the zone through a
symlink or ``..``) is reported, never followed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grassroots.feeds import get_feed

log = logging.getLogger(__name__)

SUFFIXES = {".csv", ".txt", ".xlsx", ".parquet"}


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


def find_deliveries(
    landing_dir: Path,
    feed: str,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[Delivery]:
    """Delivery files of a feed, ordered by delivery date then file name."""
    get_feed(feed)
    feed_dir = landing_dir / feed
    if not feed_dir.is_dir():
        return []
    out: list[Delivery] = []
    for day_dir in sorted(feed_dir.iterdir()):
        try:
            day = dt.date.fromisoformat(day_dir.name)
        except ValueError:
            log.warning("landing: ignoring %s: folder name is not a delivery date YYYY-MM-DD", day_dir)
            continue
        if not day_dir.is_dir() or (since and day < since) or (until and day > until):
            continue
        for path in sorted(day_dir.iterdir()):
            if path.name.startswith("."):
                continue
            if path.is_symlink() or not _is_inside(path, landing_dir):
                log.error("landing: refusing %s: it points outside the landing zone", path)
                continue
            if not path.is_file() or path.suffix.lower() not in SUFFIXES:
                log.warning("landing: ignoring %s: not a delivery file (%s)", path, sorted(SUFFIXES))
                continue
            out.append(Delivery(feed, day, path, landing_dir))
    return out


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
