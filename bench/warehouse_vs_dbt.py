"""The warehouse DAG against a bare `dbt build` of the same project, on the same warehouse state.

    make demo                                   # once: a populated demo warehouse in data/
    .venv/bin/python bench/warehouse_vs_dbt.py  # writes bench/results/warehouse-vs-dbt-<date>.json

Two copies of the demo warehouse: one is rebuilt by `airflow dags test grassroots_warehouse`
(Cosmos, two `dbt build` stages, plus the marts suite, report and dbt docs), the other by one
bare `dbt build`. Each side runs twice: the first run (cold) parses the project from scratch (dbt's
partial-parse state is keyed by the warehouse path, a new one here); the second (warm) is what
every nightly run on the same warehouse sees. Reported for both: the DAG's wall time, the sum of
its dbt stage tasks, the bare build, and the ratios (target: dbt stages ≤ 1.5 × bare build).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("dbt_staging", "dbt_marts")
# `airflow dags test` logs "[DAG TEST] starting task_id=…" and "[DAG TEST] end task task_id=…".
MARK = re.compile(r"^(?P<ts>\S+Z) .*\[DAG TEST\] (?P<what>starting|end task) task_id=(?P<task>[a-z_]+)", re.M)


def _env(warehouse: Path, work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GRASSROOTS_WAREHOUSE": str(warehouse),
            "GRASSROOTS_REPORTS_DIR": str(work / "reports"),
            "GRASSROOTS_GX_DIR": str(work / "gx"),
            "GRASSROOTS_DEMO": "1",
            "GRASSROOTS_DBT_TARGET": "duckdb",
            "GRASSROOTS_COSMOS_CACHE": str(work / "cosmos_cache"),
        }
    )
    return env


def run_dag(warehouse: Path, work: Path) -> dict:
    airflow = str(Path(sys.executable).with_name("airflow"))
    t0 = time.perf_counter()
    proc = subprocess.run(
        [airflow, "dags", "test", "grassroots_warehouse", dt.date.today().isoformat()],
        env=_env(warehouse, work),
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    if proc.returncode != 0 or "state=failed" in out:
        raise SystemExit(f"warehouse DAG failed:\n{out[-4000:]}")
    started: dict[str, dt.datetime] = {}
    tasks: dict[str, float] = {}
    for m in MARK.finditer(out):
        ts = dt.datetime.fromisoformat(m["ts"].replace("Z", "+00:00"))
        if m["what"] == "starting":
            started[m["task"]] = ts
        elif m["task"] in started:
            tasks[m["task"]] = round((ts - started.pop(m["task"])).total_seconds(), 2)
    return {
        "wall_s": round(wall, 2),
        "tasks_s": tasks,
        "dbt_stages_s": round(sum(tasks.get(s, 0) for s in STAGES), 2),
    }


def run_bare_dbt(warehouse: Path, work: Path) -> float:
    dbt = ROOT / ".venv-dbt" / "bin" / "dbt"
    t0 = time.perf_counter()
    subprocess.run(
        [str(dbt), "build", "--target", "duckdb", "--project-dir", str(ROOT / "dbt_project"),
         "--profiles-dir", str(ROOT / "dbt_project"), "--target-path", str(work / "target"),
         "--log-path", str(work / "logs"), "--quiet"],
        env=_env(warehouse, work),
        check=True,
    )  # fmt: skip
    return round(time.perf_counter() - t0, 2)


def main() -> int:
    source = Path(os.environ.get("GRASSROOTS_WAREHOUSE", ROOT / "data" / "warehouse.duckdb"))
    if not source.exists():
        raise SystemExit(f"{source} not found: run `make demo` first")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("dag", "bare"):
            (work / name).mkdir()
            shutil.copy2(source, work / name / "warehouse.duckdb")
        cache = ROOT / ".cosmos_cache"
        if cache.is_dir():  # the DAG's partial-parse cache starts as `make dbt-manifest` left it
            shutil.copytree(cache, work / "dag" / "cosmos_cache")
        runs = {}
        for run in ("cold", "warm"):
            bare = run_bare_dbt(work / "bare" / "warehouse.duckdb", work / "bare")
            dag = run_dag(work / "dag" / "warehouse.duckdb", work / "dag")
            runs[run] = {
                "bare_dbt_build_s": bare,
                "warehouse_dag": dag,
                "ratio_dbt_stages_to_bare": round(dag["dbt_stages_s"] / bare, 2),
                "ratio_dag_to_bare": round(dag["wall_s"] / bare, 2),
            }
    result = {
        "date": dt.date.today().isoformat(),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        "warehouse": str(source.relative_to(ROOT)) if source.is_relative_to(ROOT) else source.name,
        **runs,
    }
    out = ROOT / "bench" / "results" / f"warehouse-vs-dbt-{result['date']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
