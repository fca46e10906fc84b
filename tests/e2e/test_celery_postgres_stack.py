"""The production configuration without Docker: CeleryExecutor, Redis broker, PostgreSQL metadata
database and the PostgreSQL warehouse target, with the api-server, scheduler, dag-processor and one
Celery worker running as real processes (what docker-compose.yml starts, minus the containers).

One stack serves the module, in order:
1. one delivery date lands; the ingest DAGs run on their schedule (unpaused), each published
   delivery emits an asset event, and exactly one warehouse run follows, which builds the marts
   in PostgreSQL (hand-computed dissimilarity indices of a two-village county);
2. the rest of January and February land late: `airflow backfill create` of the two months for
   every ingest DAG, then a triggered warehouse run;
3. the same backfill again (reprocessing completed runs) and two warehouse runs triggered
   together: no new load, identical marts (content hash of every mart table), and the two runs
   never overlap.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest
from two_village_county import COUNTY, VILLAGE_A, VILLAGE_B, two_village_county

from grassroots.generate import generate

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
META_DB, WAREHOUSE_DB = "grassroots_e2e_airflow", "grassroots_e2e_warehouse"
REDIS_DB = 7
FEEDS = ("staff_roster", "household_registration", "resident_population", "case_log")
FIRST_DELIVERY = "2024-01-31"


def _pg(dbname: str, sql: str, params: tuple = ()) -> list[tuple]:
    con = psycopg2.connect(dbname=dbname, connect_timeout=5, **PG)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        con.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    env: dict[str, str]
    home: Path
    data: Path
    held_back: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def airflow(self, *args: str, timeout: int = 300) -> str:
        proc = subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, (
            f"airflow {' '.join(args)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
        return proc.stdout

    def start(self, name: str, *args: str) -> None:
        log = open(self.home / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(
            [AIRFLOW, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def logs(self) -> str:
        out = []
        for name in self.procs:
            text = (self.home / f"{name}.log").read_text(errors="replace")
            out.append(f"----- {name} (exit {self.procs[name].poll()}) -----\n{text[-2500:]}")
        return "\n".join(out)

    def wait(self, what: str, predicate: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
            assert not dead, f"stack process(es) exited {dead} while waiting for {what}\n{self.logs()}"
            if predicate():
                return
            time.sleep(2)
        failed = _pg(
            META_DB,
            "SELECT dag_id, run_id, task_id, state FROM task_instance "
            "WHERE state NOT IN ('success', 'skipped')",
        )
        pytest.fail(
            f"timed out after {timeout:.0f}s waiting for {what}; unfinished tasks {failed}\n{self.logs()}"
        )

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def runs(dag_id: str) -> list[tuple]:
    """(run_id, run_type, state, start_date, end_date) of a DAG, oldest first."""
    return _pg(
        META_DB,
        "SELECT run_id, run_type, state, start_date, end_date FROM dag_run WHERE dag_id = %s ORDER BY id",
        (dag_id,),
    )


def settled(dag_id: str, n: int) -> Callable[[], bool]:
    """At least n runs, all finished (success or failed)."""

    def check() -> bool:
        rs = runs(dag_id)
        return len(rs) >= n and all(r[2] in ("success", "failed") for r in rs)

    return check


def marts_digest() -> dict[str, str]:
    """Content hash of every table in schema marts of the PostgreSQL warehouse."""
    tables = [
        r[0]
        for r in _pg(
            WAREHOUSE_DB,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1",
        )
    ]
    return {
        t: _pg(
            WAREHOUSE_DB,
            f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM marts.\"{t}\" x",
        )[0][0]
        for t in tables
    }


def _split_landing(landing: Path, held_back: Path) -> None:
    """Keep only the first delivery date (and the census-style resident snapshot) in the landing zone."""
    for feed in FEEDS:
        for day in sorted((landing / feed).iterdir()):
            if day.name > FIRST_DELIVERY or (feed == "case_log" and day.name != FIRST_DELIVERY):
                target = held_back / feed / day.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(day), target)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    import redis

    base = tmp_path_factory.mktemp("celery_stack")
    home, data = base / "airflow", base / "data"
    home.mkdir()
    landing, held_back = data / "landing", base / "held_back"
    generate(landing, counties=["350206"], start="2024-01", months=2, seed=11, scale=0.02)
    two_village_county(landing)
    _split_landing(landing, held_back)

    for db in (META_DB, WAREHOUSE_DB):
        _pg("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        _pg("postgres", f'CREATE DATABASE "{db}"')
    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()

    port = _free_port()
    queue = f"grassroots-e2e-{port}"
    meta = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{META_DB}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "GRASSROOTS_", "PYTEST_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://postgres@127.0.0.1:5432/{META_DB}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            # A queue of this run's own: a worker left over from an interrupted run can't take its tasks.
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": hashlib.sha256(str(base).encode()).hexdigest(),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "GRASSROOTS_HOME": str(ROOT),
            "GRASSROOTS_DATA_DIR": str(data),
            "GRASSROOTS_REPORTS_DIR": str(base / "reports"),
            "GRASSROOTS_GX_DIR": str(base / "gx"),
            "GRASSROOTS_COSMOS_CACHE": str(base / "cosmos_cache"),
            "GRASSROOTS_PII_KEY": "celery-e2e-key-0123456789abcdef",
            "GRASSROOTS_DBT_TARGET": "postgres",
            "GRASSROOTS_PG_DBNAME": WAREHOUSE_DB,
            # Monthly ingest here, so that a two-month backfill is two runs per DAG; the warehouse
            # runs on the feeds' assets (and when triggered), not on a clock.
            **{f"GRASSROOTS_INGEST_CRON_{f.upper()}": "0 1 1 * *" for f in FEEDS},
            "GRASSROOTS_WAREHOUSE_CRON": "none",
        }
    )
    s = Stack(env=env, home=home, data=data, held_back=held_back)
    subprocess.run(
        [sys.executable, "-m", "grassroots.cli", "airflow-init"], env=env, check=True, capture_output=True
    )
    try:
        s.start("api-server", "api-server", "--port", str(port))
        s.start("scheduler", "scheduler")
        s.start("dag-processor", "dag-processor")
        s.start(
            "worker", "celery", "worker", "--queues", queue, "--concurrency", "2", "--without-gossip",
            "--without-mingle",
        )  # fmt: skip
        yield s
    finally:
        s.stop()
        print(f"\ncelery stack: {time.monotonic() - s.started:.0f}s from start to stop")


@pytest.fixture(scope="module")
def first_delivery(stack: Stack) -> Stack:
    # Unpaused at creation: each ingest DAG runs its latest interval as soon as it is parsed.
    for feed in FEEDS:
        stack.wait(f"ingest_{feed} to run", settled(f"ingest_{feed}", 1), timeout=420)
    stack.wait("the asset-triggered warehouse run", settled("grassroots_warehouse", 1), timeout=600)
    time.sleep(10)  # a second, spurious asset-triggered run would have been created by now
    return stack


def test_one_delivery_date_through_celery_to_the_postgres_warehouse(first_delivery: Stack) -> None:
    for feed in FEEDS:
        assert [r[2] for r in runs(f"ingest_{feed}")] == ["success"], feed
    warehouse = runs("grassroots_warehouse")
    # Exactly one warehouse run, created by the feeds' asset events (not by a clock or a trigger).
    assert [(r[1], r[2]) for r in warehouse] == [("asset_triggered", "success")], first_delivery.logs()
    # Every task ran on the Celery worker (the result backend holds one result per task try).
    tasks = _pg(META_DB, "SELECT count(*) FROM task_instance WHERE state = 'success'")[0][0]
    celery = _pg(META_DB, "SELECT count(*) FROM celery_taskmeta WHERE status = 'SUCCESS'")[0][0]
    assert celery >= tasks > 10
    # The marts are in PostgreSQL, with the hand-computed figures of the two-village county.
    county = _pg(
        WAREHOUSE_DB,
        "SELECT d_resident, d_registered, allocated_by_registration FROM marts.mart_staffing_mismatch_county "
        "WHERE county_code = %s AND month = DATE '2024-01-01'",
        (COUNTY,),
    )
    assert [(round(a, 6), round(b, 6), c) for a, b, c in county] == [(0.25, 0.0, True)]
    units = _pg(
        WAREHOUSE_DB,
        "SELECT unit_code, fair_share_staff, reallocation_delta FROM marts.mart_staffing_mismatch "
        "WHERE county_code = %s AND unit_level = 'village' ORDER BY unit_code",
        (COUNTY,),
    )
    assert [(u, round(f, 6), round(d, 6)) for u, f, d in units] == [
        (VILLAGE_A, 3.0, 1.0),
        (VILLAGE_B, 1.0, -1.0),
    ]
    # Analysts read the marts and nothing else.
    privileges = _pg(
        WAREHOUSE_DB,
        "SELECT has_table_privilege('analyst', 'marts.mart_staffing_mismatch', 'SELECT'), "
        "has_table_privilege('analyst', 'raw.staff_roster', 'SELECT'), "
        "has_table_privilege('analyst', 'staging.stg_case_log__cases', 'SELECT')",
    )
    assert privileges == [(True, False, False)]
    # Validation and report ran against the PostgreSQL marts.
    assert (first_delivery.data.parent / "reports" / "evaluation" / "2024-01" / "index.html").exists()


def backfills_done() -> bool:
    pending = _pg(META_DB, "SELECT count(*) FROM backfill WHERE completed_at IS NULL")[0][0]
    active = _pg(
        META_DB,
        "SELECT count(*) FROM dag_run WHERE dag_id LIKE 'ingest_%%' AND state NOT IN ('success', 'failed')",
    )[0][0]
    return pending == 0 and active == 0


def _backfill_and_rebuild(stack: Stack, *, reprocess: str, triggers: int) -> dict[str, str]:
    for feed in FEEDS:
        stack.airflow(
            "backfill", "create", "--dag-id", f"ingest_{feed}", "--max-active-runs", "1",
            "--from-date", "2024-02-01T00:00:00+08:00", "--to-date", "2024-03-01T23:59:59+08:00",
            "--reprocess-behavior", reprocess,
        )  # fmt: skip
    stack.wait("the backfills of the ingest DAGs", backfills_done, timeout=600)
    for feed in FEEDS:
        backfilled = [r for r in runs(f"ingest_{feed}") if r[1] == "backfill"]
        assert [r[2] for r in backfilled] == ["success", "success"], (feed, backfilled)
    n = len(runs("grassroots_warehouse"))
    for _ in range(triggers):
        stack.airflow("dags", "trigger", "grassroots_warehouse")
    stack.wait("the triggered warehouse runs", settled("grassroots_warehouse", n + triggers), timeout=900)
    return marts_digest()


def test_backfill_two_months_twice_gives_identical_marts(first_delivery: Stack) -> None:
    import duckdb

    for feed in FEEDS:  # January's other days and February arrive late
        for day in sorted((first_delivery.held_back / feed).glob("*")):
            shutil.move(str(day), first_delivery.data / "landing" / feed / day.name)
    loads = "SELECT count(*) FROM audit.load_log WHERE status = 'loaded'"
    wh = first_delivery.data / "warehouse.duckdb"
    first = _backfill_and_rebuild(first_delivery, reprocess="none", triggers=1)
    with duckdb.connect(str(wh), read_only=True) as con:
        loaded_once = con.execute(loads).fetchone()[0]
        months = con.execute("SELECT count(DISTINCT delivery_date) FROM raw.staff_roster").fetchone()[0]
    months_pg = _pg(WAREHOUSE_DB, "SELECT count(DISTINCT month) FROM marts.mart_staffing_mismatch")[0][0]
    assert months == 2 and months_pg == 2

    # The same backfill again, then two warehouse runs triggered together.
    second = _backfill_and_rebuild(first_delivery, reprocess="completed", triggers=2)
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute(loads).fetchone()[0] == loaded_once  # the rerun loaded nothing new
    assert len(first) >= 10 and second == first

    # The two triggered runs both succeeded and never overlapped (one writer at a time).
    manual = [r for r in runs("grassroots_warehouse") if r[1] == "manual"]
    assert [r[2] for r in manual] == ["success"] * 3
    (_, _, _, _, end_2), (_, _, _, start_3, _) = manual[1:]
    assert end_2 <= start_3


def test_no_personal_data_in_logs_xcoms_or_outputs(first_delivery: Stack) -> None:
    """The two-village county's ID numbers, phones and names appear only in the landing zone."""
    needles = [b"3705721980010100", b"13900000000", "测试0".encode()]
    base = first_delivery.data.parent
    scanned = 0
    for path in base.rglob("*"):
        rel = path.relative_to(base).parts
        if path.is_file() and "landing" not in rel and "held_back" not in rel:
            blob = path.read_bytes()
            scanned += 1
            assert not any(n in blob for n in needles), path
    assert scanned > 50  # task logs, raw and quarantine Parquet, DuckDB file, reports, Data Docs
    xcoms = _pg(META_DB, "SELECT value::text FROM xcom")
    assert xcoms and not any(n.decode() in (v or "") for (v,) in xcoms for n in needles)
    for table in ("raw.staff_roster", "marts.dim_unit"):
        text = _pg(WAREHOUSE_DB, f"SELECT coalesce(string_agg(t::text, '|'), '') FROM {table} t")[0][0]
        assert not any(n.decode() in text for n in needles), table
