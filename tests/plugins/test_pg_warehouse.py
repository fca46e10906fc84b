"""Mirroring the raw zone into the PostgreSQL warehouse: complete, idempotent, atomic."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import duckdb
import psycopg2
import pytest

from grassroots.generate import generate
from grassroots.ingest import ingest_pending
from grassroots.pg_warehouse import marts_connection, mirror_raw
from grassroots.reference import load_reference_tables
from grassroots.warehouse import connect, ensure_schemas

pytestmark = [pytest.mark.postgres]
DBNAME = "grassroots_test_mirror"
FEEDS = ("staff_roster", "household_registration", "resident_population", "case_log")


def _admin(dbname: str = "postgres"):
    con = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=dbname, connect_timeout=5)
    con.autocommit = True
    return con


@pytest.fixture()
def pg_target(monkeypatch: pytest.MonkeyPatch) -> str:
    con = _admin()
    with con.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{DBNAME}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{DBNAME}"')
    con.close()
    monkeypatch.setenv("GRASSROOTS_DBT_TARGET", "postgres")
    monkeypatch.setenv("GRASSROOTS_PG_DBNAME", DBNAME)
    return DBNAME


def _pg_rows(sql: str) -> list[tuple]:
    con = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=DBNAME)
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            rows = cur.fetchall()
        con.commit()
        return rows
    finally:
        con.close()


@pytest.fixture(scope="module")
def loaded_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small region generated and ingested once; each test works on a copy."""
    data = tmp_path_factory.mktemp("mirror") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRASSROOTS_DATA_DIR", str(data))
        mp.setenv("GRASSROOTS_PII_KEY", "mirror-test-key-0123456789abcdef")
        mp.delenv("GRASSROOTS_WAREHOUSE", raising=False)
        generate(data / "landing", counties=["350206"], start="2024-01", months=1, seed=3, scale=0.02)
        for feed in FEEDS:
            ingest_pending(feed, validate=False)
        with connect() as con:
            ensure_schemas(con)
            load_reference_tables(con, schema="raw")
    return data / "warehouse.duckdb"


@pytest.fixture()
def data_dir(data_dir: Path, loaded_warehouse: Path) -> Path:
    shutil.copy2(loaded_warehouse, data_dir / "warehouse.duckdb")
    return data_dir


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' "
        "AND table_catalog = current_database() ORDER BY 1"
    ).fetchall()
    return {t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for (t,) in names}


def test_mirror_copies_everything_then_changes_nothing(data_dir: Path, pg_target: str) -> None:
    with connect() as con:
        first = mirror_raw(con)
        local = _counts(con)
        # dbt's staging views depend on the raw tables: the mirror must never drop them.
        _pg_rows(
            "CREATE SCHEMA staging; CREATE VIEW staging.v AS SELECT d.*, c.case_id FROM raw.ref_divisions d "
            "CROSS JOIN raw.case_log c LIMIT 1; SELECT 1"
        )
        second = mirror_raw(con)
    assert set(first) == set(local) and {"case_log", "staff_roster", "ref_divisions"} <= set(local)
    for table, n in local.items():
        assert _pg_rows(f"SELECT count(*) FROM raw.{table}")[0][0] == n, table
    assert first["case_log"]["replaced"] == local["case_log"] > 0  # new table: copied whole
    # Second run: the feeds move by load id, reference tables by fingerprint: nothing changed.
    assert all(s == {"replaced": 0, "inserted": 0, "deleted": 0} for s in second.values()), second
    # Same content, not only the same counts.
    digest = "SELECT md5(string_agg(case_id || status, ',' ORDER BY case_id, updated_at)) FROM raw.case_log"
    pg_ids = _pg_rows(digest)
    with connect(read_only=True) as con:
        local_ids = con.execute(digest).fetchone()
    assert pg_ids[0] == local_ids


def test_withdrawn_load_is_deleted_from_the_mirror(data_dir: Path, pg_target: str) -> None:
    with connect() as con:
        mirror_raw(con)
        load_id = con.execute("SELECT min(load_id) FROM raw.staff_roster").fetchone()[0]
        con.execute("DELETE FROM raw.staff_roster WHERE load_id = ?", [load_id])
        result = mirror_raw(con)
        left = con.execute("SELECT count(*) FROM raw.staff_roster").fetchone()[0]
    assert result["staff_roster"]["deleted"] > 0
    assert _pg_rows("SELECT count(*) FROM raw.staff_roster")[0][0] == left


def test_backend_terminated_mid_mirror_leaves_previous_state(data_dir: Path, pg_target: str) -> None:
    """The PostgreSQL connection dies mid-load: nothing half-copied, and a rerun completes it.

    Deterministic: the mirror has already copied a new case-log load in its transaction when it
    blocks on a lock the test holds on raw.staff_roster; the test then terminates its backend.
    """
    with connect() as con:
        mirror_raw(con)
        before = {t: _pg_rows(f"SELECT count(*) FROM raw.{t}")[0][0] for t in _counts(con)}
        # A new case-log load and a withdrawn roster load, both for the next mirror to carry over.
        con.execute("INSERT INTO raw.case_log SELECT * REPLACE ('late-load' AS load_id) FROM raw.case_log")
        con.execute(
            "DELETE FROM raw.staff_roster WHERE load_id = (SELECT min(load_id) FROM raw.staff_roster)"
        )
        after = _counts(con)
    admin = _admin(DBNAME)
    holder = admin.cursor()
    holder.execute("BEGIN; LOCK TABLE raw.staff_roster IN ACCESS EXCLUSIVE MODE")
    killed: list[int] = []

    def terminate_when_blocked() -> None:
        deadline = time.monotonic() + 60
        watcher = _admin()
        with watcher.cursor() as cur:
            while time.monotonic() < deadline and not killed:
                cur.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                    (DBNAME,),
                )
                for (pid,) in cur.fetchall():
                    cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
                    killed.append(pid)
                time.sleep(0.05)
        watcher.close()

    killer = threading.Thread(target=terminate_when_blocked)
    killer.start()
    try:
        with connect() as con, pytest.raises(Exception):  # noqa: B017, PT011 - any driver error will do
            mirror_raw(con)
    finally:
        killer.join()
        holder.execute("ROLLBACK")
        admin.close()
    assert killed, "the mirror never blocked on the held lock"
    # Nothing of the interrupted mirror is visible: not the case-log load it had already copied.
    assert {t: _pg_rows(f"SELECT count(*) FROM raw.{t}")[0][0] for t in before} == before
    assert _pg_rows("SELECT count(*) FROM raw.case_log WHERE load_id = 'late-load'") == [(0,)]
    with connect() as con:
        mirror_raw(con)
    assert {t: _pg_rows(f"SELECT count(*) FROM raw.{t}")[0][0] for t in after} == after


def test_marts_connection_reads_postgres(data_dir: Path, pg_target: str) -> None:
    con = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=DBNAME)
    with con, con.cursor() as cur:
        cur.execute("CREATE SCHEMA marts; CREATE TABLE marts.dim_unit AS SELECT 'x'::text AS unit_code")
    con.close()
    with marts_connection() as duck:
        assert duck.execute("SELECT unit_code FROM marts.dim_unit").fetchall() == [("x",)]
        tables = duck.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchall()
    assert tables == [("dim_unit",)]
