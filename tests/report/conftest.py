"""One small demo warehouse for all report tests (built once per session: generate → ingest → dbt).

A small region (湖里区, county 350206, two months, scale 0.05) is generated into a temporary landing
zone, ingested feed by feed, the reference tables are loaded and dbt builds the models (data tests
are left to tests/dbt_project, to keep this quick). Then the report is built once into a temporary
directory; the tests read that site.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from report_demo import FIRST_PERIOD, PERIOD, REPORT_PII_KEY

ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = ROOT / "dbt_project"


def dbt_executable() -> str:
    for candidate in (
        os.environ.get("GRASSROOTS_DBT"),
        str(ROOT / ".venv-dbt" / "bin" / "dbt"),
        shutil.which("dbt"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("dbt is not installed (.venv-dbt/bin/dbt): run `make install`")


@dataclass
class DemoWarehouse:
    root: Path
    path: Path
    site: Path  # the report built from it, for PERIOD

    @property
    def index(self) -> Path:
        return self.site / "index.html"


def _build_models(wh: Path, tmp: Path) -> None:
    """`dbt build` of the models and seeds on the DuckDB warehouse `wh` (the data and unit tests run
    in tests/dbt_project on the same fixtures)."""
    env = {
        **os.environ,
        "GRASSROOTS_WAREHOUSE": str(wh),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    cmd = [
        dbt_executable(),
        "build",
        "--target",
        "duckdb",
        "--exclude-resource-type",
        "test",
        "unit_test",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
    ]
    started = time.monotonic()
    proc = subprocess.run(
        cmd, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, (
        f"dbt build failed ({time.monotonic() - started:.0f}s):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    )


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DemoWarehouse:
    tmp = tmp_path_factory.mktemp("report_wh")
    landing, data = tmp / "landing", tmp / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRASSROOTS_DATA_DIR", str(data))
        mp.setenv("GRASSROOTS_LANDING_DIR", str(landing))
        mp.setenv("GRASSROOTS_PII_KEY", REPORT_PII_KEY)
        mp.setenv("GRASSROOTS_REPORTS_DIR", str(tmp / "reports"))
        mp.delenv("GRASSROOTS_WAREHOUSE", raising=False)
        from grassroots.config import settings
        from grassroots.feeds import FEEDS
        from grassroots.generate import generate
        from grassroots.ingest import ingest_pending
        from grassroots.reference import load_reference_tables
        from grassroots.report import build_report
        from grassroots.warehouse import connect, ensure_schemas

        generate(landing, counties=["350206"], start=FIRST_PERIOD, months=2, seed=1, scale=0.05)
        for feed in FEEDS:
            ingest_pending(feed, validate=False)
        wh = settings().warehouse_path
        with connect(wh) as con:
            ensure_schemas(con)
            load_reference_tables(con)
        _build_models(wh, tmp)
        site = tmp / "site"
        build_report(PERIOD, warehouse=wh, out_dir=site)
    return DemoWarehouse(tmp, wh, site)


@pytest.fixture()
def warehouse_con(demo_warehouse: DemoWarehouse):
    import duckdb

    con = duckdb.connect(str(demo_warehouse.path), read_only=True)
    try:
        yield con
    finally:
        con.close()


# --- the hand-computed regions: the dbt integration tests' fixtures, built once ------------------

HAND_FIXTURES_DIR = ROOT / "tests" / "dbt_project"
HAND_PERIODS = ("2024-01", "2024-02")


@dataclass
class HandWarehouse:
    """A warehouse built by dbt from the hand-made raw tables of tests/dbt_project (whose docstrings
    derive every mart value by hand), and the report of each period of HAND_PERIODS built from it."""

    path: Path
    sites: dict[str, Path]  # period → site directory


def _fixtures_on_path() -> None:
    import sys

    if str(HAND_FIXTURES_DIR) not in sys.path:
        sys.path.insert(0, str(HAND_FIXTURES_DIR))


def unanswered_case_rows() -> dict[str, tuple[list[str], list[tuple]]]:
    """One case the fixtures lack: r1, V6 (county B), neighbour dispute, reported Wednesday
    2024-01-10 09:00, never answered nor closed. Without it every valid case of the fixtures is
    answered, and a chart showing the response rate instead of the rate within SLA of the answered
    cases would show the same numbers. It is in the first case batch's file (whose other rows carry
    response times, so its missing response is a fact, not a supplier without the column)."""
    _fixtures_on_path()
    from fixtures import V6, _case

    from grassroots.feeds import FEEDS

    row = _case(
        "r1", V6, "neighbour_dispute", dt.datetime(2024, 1, 10, 9), status="open", reporter="p-r1", n=4
    )
    names = [c for c, _ in FEEDS["case_log"].raw_columns]
    return {"case_log": (names, [tuple(row.get(c) for c in names)])}


def _build_hand_warehouse(tmp: Path, extra_rows: dict[str, tuple[list[str], list[tuple]]]) -> HandWarehouse:
    import duckdb

    _fixtures_on_path()
    from fixtures import load_duckdb

    from grassroots.report import build_report

    wh = tmp / "warehouse.duckdb"
    load_duckdb(str(wh))
    con = duckdb.connect(str(wh))
    try:
        for table, (names, rows) in extra_rows.items():
            cols = ", ".join(f'"{n}"' for n in names)
            marks = ", ".join("?" for _ in names)
            con.executemany(f"insert into raw.{table} ({cols}) values ({marks})", rows)
    finally:
        con.close()
    _build_models(wh, tmp)
    sites = {p: tmp / f"site-{p}" for p in HAND_PERIODS}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRASSROOTS_REPORTS_DIR", str(tmp / "reports"))
        for period, site in sites.items():
            build_report(period, warehouse=wh, out_dir=site)
    return HandWarehouse(wh, sites)


@pytest.fixture(scope="session")
def hand_base(tmp_path_factory: pytest.TempPathFactory) -> HandWarehouse:
    """tests/dbt_project/fixtures.py and one unanswered case (r1): counties A and B, the staffing
    and workload figures."""
    return _build_hand_warehouse(tmp_path_factory.mktemp("report_hand_base"), unanswered_case_rows())


@pytest.fixture(scope="session")
def hand_scorecard(tmp_path_factory: pytest.TempPathFactory) -> HandWarehouse:
    """fixtures.py plus scorecard_fixtures.py: villages V7–V11 of county A scored and ranked."""
    _fixtures_on_path()
    from scorecard_fixtures import scorecard_extra_rows

    return _build_hand_warehouse(tmp_path_factory.mktemp("report_hand_scorecard"), scorecard_extra_rows())
