"""The whole chain once, through real Airflow: generate → ingest DAGs → warehouse DAG (dbt via Cosmos).

A tiny generated region plus a hand-made two-village county whose dissimilarity indices are
computed by hand below.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from grassroots.generate import generate
from grassroots.idcard import check_digit

pytestmark = [pytest.mark.slow]
RUN_STARTED: list[datetime] = []  # when this module's pipeline run began (the Airflow DB is shared)

ROOT = Path(__file__).resolve().parents[2]
# 东营港经济开发区 (370572): the only real 2023 county with exactly two village-level units.
COUNTY = "370572000000"
VILLAGE_A, VILLAGE_B = "370572402201", "370572402400"  # 东港村, 东港类似居民委员会
MONTH_END = "2024-01-31"


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _two_village_county(landing: Path) -> None:
    """Residents 3000/1000, registered 2000/2000, staff 2/2 FTE.

    staff shares 0.5/0.5, resident shares 0.75/0.25, registered shares 0.5/0.5:
    D_resident   = ½(|0.5−0.75| + |0.5−0.25|) = 0.25
    D_registered = ½(|0.5−0.5|  + |0.5−0.5|)  = 0.0   → allocated_by_registration
    fair share A = 4 × 0.75 = 3 → delta +1; B = 4 × 0.25 = 1 → delta −1
    """
    _write(
        landing / "resident_population/2023-12-31/resident_population_370572_20231231.csv",
        [
            (
                "unit_code,as_of_date,resident_population,resident_households,floating_population_in,"
                "residents_age_65_plus,vulnerable_persons"
            ),
            f"{VILLAGE_A},2023-12-31,3000,1000,100,300,30",
            f"{VILLAGE_B},2023-12-31,1000,400,10,200,20",
        ],
    )
    _write(
        landing / f"household_registration/{MONTH_END}/household_registration_370572_202401.csv",
        [
            "unit_code,as_of_date,registered_population,registered_households,registered_age_65_plus",
            f"{VILLAGE_A},{MONTH_END},2000,700,250",
            f"{VILLAGE_B},{MONTH_END},2000,700,300",
        ],
    )
    header = (
        "staff_id,name,id_number,phone,unit_code,post_category,fte,hire_date,exit_date,education,"
        "social_work_cert,snapshot_date"
    )
    rows = []
    for i, unit in enumerate([VILLAGE_A, VILLAGE_A, VILLAGE_B, VILLAGE_B]):
        first17 = f"37057219800101{i:02d}1"
        rows.append(
            f"E{i},测试{i},{first17}{check_digit(first17)},1390000000{i},{unit},community_worker,1,"
            f"2020-01-01,,bachelor,none,{MONTH_END}"
        )
    _write(landing / f"staff_roster/{MONTH_END}/staff_roster_370572_202401.csv", [header, *rows])


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
    _two_village_county(landing)
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
    units = con.execute(
        "SELECT count(DISTINCT unit_code), count(DISTINCT month) FROM marts.mart_staffing_mismatch"
    ).fetchone()
    rows = con.execute("SELECT count(*) FROM marts.mart_staffing_mismatch").fetchone()[0]
    villages = con.execute(
        "SELECT count(*) FROM raw.ref_divisions "
        "WHERE level = 'village' AND county_code IN ('350206000000', ?)",
        [COUNTY],
    ).fetchone()[0]
    con.close()
    assert dupes == 0
    assert units[1] == 1 and rows == units[0]
    assert units[0] >= villages  # every village of the region is evaluated (全覆盖)


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
