"""The landing zone: where deliveries arrive, and how they are found.

Layout: ``<landing>/<feed>/<YYYY-MM-DD>/<file>``. The folder date is the delivery date. Anything
else in the tree (a stray file, a folder that is not a date, a name that escapes the zone through a
symlink or ``..``) is reported, never followed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

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
