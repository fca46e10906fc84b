"""The whole chain once, through real Airflow: generate → ingest DAGs → warehouse DAG (dbt via Cosmos).

A tiny generated region plus a hand-made two-village county whose dissimilarity indices are
computed by hand below.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from two_village_county import COUNTY, MONTH_END, VILLAGE_A, VILLAGE_B, two_village_county

from grassroots.generate import generate

pytestmark = [pytest.mark.slow]
RUN_STARTED: list[datetime] = []  # when this module's pipeline run began (the Airflow DB is shared)
DELIVERED_VILLAGES: set[str] = set()  # village codes of the resident-population deliveries, read from landing

ROOT = Path(__file__).resolve().parents[2]


def _dags_test(dag_id: str, env: dict[str, str]) -> None:
    airflow = str(Path(sys.executable).with_name("airflow"))
    proc = subprocess.run(
        [airflow, "dags", "test", dag_id, "2024-02-01"], env=env, capture_output=True, text=True, timeout=900
    )
    out = proc.stdout + proc.stderr
    # On failure show the lines that say why (dbt errors, failed expectations, alerts), then the tail.
    why = "\n".join(
        ln for ln in out.splitlines() if any(k in ln for k in ("ERROR", "FAIL", "Failure", "Error", "ALERT"))
    )
    assert proc.returncode == 0 and "state=success" in out and "state=failed" not in out, (
        why[-6000:] + out[-2000:]
    )


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    RUN_STARTED.append(datetime.now(UTC))
    data = tmp_path_factory.mktemp("e2e") / "data"
    landing = data / "landing"
    generate(landing, counties=["350206"], start="2024-01", months=1, seed=7, scale=0.02)
    two_village_county(landing)
    # The villages as delivered (the generator's own files, not the warehouse): every one must come out.
    for path in landing.glob("resident_population/*/*.csv"):
        with path.open(encoding="utf-8", newline="") as f:
            DELIVERED_VILLAGES.update(row["unit_code"] for row in csv.DictReader(f))
    env = {
        **os.environ,
        "GRASSROOTS_DATA_DIR": str(data),
        "GRASSROOTS_REPORTS_DIR": str(data.parent / "reports"),
        "GRASSROOTS_PII_KEY": "e2e-test-key-0123456789abcdef",
    }
    env.pop("GRASSROOTS_WAREHOUSE", None)
    env.pop("GRASSROOTS_DEMO", None)
    for feed in ("staff_roster", "household_registration", "resident_population", "case_log"):
        _dags_test(f"ingest_{feed}", env)
    _dags_test("grassroots_warehouse", env)
    return data / "warehouse.duckdb"


def test_one_row_per_unit_and_month(pipeline: Path) -> None:
    con = duckdb.connect(str(pipeline), read_only=True)
    dupes = con.execute(
        "SELECT count(*) FROM (SELECT unit_code, month FROM marts.mart_staffing_mismatch "
        "GROUP BY ALL HAVING count(*) > 1)"
    ).fetchone()[0]
    months = con.execute("SELECT count(DISTINCT month) FROM marts.mart_staffing_mismatch").fetchone()[0]
    evaluated = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT unit_code FROM marts.mart_staffing_mismatch WHERE unit_level = 'village'"
        ).fetchall()
    }
    reference = {
        r[0]
        for r in con.execute(
            "SELECT unit_code FROM raw.ref_divisions "
            "WHERE level = 'village' AND county_code IN ('350206000000', ?)",
            [COUNTY],
        ).fetchall()
    }
    con.close()
    assert dupes == 0 and months == 1
    # 61 generated villages and communities of 湖里区 + the two of the hand-made county
    assert len(DELIVERED_VILLAGES) == 63 and {VILLAGE_A, VILLAGE_B} <= DELIVERED_VILLAGES
    # every delivered village is evaluated, and nothing else at village level (全覆盖): sets, not counts,
    # since township offices are units too and would hide a missing village in a count
    assert evaluated == DELIVERED_VILLAGES, (DELIVERED_VILLAGES - evaluated, evaluated - DELIVERED_VILLAGES)
    assert evaluated == reference


def test_hand_computed_dissimilarity_for_a_two_village_county(pipeline: Path) -> None:
    con = duckdb.connect(str(pipeline), read_only=True)
    county = con.execute(
        "SELECT d_resident, d_registered, allocated_by_registration FROM marts.mart_staffing_mismatch_county "
        "WHERE county_code = ? AND month = DATE '2024-01-01'",
        [COUNTY],
    ).fetchone()
    units = con.execute(
        "SELECT unit_code, staff_fte, fair_share_staff, reallocation_delta FROM marts.mart_staffing_mismatch "
        "WHERE county_code = ? AND unit_level = 'village' ORDER BY unit_code",
        [COUNTY],
    ).fetchall()
    con.close()
    assert county[0] == pytest.approx(0.25)
    assert county[1] == pytest.approx(0.0)
    assert county[2] is True
    assert [(u, s) for u, s, _, _ in units] == [(VILLAGE_A, 2.0), (VILLAGE_B, 2.0)]
    assert [round(f, 6) for _, _, f, _ in units] == [3.0, 1.0]
    assert [round(d, 6) for _, _, _, d in units] == [1.0, -1.0]


def test_no_personal_data_in_clear_outside_the_landing_zone(pipeline: Path) -> None:
    data = pipeline.parent
    needles = [b"3705721980010100", b"13900000000", "测试0".encode()]
    for path in data.rglob("*"):
        if path.is_file() and "landing" not in path.relative_to(data).parts:
            blob = path.read_bytes()
            assert not any(n in blob for n in needles), path


def test_each_published_delivery_emits_an_asset_event(pipeline: Path) -> None:
    """The warehouse DAG is scheduled on these events: one per published file, with its lineage."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    wanted = f"staff_roster/{MONTH_END}/staff_roster_370572_202401.csv"
    with create_session() as session:
        extras = session.scalars(
            select(AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.name == "grassroots_raw_staff_roster", AssetEvent.timestamp >= RUN_STARTED[0])
        ).all()
    mine = [e for e in extras if e.get("source_file") == wanted]
    con = duckdb.connect(str(pipeline), read_only=True)
    load_id = con.execute("SELECT load_id FROM audit.load_log WHERE source_file = ?", [wanted]).fetchone()[0]
    con.close()
    assert [(e["load_id"], e["rows_loaded"], e["rows_quarantined"]) for e in mine] == [(load_id, 4, 0)]
