"""Through the real ingest: every file's rows_quarantined equals its rows in audit.quarantine."""

from __future__ import annotations

from pathlib import Path

import duckdb
from test_ingest import HR_HEADER, U1, U2, deliver, run

from grassroots.audit_checks import audit_inconsistencies


def _hr(unit: str, pop: str) -> str:
    return f"{unit},2024-01-31,{pop},400,150"


def test_blocked_loaded_and_rejected_files_agree_with_the_quarantine(data_dir: Path) -> None:
    # Loaded with one quarantined row (an unknown unit): 1 in the log, 1 in the quarantine.
    deliver(
        data_dir,
        "household_registration",
        "2024-01-31",
        "household_registration_a.csv",
        [HR_HEADER, _hr(U1, "1000"), _hr(U2, "900"), _hr("999999999999", "10")],
    )
    # Blocked whole (every row breaks a rule): refused, so 0 and 0, with the reason.
    deliver(
        data_dir,
        "household_registration",
        "2024-02-29",
        "household_registration_b.csv",
        [HR_HEADER, _hr("999999999998", "5"), _hr("999999999997", "6")],
    )
    # Rejected unread (a required column missing).
    deliver(
        data_dir,
        "household_registration",
        "2024-03-31",
        "household_registration_c.csv",
        ["unit_code,as_of_date", f"{U1},2024-03-31"],
    )
    results = {Path(r.source_file).name: r for r in run("household_registration")}
    assert {n: r.status for n, r in results.items()} == {
        "household_registration_a.csv": "loaded",
        "household_registration_b.csv": "blocked",
        "household_registration_c.csv": "rejected",
    }

    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    log = {
        Path(f).name: (status, rows_in, rows_q, error)
        for f, status, rows_in, rows_q, error in con.execute(
            "SELECT source_file, status, rows_in, rows_quarantined, error FROM audit.load_log"
        ).fetchall()
    }
    in_quarantine = dict(
        con.execute("SELECT source_file, count(*) FROM audit.quarantine GROUP BY 1").fetchall()
    )
    assert log["household_registration_a.csv"][2] == 1 and in_quarantine == {
        "household_registration/2024-01-31/household_registration_a.csv": 1
    }
    assert (
        log["household_registration_b.csv"][:3] == ("blocked", 2, 0)
        and "break row rules" in log["household_registration_b.csv"][3]
    )
    assert log["household_registration_c.csv"][2] == 0 and log["household_registration_c.csv"][3]
    assert audit_inconsistencies(con) == []

    # The check sees a disagreement when there is one.
    con.execute("DELETE FROM audit.quarantine")
    assert [
        (Path(b["source_file"]).name, b["rows_quarantined"], b["rows_in_quarantine"])
        for b in audit_inconsistencies(con)
    ] == [("household_registration_a.csv", 1, 0)]
    con.close()
