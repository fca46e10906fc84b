"""What the load audit says, in a few lines: the data-quality part of `make demo`'s summary.

Counts come straight from ``audit.load_log`` (the latest entry of each delivered file) and
``audit.quarantine``: files loaded, rows loaded and quarantined by rule, blocked and rejected files
and why, duplicate deliveries and restatements, then where an auditor looks next.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from grassroots.warehouse import connect

LATEST = """
SELECT * FROM (
    SELECT *, row_number() OVER (
        PARTITION BY feed, source_file ORDER BY finished_at DESC NULLS LAST, load_id
    ) AS _n
    FROM audit.load_log
) WHERE _n = 1
"""


@dataclass
class AuditSummary:
    # feed -> (files loaded, rows loaded, rows quarantined in loaded files)
    loaded: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    blocked: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    restatements: list[tuple[str, int]] = field(default_factory=list)  # (file, loads superseded)

    def format(self) -> str:
        lines = ["Data quality (audit.load_log, audit.quarantine):"]
        lines.append(f"  {'feed':<24}{'files loaded':>13}{'rows loaded':>13}{'quarantined':>13}")
        for feed, (files, rows, bad) in sorted(self.loaded.items()):
            lines.append(f"  {feed:<24}{files:>13,}{rows:>13,}{bad:>13,}")
        if self.quarantined_by_rule:
            lines.append("  quarantined rows by rule:")
            lines += [f"    {n:>6,}  {rule}" for rule, n in sorted(self.quarantined_by_rule.items())]
        for title, items in (("blocked files", self.blocked), ("rejected files", self.rejected)):
            lines.append(f"  {title}: {len(items)}")
            lines += [f"    {f}: {_first_line(_without_file(why, f))}" for f, why in items]
        lines.append(f"  duplicate deliveries (not loaded again): {len(self.duplicates)}")
        lines += [f"    {f}: {_first_line(why)}" for f, why in self.duplicates]
        lines.append(f"  restatements (replace earlier loads): {len(self.restatements)}")
        lines += [f"    {f}: supersedes {n} earlier load(s)" for f, n in self.restatements]
        lines += [
            "  Where to look: audit.delivery_status (per feed and delivery date), audit.quarantine",
            "  (each rejected row and its rule), the report's overview page, and Data Docs",
            "  (every expectation of every delivery, with its severity).",
        ]
        return "\n".join(lines)


def _without_file(text: str | None, source_file: str) -> str:
    """Errors start with the file name; the summary prints it once."""
    text = text or ""
    while text.startswith(f"{source_file}: "):
        text = text[len(source_file) + 2 :]
    return text


def _first_line(text: str | None, width: int = 220) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def audit_summary(con: duckdb.DuckDBPyConnection) -> AuditSummary:
    out = AuditSummary()
    for feed, files, rows, bad in con.execute(
        f"SELECT feed, count(*), sum(rows_loaded), sum(rows_quarantined) FROM ({LATEST}) "
        "WHERE status = 'loaded' GROUP BY feed"
    ).fetchall():
        out.loaded[feed] = (int(files), int(rows or 0), int(bad or 0))
    out.quarantined_by_rule = dict(
        con.execute(
            f"SELECT q.rule, count(*) FROM audit.quarantine AS q JOIN ({LATEST}) AS l "
            "ON l.load_id = q.load_id AND l.status = 'loaded' GROUP BY q.rule ORDER BY q.rule"
        ).fetchall()
    )
    by_status = {"blocked": out.blocked, "rejected": out.rejected, "duplicate": out.duplicates}
    for status, target in by_status.items():
        target += con.execute(
            f"SELECT source_file, error FROM ({LATEST}) WHERE status = ? ORDER BY source_file", [status]
        ).fetchall()
    out.restatements = [
        (f, len([x for x in ids.split(",") if x.strip()]))
        for f, ids in con.execute(
            f"SELECT source_file, supersedes_load_ids FROM ({LATEST}) "
            "WHERE status = 'loaded' AND coalesce(supersedes_load_ids, '') <> '' ORDER BY source_file"
        ).fetchall()
    ]
    return out


def read_audit_summary() -> AuditSummary:
    with connect(read_only=True) as con:
        return audit_summary(con)
