"""The first nights of a new warehouse, through real `airflow dags test` runs at local midnight.

Night one (2024-01-31): only the case log and household registration have delivered. Their DAGs,
run at local midnight of the 31st (the 30th in UTC), load the folder dated the 31st; the roster's
DAG fails at once saying nothing was delivered (no six-hour poke); the warehouse builds green on
empty raw tables, with the findings "feed X never delivered". Night two (2024-02-01): the other two
feeds deliver and their DAGs load them. A run dated before the start date fails, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from grassroots.generate import generate

pytestmark = [pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
NIGHT_1, NIGHT_2 = "2024-01-31", "2024-02-01"


def _dags_test(dag_id: str, day: str, env: dict[str, str]) -> tuple[int, str, float]:
    airflow = str(Path(sys.executable).with_name("airflow"))
    started = time.monotonic()
    proc = subprocess.run(
        [airflow, "dags", "test", dag_id, day], env=env, capture_output=True, text=True, timeout=900
    )
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


def _succeeded(out: str) -> bool:
    return "state=success" in out and "state=failed" not in out


@pytest.fixture(scope="module")
def first_nights(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("first_nights")
    generated, data = tmp / "generated", tmp / "data"
    generate(generated, counties=["350206"], start="2024-01", months=1, seed=7, scale=0.02)
    landing = data / "landing"
    # Night one: the last day's case log and the month's registration, nothing else.
    (landing / "case_log").mkdir(parents=True)
    shutil.copytree(generated / "case_log" / NIGHT_1, landing / "case_log" / NIGHT_1)
    shutil.copytree(generated / "household_registration", landing / "household_registration")
    env = {
        **os.environ,
        # The worktree's package first (a shared virtualenv may point at another checkout).
        "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")]),
        "GRASSROOTS_DATA_DIR": str(data),
        "GRASSROOTS_REPORTS_DIR": str(tmp / "reports"),
        "GRASSROOTS_PII_KEY": "first-nights-test-key-0123456789abcdef",
        "GRASSROOTS_GX_DIR": str(tmp / "gx"),
    }
    for var in ("GRASSROOTS_WAREHOUSE", "GRASSROOTS_DEMO", "GRASSROOTS_DBT_TARGET"):
        env.pop(var, None)
    runs = {}
    for feed in ("case_log", "household_registration", "staff_roster"):
        runs[f"ingest_{feed}@1"] = _dags_test(f"ingest_{feed}", NIGHT_1, env)
    runs["warehouse@1"] = _dags_test("grassroots_warehouse", NIGHT_1, env)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        night_1 = {
            "loads": con.execute(
                "SELECT feed, source_file, status FROM audit.load_log ORDER BY feed, source_file"
            ).fetchall(),
            "empty_raw": {
                f: con.sql(f"SELECT count(*) FROM raw.{f}").fetchone()[0]
                for f in ("staff_roster", "resident_population")
            },
            "findings": json.loads(
                con.execute(
                    "SELECT detail FROM audit.run_findings WHERE dag_id = 'grassroots_warehouse' "
                    "ORDER BY generated_at DESC LIMIT 1"
                ).fetchone()[0]
            ),
        }
    # Night two: the roster and the resident population arrive, dated 2024-02-01.
    for feed in ("staff_roster", "resident_population"):
        (day,) = (generated / feed).iterdir()
        shutil.copytree(day, landing / feed / NIGHT_2)
        runs[f"ingest_{feed}@2"] = _dags_test(f"ingest_{feed}", NIGHT_2, env)
    runs["warehouse@early"] = _dags_test("grassroots_warehouse", "2015-03-09", env)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        loads = con.execute(
            "SELECT feed, source_file, status FROM audit.load_log ORDER BY feed, source_file"
        ).fetchall()
    return runs, night_1, loads


def test_ingest_runs_at_local_midnight_load_their_day(first_nights) -> None:
    runs, night_1, loads = first_nights
    for key in (
        "ingest_case_log@1",
        "ingest_household_registration@1",
        "ingest_staff_roster@2",
        "ingest_resident_population@2",
    ):
        rc, out, _ = runs[key]
        assert rc == 0 and _succeeded(out), f"{key}:\n{out[-3000:]}"
    loaded = {(feed, Path(f).parent.name) for feed, f, status in loads if status == "loaded"}
    assert loaded == {
        ("case_log", NIGHT_1),
        ("household_registration", NIGHT_1),
        ("staff_roster", NIGHT_2),
        ("resident_population", NIGHT_2),
    }


def test_manual_run_with_no_delivery_fails_at_once_saying_why(first_nights) -> None:
    runs, _, _ = first_nights
    rc, out, seconds = runs["ingest_staff_roster@1"]
    assert rc != 0 and "state=failed" in out
    assert f"no delivery of staff_roster dated up to {NIGHT_1}" in out
    assert "a manual run does not wait" in out
    assert seconds < 180, f"the sensor waited {seconds:.0f}s"


def test_warehouse_builds_green_with_two_feeds_and_says_which_never_delivered(first_nights) -> None:
    runs, night_1, _ = first_nights
    rc, out, _ = runs["warehouse@1"]
    assert rc == 0 and _succeeded(out), out[-6000:]
    assert night_1["empty_raw"] == {"staff_roster": 0, "resident_population": 0}
    findings = night_1["findings"]
    assert [u["finding"] for u in findings["undelivered_feeds"]] == [
        f"feed resident_population never delivered up to {NIGHT_1}: its marts are empty",
        f"feed staff_roster never delivered up to {NIGHT_1}: its marts are empty",
    ]
    assert findings["audit_inconsistencies"] == []


def test_warehouse_run_before_start_date_fails_saying_so(first_nights) -> None:
    runs, _, _ = first_nights
    rc, out, _ = runs["warehouse@early"]
    assert rc != 0 and "state=failed" in out
    assert "run dated 2015-03-09 is before the start date of grassroots_warehouse (2024-01-01" in out
