"""A refused file loads after its mapping is fixed, through the ingest DAG's manual retry params."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from grassroots.ingest import ingest_pending

pytestmark = [pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
MAPPING = """\
name: county_y_household_registration
feed: household_registration
file_pattern: "county_y_hr_*.csv"
priority: 10
columns:
  单位代码: unit_code
  统计日期: as_of_date
  {population}: registered_population
  户数: registered_households
"""


def test_manual_run_with_retry_params_loads_the_refused_file(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / "include").mkdir(parents=True)
    shutil.copytree(ROOT / "include" / "mappings", home / "include" / "mappings")
    (home / "include" / "reference").symlink_to(ROOT / "include" / "reference")
    for name in ("expectations", "dbt_project"):
        (home / name).symlink_to(ROOT / name)
    monkeypatch.setenv("GRASSROOTS_HOME", str(home))
    mapping = home / "include" / "mappings" / "county_y.yml"
    mapping.write_text(MAPPING.format(population="户籍人数"), encoding="utf-8")  # wrong header
    delivered = data_dir / "landing" / "household_registration" / "2024-01-31" / "county_y_hr_202401.csv"
    delivered.parent.mkdir(parents=True)
    delivered.write_text(
        "单位代码,统计日期,户籍人口,户数\n110101001001,2024-01-31,1200,420\n110101001002,2024-01-31,900,300\n",
        encoding="utf-8",
    )
    [refused] = ingest_pending("household_registration", validate=False)
    assert refused.status == "rejected"
    mapping.write_text(MAPPING.format(population="户籍人口"), encoding="utf-8")  # the fix

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")]),
        "GRASSROOTS_GX_DIR": str(tmp_path / "gx"),
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    proc = subprocess.run(
        [
            airflow,
            "dags",
            "test",
            "ingest_household_registration",
            "2024-01-31",
            "--conf",
            json.dumps({"retry_from": "2024-01-31", "retry_to": "2024-01-31"}),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "state=success" in out and "state=failed" not in out, out[-4000:]

    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    retries = con.execute(
        "SELECT requested_by, reason, previous_status, new_status FROM audit.retries"
    ).fetchall()
    loaded = con.execute("SELECT count(*) FROM raw.household_registration").fetchone()[0]
    con.close()
    assert [(r[2], r[3]) for r in retries] == [("rejected", "loaded")]
    assert retries[0][0] and "params retry_from/retry_to" in retries[0][1]
    assert loaded == 2
