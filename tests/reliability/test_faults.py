"""Faults on the shared region: a run killed (SIGKILL) at each stage and rerun gives the marts of an
uninterrupted run; a locked warehouse waits or fails clearly; a dropped PostgreSQL connection is
survived the same way.

The stage-by-stage kill of one delivery, with the exact warehouse state after each kill, is in
test_faults_ingest_stages.py.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import duckdb
import pytest
import reliability_helpers as rh
from conftest import Reference, fresh_data_dir

# One kill per ingest stage, each in another feed and on the second delivery of the feed (the
# first is loaded normally): landing read, raw write (temp file / renamed), warehouse publish.
INGEST_KILLS = (
    ("staff_roster", "read", "landing read (file read and typed, rules applied)"),
    ("household_registration", "raw_tmp_written", "raw write (Parquet temp file written)"),
    ("resident_population", "raw_written", "raw write (Parquet renamed into the raw zone)"),
    ("case_log", "before_commit", "warehouse publish (inside the transaction, before COMMIT)"),
    ("case_log", "after_commit", "warehouse publish (just after COMMIT)"),
)


@pytest.mark.slow
def test_ingest_killed_at_every_stage_then_rerun_gives_identical_marts(
    reference: Reference, tmp_path: Path
) -> None:
    from grassroots.landing import find_deliveries

    data = fresh_data_dir(tmp_path, reference.landing)
    for feed, stage, label in INGEST_KILLS:
        deliveries = find_deliveries(data / "landing", feed)
        if stage != "after_commit":
            # the feed's first delivery loads normally; the kill hits the next one
            rh.ingest_all(data, [feed], until=deliveries[0].delivery_date)
        before = rh.warehouse_state(data, zones=False)
        loaded_before = _loaded_files(data)
        assert rh.killed_ingest(data, feed, stage) == -signal.SIGKILL, stage
        after = _loaded_files(data)
        if stage == "after_commit":
            # the file was published whole before the kill: one more file, consistent audit
            assert len(after) == len(loaded_before) + 1
            happened = "killed just after a commit: that file counts as loaded; rerun loads the rest"
        else:
            # nothing half-published: raw tables, quarantine and load log exactly as before
            assert rh.warehouse_state(data, zones=False) == before, stage
            assert after == loaded_before
            happened = "warehouse unchanged after the kill (raw, quarantine, load log); rerun completed it"
        rh.audit_consistent(data)
        rh.record(
            "faults",
            f"1-ingest-{len(rh.SCENARIOS):02d}-{stage}",
            f"SIGKILL during {label}, {feed}",
            happened,
        )

    results = rh.ingest_all(data)
    assert {r.status for r in results} <= {"loaded", "already_loaded"}
    assert not list(data.rglob(".*.tmp-*")), "temp files of killed loads are swept, never published"
    totals = rh.audit_consistent(data)
    assert totals == reference.totals
    assert rh.warehouse_state(data) == reference.state
    rh.load_reference(data)
    rh.run_dbt(data / "warehouse.duckdb", tmp_path / "dbt")
    identical = rh.mart_hashes(data / "warehouse.duckdb") == reference.marts
    assert identical
    # the rows of the kill scenarios: the whole region after the rerun, against the reference
    for key, s in list(rh.SCENARIOS.items()):
        if key[0] == "faults" and key[1].startswith("1-ingest-"):
            rh.record(
                "faults",
                key[1],
                s.scenario,
                s.happened,
                rows=totals,
                marts_identical=identical,
            )


def _loaded_files(data: Path) -> list[str]:
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        return [
            r[0]
            for r in con.execute(
                "SELECT source_file FROM audit.load_log WHERE status = 'loaded' ORDER BY 1"
            ).fetchall()
        ]
    finally:
        con.close()


def _copy_reference_warehouse(reference: Reference, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy2(reference.warehouse, data / "warehouse.duckdb")
    assert not reference.warehouse.with_name("warehouse.duckdb.wal").exists()
    return data / "warehouse.duckdb"


MODELS_BEFORE_KILL = 12


@pytest.mark.slow
def test_dbt_build_killed_midway_then_rerun_gives_identical_marts(
    reference: Reference, tmp_path: Path
) -> None:
    """`dbt build` killed with SIGKILL after some models were built: no mart is left half-built, the
    warehouse file opens, and the rerun gives the reference marts."""
    wh = _copy_reference_warehouse(reference, tmp_path)
    # Start from raw data only: the marts of the reference are dropped, so "half-published" is visible.
    con = duckdb.connect(str(wh))
    for schema in ("staging", "intermediate", "marts"):
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    con.close()
    work = tmp_path / "dbt"
    log = work / "logs" / "dbt.log"

    def some_models_built() -> bool:
        return log.exists() and log.read_text(errors="replace").count("OK created") >= MODELS_BEFORE_KILL

    cmd = rh.dbt_command(work, *rh.MODELS_ONLY)
    killed = rh.start_and_kill(cmd, rh.dbt_env(wh), cwd=rh.DBT_PROJECT_DIR, when=some_models_built)
    assert killed, "dbt finished before it could be killed"
    partial = rh.mart_hashes(wh)  # the file opens (DuckDB replays or discards its WAL)
    whole = {t: h for t, h in partial.items() if reference.marts.get(t) == h}
    assert partial == whole, f"half-built marts after the kill: {set(partial) - set(whole)}"
    assert len(partial) < len(reference.marts), "the kill came after the last mart"
    rh.run_dbt(wh, work)
    identical = rh.mart_hashes(wh) == reference.marts
    assert identical
    rh.record(
        "faults",
        "2-dbt",
        f"SIGKILL during dbt build (once its log showed {MODELS_BEFORE_KILL} models built)",
        f"killed with fewer than the {len(reference.marts)} marts built, each one that existed whole "
        f"(its reference hash); the rerun built all {len(reference.marts)}",
        marts_identical=identical,
    )


@pytest.mark.slow
def test_report_killed_midway_leaves_the_published_report(reference: Reference, tmp_path: Path) -> None:
    """The report builder killed while writing: the published report stays whole; the rerun publishes
    the same pages and leaves no temporary directory behind."""
    wh = _copy_reference_warehouse(reference, tmp_path)
    reports = tmp_path / "reports"
    shutil.copytree(reference.reports, reports)
    evaluation = reports / "evaluation"
    published = rh.tree_bytes(evaluation)
    assert any(k.startswith("latest/") for k in published)
    env = rh.data_env(wh.parent, reports)

    def half_written() -> bool:
        tmps = list(evaluation.glob(".*.tmp-*"))
        return any(sum(1 for _ in t.rglob("*.html")) >= 2 for t in tmps)

    cmd = [sys.executable, "-m", "grassroots.report"]
    assert rh.start_and_kill(cmd, env, cwd=tmp_path, when=half_written), "the report finished first"
    assert rh.tree_bytes(evaluation) == published, "the published report changed under a killed build"
    assert list(evaluation.glob(".*.tmp-*")), "the kill left its temporary directory (hidden)"
    subprocess.run(cmd, env=env, cwd=tmp_path, check=True, capture_output=True, timeout=600)
    assert not [p.name for p in evaluation.iterdir() if p.name.startswith(".")], "leftovers swept"
    rebuilt = rh.tree_bytes(evaluation)
    assert sorted(rebuilt) == sorted(published)
    # identical but for the report's "generated" time stamp (minutes)
    stamp = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")

    def content(name: str, blob: bytes) -> bytes:
        if name.endswith(".xlsx"):  # the cells, not the workbook's creation time in docProps/
            with zipfile.ZipFile(io.BytesIO(blob)) as zf:
                return b"".join(zf.read(n) for n in sorted(zf.namelist()) if not n.startswith("docProps/"))
        return stamp.sub(b"", blob)

    differ = [k for k in rebuilt if content(k, rebuilt[k]) != content(k, published[k])]
    assert not differ, f"the rerun's report differs from the uninterrupted one: {differ[:5]}"
    identical = rh.mart_hashes(wh) == reference.marts
    assert identical
    pages = sum(k.endswith(".html") for k in rebuilt)
    exports = sum(k.endswith((".csv", ".xlsx")) for k in rebuilt)
    rh.record(
        "faults",
        "3-report",
        "SIGKILL during the report build",
        f"published report ({len(published)} files) untouched by the killed build; the rerun published "
        f"{pages} pages and {exports} exports, each identical to the uninterrupted build's (but for the "
        "generation time); temp dir swept",
        marts_identical=identical,
    )


HR = "unit_code,as_of_date,registered_population,registered_households,registered_age_65_plus"
HOLD_LOCK = (
    "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
    "time.sleep(float(sys.argv[2]))"
)


def _hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def _hr_delivery(data: Path, day: str, rows: list[str]) -> None:
    path = data / "landing" / "household_registration" / day / f"household_registration_{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HR, *rows]) + "\n", encoding="utf-8")


def test_locked_warehouse_waits_or_fails_clearly(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grassroots import ingest

    u1, u2 = "110101001001", "110101001002"
    _hr_delivery(data_dir, "2024-01-31", [f"{u1},2024-01-31,3200,1100,400", f"{u2},2024-01-31,2100,800,300"])
    [jan] = ingest.ingest_pending("household_registration", validate=False)
    assert jan.status == "loaded"
    wh = data_dir / "warehouse.duckdb"

    # 1. Another writer holds the file for 3 s: the load waits for it, then publishes.
    _hr_delivery(data_dir, "2024-02-29", [f"{u1},2024-02-29,3210,1100,400", f"{u2},2024-02-29,2090,800,300"])
    holder = _hold_lock(wh, 3)
    t0 = time.monotonic()
    [feb] = [
        r for r in ingest.ingest_pending("household_registration", validate=False) if r.status == "loaded"
    ]
    waited = time.monotonic() - t0
    holder.wait()
    assert feb.rows_loaded == 2 and waited >= 1.0, waited

    # 2. The writer keeps it: the load gives up after its timeout with a clear error, changing nothing.
    _hr_delivery(data_dir, "2024-03-31", [f"{u1},2024-03-31,3220,1100,400"])
    before = rh.warehouse_state(data_dir)
    monkeypatch.setattr(ingest, "connect", functools.partial(ingest.connect, lock_timeout_s=2))
    holder = _hold_lock(wh, 60)
    try:
        with pytest.raises(RuntimeError, match="locked by another writer") as err:
            ingest.ingest_pending("household_registration", validate=False)
    finally:
        holder.kill()
        holder.wait()
    assert str(wh) in str(err.value) and "nothing was changed" in str(err.value)
    assert rh.warehouse_state(data_dir) == before, "a locked warehouse must not be touched"
    con = duckdb.connect(str(wh), read_only=True)  # and it is not corrupt
    assert con.execute("PRAGMA database_size").fetchall()
    con.close()
    monkeypatch.undo()
    monkeypatch.setenv("GRASSROOTS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("GRASSROOTS_PII_KEY", rh.TEST_PII_KEY)
    [mar] = [
        r for r in ingest.ingest_pending("household_registration", validate=False) if r.status == "loaded"
    ]
    totals = rh.audit_consistent(data_dir)
    assert mar.rows_loaded == 1 and totals == (5, 5, 0)
    rh.record(
        "faults",
        "4-locked",
        "warehouse file locked by another writer",
        "held 3 s: the load waited for the lock and published; held longer than the timeout: "
        "clear error naming the file, nothing changed; later run loaded it",
        rows=totals,
    )


# Database names of their own per checkout running the battery (GRASSROOTS_TEST_PG_DBNAME).
_PG_PREFIX = os.environ.get("GRASSROOTS_TEST_PG_DBNAME", "grassroots_rel")
PG_REF, PG_FAULT = f"{_PG_PREFIX}_pg_ref", f"{_PG_PREFIX}_pg_fault"


def _pg_admin():
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        con = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres", connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at 127.0.0.1:5432: {exc}")
    con.autocommit = True
    return con


def _pg_fresh(dbname: str) -> None:
    con = _pg_admin()
    with con.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{dbname}"')
    con.close()


def _pg_mart_hashes(dbname: str) -> dict:
    from grassroots.pg_warehouse import attach

    con = duckdb.connect()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("GRASSROOTS_PG_DBNAME", dbname)
            attach(con, read_only=True)
        return rh.mart_hashes_on(con, "marts", catalog="pgwh")
    finally:
        con.close()


def _pg_raw_counts(dbname: str) -> dict[str, int]:
    import psycopg2

    con = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=dbname, connect_timeout=5)
    try:
        with con.cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1"
            )
            out = {}
            for (name,) in cur.fetchall():
                cur.execute(f'SELECT count(*) FROM raw."{name}"')
                out[name] = cur.fetchone()[0]
            return out
    finally:
        con.close()


def _mirror(warehouse: Path, dbname: str) -> None:
    from grassroots.pg_warehouse import mirror_raw

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRASSROOTS_PG_DBNAME", dbname)
        con = duckdb.connect(str(warehouse))
        try:
            mirror_raw(con)
        finally:
            con.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_connection_dropped_mid_load(reference: Reference, tmp_path: Path) -> None:
    """The mirror of the raw zone into PostgreSQL loses its backend (pg_terminate_backend) mid-load:
    PostgreSQL keeps its previous state, the rerun completes it, and dbt builds the marts of an
    uninterrupted PostgreSQL run."""
    wh = _copy_reference_warehouse(reference, tmp_path)
    pg_env = {"GRASSROOTS_DBT_TARGET": "postgres"}
    # The uninterrupted run on PostgreSQL.
    _pg_fresh(PG_REF)
    _mirror(wh, PG_REF)
    rh.run_dbt(
        wh, tmp_path / "dbt_ref", target="postgres", env_extra={**pg_env, "GRASSROOTS_PG_DBNAME": PG_REF}
    )
    expected = _pg_mart_hashes(PG_REF)
    assert len(expected) == len(reference.marts)

    # The interrupted one: January's case files are mirrored first, the rest is the load that breaks.
    _pg_fresh(PG_FAULT)
    early = tmp_path / "early.duckdb"
    shutil.copy2(wh, early)
    con = duckdb.connect(str(early))
    con.execute("DELETE FROM raw.case_log WHERE delivery_date > DATE '2024-01-31'")
    con.close()
    _mirror(early, PG_FAULT)
    before = _pg_raw_counts(PG_FAULT)
    killed: list[int] = []
    # Deterministic timing: the last table of the mirror is locked, so the load stops there, inside
    # its transaction (the earlier tables already changed); then its backends are terminated.
    import psycopg2

    locker = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=PG_FAULT, connect_timeout=5)
    with locker.cursor() as cur:
        cur.execute("LOCK TABLE raw.staff_roster IN ACCESS EXCLUSIVE MODE")
        cur.execute("SELECT pg_backend_pid()")
        locker_pid = cur.fetchone()[0]

    def terminate_while_loading() -> None:
        admin = _pg_admin()
        deadline = time.monotonic() + 120
        try:
            with admin.cursor() as cur:
                while time.monotonic() < deadline and not killed:
                    cur.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                        "AND pid <> %s",
                        (PG_FAULT, locker_pid),
                    )
                    if cur.fetchall():
                        cur.execute(
                            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid NOT IN (%s, "
                            "pg_backend_pid())",
                            (PG_FAULT, locker_pid),
                        )
                        for (pid,) in cur.fetchall():
                            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
                            killed.append(pid)
                    time.sleep(0.02)
        finally:
            admin.close()
            locker.rollback()
            locker.close()

    killer = threading.Thread(target=terminate_while_loading)
    killer.start()
    with pytest.raises(Exception) as err:  # noqa: PT011 - the driver's error, whatever its class
        _mirror(wh, PG_FAULT)
    killer.join()
    assert killed, "the load finished before its backend could be terminated"
    chain, exc = [], err.value
    while exc is not None:  # the driver's error may be chained under a failed ROLLBACK
        chain.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    assert any("terminat" in m.lower() or "connection" in m.lower() for m in chain), chain
    assert _pg_raw_counts(PG_FAULT) == before, "a dropped connection must leave the previous state"
    _mirror(wh, PG_FAULT)
    after = _pg_raw_counts(PG_FAULT)
    assert after == _pg_raw_counts(PG_REF) and sum(after.values()) > sum(before.values())
    rh.run_dbt(
        wh, tmp_path / "dbt_fault", target="postgres", env_extra={**pg_env, "GRASSROOTS_PG_DBNAME": PG_FAULT}
    )
    identical = _pg_mart_hashes(PG_FAULT) == expected
    assert identical
    rh.record(
        "faults",
        "5-postgres",
        "PostgreSQL backend terminated mid-load (raw mirror)",
        f"driver error; PostgreSQL raw tables kept their previous {sum(before.values()):,} rows; the "
        f"rerun mirrored them to {sum(after.values()):,}, as in an uninterrupted run; dbt on PostgreSQL "
        f"gave that run's {len(expected)} marts",
        marts_identical=identical,
    )
