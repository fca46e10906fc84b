"""The demo's planted faults reach every audit view, and its summary counts equal the audit tables."""

from __future__ import annotations

from pathlib import Path

import duckdb

from grassroots.audit_summary import audit_summary
from grassroots.generate import generate
from grassroots.ingest import ingest_pending

# The feeds the faults are planted in (the case log has none: loading it adds nothing here).
FEEDS = ("staff_roster", "household_registration", "resident_population")


def _table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The same facts read independently of audit_summary (plain counts per status and rule)."""
    status = dict(
        con.execute(
            "SELECT status, count(DISTINCT source_file) FROM audit.load_log GROUP BY status"
        ).fetchall()
    )
    by_rule = dict(con.execute("SELECT rule, count(*) FROM audit.quarantine GROUP BY rule").fetchall())
    raw_rows = {feed: con.execute(f"SELECT count(*) FROM raw.{feed}").fetchone()[0] for feed in FEEDS}
    return {"status": status, "by_rule": by_rule, "raw_rows": raw_rows}


def test_demo_faults_fill_the_audit_views_and_the_summary_counts_them(data_dir: Path) -> None:
    landing = data_dir / "landing"
    planted = generate(landing, start="2024-01", months=3, seed=42, scale=0.3, faults=True).faults
    assert planted is not None
    assert planted.blocked and planted.duplicates and planted.restatements and planted.bad_rows

    results = [r for feed in FEEDS for r in ingest_pending(feed, validate=True)]
    statuses = {r.source_file: r.status for r in results}
    assert [f for f, s in statuses.items() if s == "blocked"] == planted.blocked
    assert [f for f, s in statuses.items() if s == "duplicate"] == planted.duplicates
    assert all(s in ("loaded", "blocked", "duplicate") for s in statuses.values()), statuses

    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        summary = audit_summary(con)
        tables = _table_counts(con)
        delivery_status = con.execute(
            "SELECT count(*) FROM audit.delivery_status WHERE files_blocked > 0"
        ).fetchone()[0]
    finally:
        con.close()

    # what was planted is what the audit shows ...
    assert summary.quarantined_by_rule == planted.bad_rows
    assert [f for f, _ in summary.blocked] == planted.blocked
    assert [f for f, _ in summary.duplicates] == planted.duplicates
    assert summary.restatements == [(f, 1) for f in planted.restatements]
    assert summary.rejected == []
    # ... and the summary's counts equal the audit tables, read independently
    assert sum(files for files, _, _ in summary.loaded.values()) == tables["status"]["loaded"]
    assert len(summary.blocked) == tables["status"]["blocked"]
    assert len(summary.duplicates) == tables["status"]["duplicate"]
    assert summary.quarantined_by_rule == tables["by_rule"]
    assert {feed: rows for feed, (_, rows, _) in summary.loaded.items()} == tables["raw_rows"]
    assert sum(bad for _, _, bad in summary.loaded.values()) == sum(tables["by_rule"].values())
    assert delivery_status == 1  # the auditors' per-date view shows the blocked file

    text = summary.format()
    for rule, n in planted.bad_rows.items():
        assert f"{n:>6,}  {rule}" in text
    assert f"blocked files: {len(planted.blocked)}" in text
    assert planted.blocked[0] in text and planted.duplicates[0] in text
    assert "audit.delivery_status" in text
