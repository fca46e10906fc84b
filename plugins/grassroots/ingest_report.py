"""The table `python -m grassroots.cli ingest` ends with: what each feed's run did, in one screen."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from grassroots.ingest import LoadResult

STATUSES = ("loaded", "duplicate", "blocked", "rejected", "already_loaded", "already_refused")


def format_ingest_summary(results: Iterable[LoadResult]) -> str:
    results = list(results)
    if not results:
        return "Nothing to load: no pending delivery in the landing zone."
    feeds = sorted({r.feed for r in results})
    header = ["feed", *STATUSES, "rows loaded", "quarantined", "warnings"]
    rows = []
    for feed in feeds:
        mine = [r for r in results if r.feed == feed]
        n = Counter(r.status for r in mine)
        loaded = [r for r in mine if r.status == "loaded"]
        rows.append(
            [
                feed,
                *(str(n.get(s, 0)) for s in STATUSES),
                f"{sum(r.rows_loaded for r in loaded):,}",
                f"{sum(r.rows_quarantined for r in loaded):,}",
                str(sum(r.warnings for r in loaded)),
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    lines += [
        "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    refused = [r for r in results if r.status in ("blocked", "rejected")]
    if refused:
        lines.append("\nNot loaded (fix the file and deliver it again):")
        lines += [
            f"  {r.status:<8} {r.source_file}: {(r.error or '').splitlines()[0][:200]}" for r in refused
        ]
    waiting = [r for r in results if r.status == "waiting"]
    if waiting:
        lines.append("\nWaiting for their day (dated after today, Asia/Shanghai; not loaded yet):")
        lines += [f"  waiting  {r.source_file}" for r in waiting]
    return "\n".join(lines)
