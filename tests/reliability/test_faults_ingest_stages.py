"""A load killed (SIGKILL) at any stage leaves the warehouse as it was; the next run completes it.

Uses the ingest's test hook GRASSROOTS_TEST_KILL_AT=<stage> (see grassroots.ingest): the load runs in
a subprocess that kills itself at the stage; the rerun happens here, and the result is compared
with an uninterrupted run of the same landing zone in another data directory.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from grassroots.ingest import ingest_pending

ROOT = Path(__file__).resolve().parents[2]
U1, U2, TOWN = "110101001001", "110101001002", "110101001000"
HR = "unit_code,as_of_date,registered_population,registered_households,registered_age_65_plus"
FEED = "household_registration"


def _land(data_dir: Path) -> None:
    for day, rows in {
        "2024-01-31": [
            f"{U1},2024-01-31,3200,1100,400",
            f"{U2},2024-01-31,2100,800,300",
        ],
        # The interrupted delivery: good rows and one quarantined row (negative count).
        "2024-02-29": [
            f"{U1},2024-02-29,3210,1100,400",
            f"{U2},2024-02-29,2090,800,300",
            f"{TOWN},2024-02-29,900,300,100",
            f"{TOWN},2024-02-29,-1,300,100",
        ],
    }.items():
        path = data_dir / "landing" / FEED / day / f"{FEED}_{day[:7].replace('-', '')}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([HR, *rows]) + "\n", encoding="utf-8")


def _state(data_dir: Path) -> str:
    """Warehouse raw + audit tables and the Parquet zones' rows, without load times."""
    h = hashlib.sha256()
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        for table, drop in (
            (f"raw.{FEED}", ["loaded_at"]),
            ("audit.quarantine", []),
            ("audit.load_log", ["run_id", "started_at", "finished_at"]),
        ):
            cols = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall() if c[0] not in drop]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY ALL").fetchall()
            h.update(f"{table}{rows}".encode())
        for zone in ("raw", "quarantine"):
            files = sorted((data_dir / zone).rglob("*.parquet"))
            h.update(str([p.relative_to(data_dir).as_posix() for p in files]).encode())
            for p in files:
                exclude = "EXCLUDE (loaded_at)" if zone == "raw" else ""
                rows = con.execute(f"SELECT * {exclude} FROM read_parquet('{p}') ORDER BY ALL").fetchall()
                h.update(str(rows).encode())
    finally:
        con.close()
    return h.hexdigest()


def _killed_run(data_dir: Path, stage: str) -> int:
    """Run the ingest in a fresh interpreter with the kill hook set; return its exit code."""
    env = {
        **os.environ,
        "GRASSROOTS_DATA_DIR": str(data_dir),
        "GRASSROOTS_TEST_KILL_AT": stage,
        "PYTHONPATH": str(ROOT / "plugins"),
    }
    code = f"from grassroots.ingest import ingest_pending; ingest_pending({FEED!r}, validate=False)"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert proc.returncode in (0, -signal.SIGKILL), proc.stderr.decode()[-2000:]
    return proc.returncode


def _killed_fork(data_dir: Path, stage: str) -> int:
    """The same in a forked child: no interpreter start-up (seconds here), same kill."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.environ["GRASSROOTS_DATA_DIR"] = str(data_dir)
            os.environ["GRASSROOTS_TEST_KILL_AT"] = stage
            ingest_pending(FEED, validate=False)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


@pytest.fixture()
def reference_state(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The state after an uninterrupted run of the same landing zone."""
    ref = tmp_path / "reference"
    _land(ref)
    monkeypatch.setenv("GRASSROOTS_DATA_DIR", str(ref))
    assert [r.status for r in ingest_pending(FEED, validate=False)] == [
        "loaded",
        "loaded",
    ]
    monkeypatch.setenv("GRASSROOTS_DATA_DIR", str(data_dir))
    return _state(ref)


def test_killed_loads_leave_the_warehouse_and_the_rerun_completes(
    data_dir: Path, reference_state: str
) -> None:
    import datetime as dt

    _land(data_dir)
    [jan] = ingest_pending(FEED, validate=False, until=dt.date(2024, 1, 31))
    assert jan.status == "loaded"
    before = _state(data_dir)
    raw_part = data_dir / "raw" / FEED / "delivery_date=2024-02-29"

    for stage in ("read", "raw_tmp_written", "raw_written", "before_commit"):
        assert _killed_fork(data_dir, stage) == -signal.SIGKILL, stage
        # Whatever the stage, the warehouse has not changed (the Parquet zone may hold the
        # not-yet-published file, which the warehouse does not know and the rerun rewrites).
        con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
        loads = con.execute("SELECT source_file, status FROM audit.load_log ORDER BY 1").fetchall()
        febs = con.execute(f"SELECT count(*) FROM raw.{FEED} WHERE as_of_date = DATE '2024-02-29'").fetchone()
        con.close()
        assert loads == [(jan.source_file, "loaded")] and febs == (0,), stage
        if stage == "raw_tmp_written":
            stale = list(raw_part.glob(".*.tmp-*"))
            assert len(stale) == 1, "the kill leaves a temp file behind"
            # ... which no reader of the raw zone picks up.
            assert not list(raw_part.glob("*.parquet"))
            assert not list((data_dir / "raw").rglob("*.parquet")) or all(
                "2024-02-29" not in str(p) for p in (data_dir / "raw").rglob("*.parquet")
            )

    [res] = [r for r in ingest_pending(FEED, validate=False) if r.status != "already_loaded"]
    assert (res.status, res.rows_in, res.rows_loaded, res.rows_quarantined) == (
        "loaded",
        4,
        3,
        1,
    )
    assert _state(data_dir) == reference_state
    assert not list(data_dir.rglob(".*.tmp-*")), "stale temp files are swept, never published"
    assert before != reference_state

    # Killed after the commit: the load is complete; the next run has nothing to do.
    assert _killed_fork(data_dir, "after_commit") == 0  # nothing pending: the hook is never reached
    assert [r.status for r in ingest_pending(FEED, validate=False)] == [
        "already_loaded",
        "already_loaded",
    ]
    assert _state(data_dir) == reference_state


def test_kill_after_commit_counts_as_loaded(data_dir: Path, reference_state: str) -> None:
    _land(data_dir)
    assert _killed_run(data_dir, "after_commit") == -signal.SIGKILL
    # The first file was committed before the kill; the rerun loads the second one.
    statuses = [r.status for r in ingest_pending(FEED, validate=False)]
    assert statuses == ["already_loaded", "loaded"]
    assert _state(data_dir) == reference_state
