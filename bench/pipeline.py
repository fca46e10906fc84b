"""Benchmark the whole pipeline at a chosen scale, against the bare-DuckDB lower bound (issue #8).

    make bench SCALE=tiny|province|national      # = .venv/bin/python bench/pipeline.py --scale …

1. Generates (or reuses) one month of deliveries of all four feeds for the scale's scope, plus the
   first day of the next month's case log (``grassroots.generate.national``), under
   ``$GRASSROOTS_BENCH_DIR`` (default ``/work/benchdata``, outside the repository).
2. Scenario ``month_rebuild``: a fresh warehouse; all feeds of the month. Scenario ``daily``: the next
   day's case log into the warehouse that holds the month. Each scenario runs twice on its own data
   directory: through Airflow (``airflow dags test`` of the four ingest DAGs and the warehouse DAG, with
   each task's duration from Airflow's metadata DB), and stage by stage (``bench/stages.py`` for the
   ingest split into read+type+rules / validation / pseudonymise+write / publish; bare ``dbt build``
   full or incremental; the marts suite; the report), each stage a process of its own whose peak RSS
   is read with ``wait4``.
3. The lower bound (``bench/lower_bound.py``) over the same landing files, and its agreement with the
   marts (same unit and county figures).
4. DAG parse time per DAG file, pseudonymisation values/s, machine facts; everything into
   ``bench/results/<date>-<scale>.json`` (``--results``), then ``bench/render.py`` updates the table
   and chart in ``bench/README.md``.

Timing assertions never live in tests: ``tests/bench`` runs this at scale ``tiny`` for correctness only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
PY = str(ROOT / ".venv" / "bin" / "python")
AIRFLOW = str(ROOT / ".venv" / "bin" / "airflow")
DBT = str(ROOT / ".venv-dbt" / "bin" / "dbt")
FEEDS = ("staff_roster", "household_registration", "resident_population", "case_log")
BENCH_KEY = "bench-only-pseudonymisation-key-0123456789"
# Values hashed by the pseudonymisation micro-benchmark.
HMAC_VALUES = {"tiny": 200_000, "province": 2_000_000, "national": 5_000_000}


# --------------------------------------------------------------------------------------------
# Measuring


def run(cmd: list[str], env: dict[str, str], log: Path, *, cwd: Path | None = None) -> dict:
    """Run `cmd` as a child process; its wall time, peak RSS (its own and its waited-for children's,
    from wait4) and exit code. Output goes to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(seconds, 3),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        # other work on the machine while it ran (the 1-minute load average at the end; 2 = both cores busy)
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "rc": proc.returncode,
        "log": str(log),
    }


def bench_line(log: Path) -> dict:
    for line in reversed(log.read_text(encoding="utf-8", errors="replace").splitlines()):
        if line.startswith("BENCH "):
            return json.loads(line[6:])
        if line.startswith("{") and line.endswith("}"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return {}


def check(res: dict, what: str) -> dict:
    if res["rc"] != 0:
        tail = "\n".join(Path(res["log"]).read_text(encoding="utf-8", errors="replace").splitlines()[-40:])
        raise SystemExit(f"{what} failed (exit {res['rc']}), log {res['log']}:\n{tail}")
    return res


def machine() -> dict:
    import importlib.metadata as md

    mem = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        k, v = line.split(":", 1)
        mem[k] = int(v.split()[0])
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in ln
        ),
        platform.processor(),
    )
    versions = {
        p: md.version(p) for p in ("apache-airflow", "great_expectations", "duckdb", "pandas", "pyarrow")
    }
    versions["python"] = platform.python_version()
    dbt = subprocess.run(
        [
            str(ROOT / ".venv-dbt" / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('dbt-core'), m.version('dbt-duckdb'))",
        ],
        capture_output=True,
        text=True,
    )
    if dbt.returncode == 0:
        versions["dbt-core"], versions["dbt-duckdb"] = dbt.stdout.split()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem.get("MemTotal", 0) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "versions": versions,
    }


PARSE_SNIPPET = """
import json, sys, time
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
t1 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
t2 = time.perf_counter()
print("BENCH " + json.dumps({"import_airflow_s": round(t1 - t0, 3), "parse_s": round(t2 - t1, 3),
      "dags": len(bag.dags), "errors": {k: str(v)[:300] for k, v in bag.import_errors.items()}}))
"""


DAG_PARSE_GOAL_S = 1.0  # per DAG file, Airflow already imported (the dag-processor's cost)


def dag_parse(env: dict[str, str], logs: Path) -> dict:
    """Seconds to parse each DAG file (DagBag of that file alone, Airflow already imported: what the
    dag-processor pays per file), in a fresh process each (cold module caches: the worst case)."""
    out = {}
    for f in sorted((ROOT / "dags").glob("*.py")):
        res = check(
            run([PY, "-c", PARSE_SNIPPET, str(f)], env, logs / f"parse_{f.stem}.log"), f"parse {f.name}"
        )
        out[f.name] = {**bench_line(Path(res["log"])), "max_rss_mb": res["max_rss_mb"]}
    return out


def airflow_task_durations(airflow_home: Path, dag_id: str, run: str | None = None) -> dict:
    con = sqlite3.connect(airflow_home / "airflow.db")
    try:
        run_id = (run,) if run else None
        run_id = (
            run_id
            or con.execute(
                "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", [dag_id]
            ).fetchone()
        )
        if not run_id:
            return {}
        rows = con.execute(
            "SELECT task_id, duration, state FROM task_instance WHERE dag_id = ? AND run_id = ? "
            "ORDER BY start_date",
            [dag_id, run_id[0]],
        ).fetchall()
    finally:
        con.close()
    return {t: {"seconds": round(d or 0.0, 3), "state": s} for t, d, s in rows}


# --------------------------------------------------------------------------------------------
# Data


def scale_paths(workdir: Path, scale: str) -> dict[str, Path]:
    base = workdir / scale
    return {"base": base, "source": base / "landing", "gen": base / "generate.json"}


def ensure_data(scale: str, month: str, workdir: Path, case_days: int | None, logs: Path) -> dict:
    """Generate the scale's deliveries once; later runs reuse them (same parameters)."""
    from grassroots.generate.national import generate_national

    paths = scale_paths(workdir, scale)
    params = {"scale": scale, "month": month, "case_days": case_days, "seed": 8}
    if paths["gen"].exists():
        previous = json.loads(paths["gen"].read_text())
        if previous.get("params") == params and previous.get("complete"):
            previous["reused"] = True
            return previous
    t0 = time.perf_counter()
    summary = generate_national(paths["source"], scale, month, case_days=case_days, extra_day=True, seed=8)
    info = {
        "params": params,
        "complete": True,
        **summary.as_dict(),
        "total_seconds": round(time.perf_counter() - t0, 2),
    }
    paths["gen"].parent.mkdir(parents=True, exist_ok=True)
    paths["gen"].write_text(json.dumps(info, indent=1))
    info["reused"] = False
    return info


def link_landing(source: Path, target: Path, *, exclude_after: dt.date | None) -> None:
    """A landing zone of hard links to the generated files (the ingest refuses symlinks)."""
    for path in sorted(source.rglob("*.csv")):
        day = dt.date.fromisoformat(path.parent.name)
        if exclude_after and day > exclude_after:
            continue
        dst = target / path.relative_to(source)
        if dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, dst)


# --------------------------------------------------------------------------------------------
# Scenarios


def base_env(run_dir: Path, landing: Path, airflow_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("GRASSROOTS_WAREHOUSE", "GRASSROOTS_DEMO", "GRASSROOTS_RAW_DIR", "GRASSROOTS_QUARANTINE_DIR"):
        env.pop(var, None)
    env.update(
        GRASSROOTS_DATA_DIR=str(run_dir / "data"),
        GRASSROOTS_LANDING_DIR=str(landing),
        GRASSROOTS_REPORTS_DIR=str(run_dir / "reports"),
        GRASSROOTS_GX_DIR=str(run_dir / "gx"),
        GRASSROOTS_PII_KEY=BENCH_KEY,
        GRASSROOTS_COSMOS_CACHE=str(airflow_home.parent / "cosmos_cache"),
        AIRFLOW_HOME=str(airflow_home),
        PYTHONPATH=str(ROOT / "plugins"),
    )
    return env


def ensure_airflow(airflow_home: Path, env: dict[str, str], logs: Path) -> None:
    """A metadata DB of the benchmark's own (never the developers' .airflow/)."""
    if (airflow_home / ".ready").exists():
        return
    airflow_home.mkdir(parents=True, exist_ok=True)
    cache = airflow_home.parent / "cosmos_cache"
    if not cache.exists() and (ROOT / ".cosmos_cache").is_dir():
        shutil.copytree(ROOT / ".cosmos_cache", cache)
    check(run([PY, "-m", "grassroots.cli", "airflow-init"], env, logs / "airflow_init.log"), "airflow-init")
    check(run([AIRFLOW, "dags", "reserialize"], env, logs / "airflow_reserialize.log"), "dags reserialize")
    (airflow_home / ".ready").touch()


def rows_of(feed_rows: dict, feeds: list[str]) -> int:
    return sum(feed_rows.get(f, 0) for f in feeds)


def through_airflow(env: dict, logs: Path, logical_date: str, dag_ids: list[str]) -> dict:
    out: dict = {"dags": {}}
    total = 0.0
    for dag_id in dag_ids:
        res = check(
            run([AIRFLOW, "dags", "test", dag_id, logical_date], env, logs / f"airflow_{dag_id}.log"), dag_id
        )
        text = Path(res["log"]).read_text(encoding="utf-8", errors="replace")
        if "state=failed" in text:
            raise SystemExit(f"airflow dags test {dag_id}: a task failed, log {res['log']}")
        res["tasks"] = airflow_task_durations(Path(env["AIRFLOW_HOME"]), dag_id)
        out["dags"][dag_id] = res
        total += res["seconds"]
    out["total_seconds"] = round(total, 3)
    out["max_rss_mb"] = max(d["max_rss_mb"] for d in out["dags"].values())
    return out


def phased_airflow(
    env: dict, logs: Path, logical_date: str, dag_ids: list[str], run_dir: Path, phase: str
) -> dict:
    """`through_airflow` in one go (`all`) or in two phases: the ingest DAGs, then the rest."""
    state = run_dir / "ingest_phase.json"
    ingest = [d for d in dag_ids if d.startswith("ingest_")]
    if phase == "all":
        return through_airflow(env, logs, logical_date, dag_ids)
    if phase == "ingest":
        out = through_airflow(env, logs, logical_date, ingest)
        state.write_text(json.dumps(out, indent=1))
        return out
    if not state.exists():
        raise SystemExit(f"--phase warehouse: no ingest phase recorded in {state}")
    first = json.loads(state.read_text())
    rest = through_airflow(env, logs, logical_date, [d for d in dag_ids if d not in ingest])
    dags = {**first["dags"], **rest["dags"]}
    return {
        "dags": dags,
        "total_seconds": round(sum(d["seconds"] for d in dags.values()), 3),
        "max_rss_mb": max(d["max_rss_mb"] for d in dags.values()),
        "phases": "ingest DAGs and warehouse DAG run as two invocations (--phase ingest, --phase warehouse)",
    }


def dbt_cmd(run_dir: Path, full_refresh: bool) -> list[str]:
    target = run_dir / "dbt_target"
    target.mkdir(parents=True, exist_ok=True)
    cached = ROOT / "dbt_project" / "target" / "partial_parse.msgpack"
    if cached.exists() and not (target / "partial_parse.msgpack").exists():
        shutil.copy2(cached, target / "partial_parse.msgpack")
    cmd = [
        DBT,
        "build",
        "--project-dir",
        str(ROOT / "dbt_project"),
        "--profiles-dir",
        str(ROOT / "dbt_project"),
        "--target",
        "duckdb",
        "--target-path",
        str(target),
        "--log-path",
        str(run_dir / "dbt_logs"),
        "--quiet",
    ]
    return cmd + (["--full-refresh"] if full_refresh else [])


def slowest_models(run_dir: Path, n: int = 6) -> list[dict]:
    path = run_dir / "dbt_target" / "run_results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text())["results"]
    ranked = sorted(results, key=lambda r: r.get("execution_time", 0), reverse=True)[:n]
    return [
        {"node": r["unique_id"].split(".", 2)[-1], "seconds": round(r["execution_time"], 2)} for r in ranked
    ]


def stage_by_stage(
    env: dict,
    logs: Path,
    run_dir: Path,
    feeds: list[str],
    until: str,
    *,
    full_refresh: bool,
    with_reference: bool,
    ingest_only: bool = False,
) -> dict:
    stages: dict = {}
    for feed in feeds:
        res = check(
            run(
                [PY, str(ROOT / "bench" / "stages.py"), "ingest", "--feed", feed, "--until", until],
                env,
                logs / f"stage_ingest_{feed}.log",
            ),
            f"ingest {feed}",
        )
        detail = bench_line(Path(res["log"]))
        rows = detail.get("rows_in", 0)
        stages[f"ingest:{feed}"] = {
            **res,
            "rows": rows,
            "rows_per_s": round(rows / res["seconds"]) if rows else None,
            "split": detail.get("stages", {}),
            "files": detail.get("files"),
        }
        v = detail.get("stages", {}).get("validate")
        if v:
            stages[f"ingest:{feed}"]["validation_rows_per_s"] = round(rows / v)
    if ingest_only:
        total = sum(s["seconds"] for s in stages.values())
        return {
            "stages": stages,
            "total_seconds": round(total, 3),
            "max_rss_mb": max(s["max_rss_mb"] for s in stages.values()),
            "partial": "ingest only (dbt, marts suite and report not run)",
        }
    if with_reference:
        snippet = (
            "from grassroots.reference import load_reference_tables\n"
            "from grassroots.warehouse import connect, ensure_schemas\n"
            "with connect() as con:\n    ensure_schemas(con)\n    print(load_reference_tables(con))"
        )
        stages["load_reference"] = check(
            run([PY, "-c", snippet], env, logs / "stage_load_reference.log"), "reference"
        )
    res = check(
        run(
            dbt_cmd(run_dir, full_refresh),
            env,
            logs / f"stage_dbt_{'full' if full_refresh else 'incr'}.log",
            cwd=ROOT / "dbt_project",
        ),
        "dbt build",
    )
    res["slowest"] = slowest_models(run_dir)
    stages["dbt_build_full" if full_refresh else "dbt_build_incremental"] = res
    snippet = (
        "from grassroots.validation import validate_marts\nr = validate_marts(None, 'bench')\n"
        "import json\n"
        "print('BENCH', json.dumps({'rows': r.row_count, 'critical_failed': r.critical_failed}))"
    )
    res = check(run([PY, "-c", snippet], env, logs / "stage_validate_marts.log"), "validate marts")
    res.update(bench_line(Path(res["log"])))
    stages["validate_marts"] = res
    stages["report"] = check(run([PY, "-m", "grassroots.report"], env, logs / "stage_report.log"), "report")
    total = sum(s["seconds"] for s in stages.values())
    return {
        "stages": stages,
        "total_seconds": round(total, 3),
        "max_rss_mb": max(s["max_rss_mb"] for s in stages.values()),
    }


def validation_probe(workdir: Path, scale: str, month: str, airflow_home: Path, logs: Path) -> dict:
    """The case-log ingest of one day (the first after the month, as the daily scenario loads it)
    into an empty warehouse of its own, stage by stage: the full case-log suite's rows per second,
    whatever mode the scenarios run in (their Airflow figures have no split)."""
    first = dt.date.fromisoformat(month + "-01")
    day = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    run_dir = workdir / scale / "validation_probe"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    source = scale_paths(workdir, scale)["source"] / "case_log" / day.isoformat()
    link_landing(source, run_dir / "landing" / "case_log" / day.isoformat(), exclude_after=None)
    env = base_env(run_dir, run_dir / "landing", airflow_home)
    res = check(
        run(
            [PY, str(ROOT / "bench" / "stages.py"), "ingest", "--feed", "case_log"],
            env,
            logs / "validation_probe.log",
        ),
        "validation probe",
    )
    detail = bench_line(Path(res["log"]))
    rows = detail.get("rows_in", 0)
    v = detail.get("stages", {}).get("validate")
    out = {
        "day": day.isoformat(),
        "rows": rows,
        "seconds": res["seconds"],
        "max_rss_mb": res["max_rss_mb"],
        "split": detail.get("stages", {}),
        "validation_rows_per_s": round(rows / v) if rows and v else None,
    }
    shutil.rmtree(run_dir)
    return out


def lower_bound(env: dict, logs: Path, landing: Path, month: str, out: Path, name: str) -> dict:
    res = check(
        run(
            [
                PY,
                str(ROOT / "bench" / "lower_bound.py"),
                "--landing",
                str(landing),
                "--month",
                month,
                "--out",
                str(out),
            ],
            env,
            logs / f"lower_bound_{name}.log",
        ),
        "lower bound",
    )
    res.update(bench_line(Path(res["log"])))
    return res


def agreement(warehouse: Path, lb_dir: Path, month: str) -> dict:
    """Compare the lower bound's figures with the marts' for the month (null-safe, 1e-9 tolerance)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute(f"CREATE TEMP VIEW lb AS SELECT * FROM read_parquet('{lb_dir}/lb_units.parquet')")
        con.execute(f"CREATE TEMP VIEW lbc AS SELECT * FROM read_parquet('{lb_dir}/lb_counties.parquet')")
        m = f"DATE '{month}-01'"

        def diff(col: str) -> str:
            return (
                f"count(*) FILTER (WHERE (a.{col} IS NULL) <> (b.{col} IS NULL) "
                f"OR abs(CAST(a.{col} AS DOUBLE) - CAST(b.{col} AS DOUBLE)) > 1e-9)"
            )

        unit_cols = ("resident_population", "registered_population", "staff_fte")
        units = con.execute(
            f"SELECT count(*), count(b.unit_code), count(a.unit_code), "
            f"{', '.join(diff(c) for c in unit_cols)} "
            f"FROM (SELECT * FROM marts.mart_staffing_mismatch WHERE month = {m}) a "
            "FULL JOIN lb b USING (unit_code)"
        ).fetchone()
        case_cols = ("cases_received", "response_rate", "resolution_rate", "satisfaction_rate")
        cases = con.execute(
            f"SELECT count(*), {', '.join(diff(c) for c in case_cols)} "
            f"FROM (SELECT * FROM marts.mart_workload WHERE month = {m}) a FULL JOIN lb b USING (unit_code)"
        ).fetchone()
        county_cols = ("d_resident", "d_registered")
        counties = con.execute(
            f"SELECT count(*), {', '.join(diff(c) for c in county_cols)} "
            f"FROM (SELECT * FROM marts.mart_staffing_mismatch_county WHERE month = {m}) a FULL JOIN lbc b "
            "USING (county_code)"
        ).fetchone()
        totals = con.execute(
            "SELECT sum(cases_received), sum(staff_fte), sum(resident_population) FROM lb"
        ).fetchone()
    finally:
        con.close()
    mismatches = {
        **dict(zip(unit_cols, units[3:], strict=True)),
        **dict(zip(case_cols, cases[1:], strict=True)),
        **dict(zip(county_cols, counties[1:], strict=True)),
    }
    return {
        "month": month,
        "units_joined": units[0],
        "units_lower_bound": units[1],
        "units_marts": units[2],
        "counties": counties[0],
        "lower_bound_totals": {
            "cases_received": totals[0],
            "staff_fte": totals[1],
            "resident_population": totals[2],
        },
        "mismatches": mismatches,
        "equal": units[1] == units[2] == units[0] and not any(mismatches.values()),
    }


def scenario(
    name: str,
    *,
    scale: str,
    month: str,
    workdir: Path,
    gen: dict,
    modes: list[str],
    logs: Path,
    airflow_home: Path,
    ingest_only: bool = False,
    phase: str = "all",
) -> dict:
    """`month_rebuild`: fresh warehouses, the whole month. `daily`: the next day's case log into the
    warehouses left by month_rebuild (run month_rebuild first).

    `phase` (month_rebuild through Airflow only): `ingest` runs the ingest DAGs and keeps their
    figures in the run directory; `warehouse` then runs the warehouse DAG on that warehouse and
    reports both together (a national month's ingest takes most of an hour)."""
    first = dt.date.fromisoformat(month + "-01")
    month_end = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    next_day = month_end + dt.timedelta(days=1)
    source = scale_paths(workdir, scale)["source"]
    base = workdir / scale
    out: dict = {}
    feeds = list(FEEDS) if name == "month_rebuild" else ["case_log"]
    until = month_end if name == "month_rebuild" else next_day
    if name == "daily":
        # The month may have been loaded in one mode only: both daily figures then start from a copy
        # of that warehouse (made before either mode adds the day).
        for mode in modes:
            other = base / ("airflow" if mode == "stages" else "stages")
            if not (base / mode / "data").exists() and (other / "data").exists():
                shutil.copytree(other / "data", base / mode / "data")
    for mode in modes:
        run_dir = base / mode
        if name == "month_rebuild" and run_dir.exists() and phase != "warehouse":
            shutil.rmtree(run_dir)
        landing = run_dir / "landing"
        link_landing(source, landing, exclude_after=until)
        env = base_env(run_dir, landing, airflow_home)
        mlogs = logs / name / mode
        if mode == "airflow":
            ensure_airflow(airflow_home, env, logs)
            dags = [f"ingest_{f}" for f in feeds] + ["grassroots_warehouse"]
            # The ingest DAGs load deliveries dated before the run's logical date (local midnight of
            # the day after the last delivery, as the nightly schedule runs them).
            logical = (until + dt.timedelta(days=1)).isoformat()
            out["airflow"] = phased_airflow(env, mlogs, logical, dags, run_dir, phase)
            if phase == "ingest":
                return out
        else:
            out["stages"] = stage_by_stage(
                env,
                mlogs,
                run_dir,
                feeds,
                until.isoformat(),
                full_refresh=name == "month_rebuild",
                with_reference=name == "month_rebuild",
                ingest_only=ingest_only,
            )
    if ingest_only:
        return out
    lb_landing = base / ("stages" if "stages" in modes else "airflow") / "landing"
    lb_out = base / f"lower_bound_{name}"
    out["lower_bound"] = lower_bound(
        base_env(base, lb_landing, airflow_home), logs / name, lb_landing, month, lb_out, name
    )
    mode_dir = "stages" if "stages" in modes else "airflow"
    warehouse = base / mode_dir / "data" / "warehouse.duckdb"
    out["agreement"] = agreement(warehouse, lb_out, month)
    lb_s = out["lower_bound"]["seconds"]
    for key in ("airflow", "stages"):
        if key in out:
            out[key]["ratio_to_lower_bound"] = round(out[key]["total_seconds"] / lb_s, 2) if lb_s else None
    return out


def salvage_airflow(scale: str, workdir: Path, logs: Path, airflow_home: Path, month: str) -> dict:
    """The `month_rebuild` Airflow figures of a run that was stopped (out of time), from the
    `airflow dags test` logs alone (later runs of the same DAG and logical date replace the runs in
    the metadata DB): each DAG's time from its first to its last log line, each task's from its
    start to the next task's start, per-file ingest times, and how far dbt got. Nothing is
    estimated: what did not finish is marked so."""
    import re

    stamp = r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z"
    out: dict = {"dags": {}, "incomplete": []}
    for dag_id in [f"ingest_{f}" for f in FEEDS] + ["grassroots_warehouse"]:
        log = logs / "month_rebuild" / "airflow" / f"airflow_{dag_id}.log"
        if not log.exists():
            out["incomplete"].append(dag_id)
            continue
        text = log.read_text(encoding="utf-8", errors="replace")
        stamps = [dt.datetime.fromisoformat(t) for t in re.findall(stamp, text, re.M)]
        finished = "DagRun Finished" in text and "state=success, run_type" in text
        starts = [
            (dt.datetime.fromisoformat(t), task)
            for t, task in re.findall(stamp + r".*?\[DAG TEST\] starting task_id=(\w+)", text, re.M)
        ]
        tasks: dict = {}
        for k, (t, task) in enumerate(starts):
            until = starts[k + 1][0] if k + 1 < len(starts) else stamps[-1]
            tries = tasks.setdefault(task, {"seconds": 0.0, "tries": []})["tries"]
            tries.append(round((until - t).total_seconds(), 3))  # a retried task starts again
            tasks[task]["seconds"] = round(sum(tries), 3)
        failed = re.search(r"\d+ of \d+ (?:FAIL|ERROR) \d* ?(\S+)", text)
        state = "success" if finished else "stopped (out of time)"
        if not finished and failed:
            state = f"failed: dbt {failed.group(1)}"
        entry = {
            "seconds": round((stamps[-1] - stamps[0]).total_seconds(), 3),
            "state": state,
            "log": str(log),
            "tasks": tasks,
            "max_rss_mb": None,
        }
        done = re.findall(r"(\d+) of (\d+) (?:OK|PASS) (.*?)[ .]*\[[A-Z]+[^\]]*? in ([0-9.]+)s\]", text)
        done = list({d[0]: d for d in done}.values())  # each dbt line is logged twice
        if done:
            entry["dbt_nodes_done"] = f"{len(done)} of {done[0][1]}"
            slowest = sorted(done, key=lambda d: -float(d[3]))[:3]
            entry["dbt_slowest"] = [{"node": d[2].strip(), "seconds": float(d[3])} for d in slowest]
        files = re.findall(r"\.csv: loaded in=(\d+) .*?\(([0-9.]+)s\)", text)
        if files:
            entry["files"] = len(files)
            entry["rows"] = sum(int(n) for n, _ in files)
            entry["rows_per_s"] = round(entry["rows"] / entry["seconds"])
        if not finished:
            out["incomplete"].append(dag_id)
        out["dags"][dag_id] = entry
    out["total_seconds"] = round(sum(d["seconds"] for d in out["dags"].values()), 3)
    out["max_rss_mb"] = None
    return out


# --------------------------------------------------------------------------------------------
# Targets (issue #8)


def targets(result: dict) -> list[dict]:
    sc = result["scenarios"]
    out = []

    def add(name: str, target: str, measured, met: bool | None, note: str = "") -> None:
        out.append({"target": name, "goal": target, "measured": measured, "met": met, "note": note})

    def best_total(s: dict) -> tuple[float | None, str]:
        if "airflow" in s:
            if s["airflow"].get("incomplete"):
                return s["airflow"]["total_seconds"], "through Airflow, unfinished: more than"
            return s["airflow"]["total_seconds"], "through Airflow"
        if "stages" in s:
            return s["stages"]["total_seconds"], "stage by stage"
        return None, ""

    if "daily" in sc:
        total, how = best_total(sc["daily"])
        partial = sc["daily"].get("stages", {}).get("partial")
        if partial and "airflow" not in sc["daily"]:
            add("daily incremental", "≤ 120 s", f"not measured end to end; {partial}: {total:,.0f} s", None)
        else:
            add("daily incremental", "≤ 120 s", f"{total:,.0f} s ({how})", total is not None and total <= 120)
    if "month_rebuild" in sc:
        total, how = best_total(sc["month_rebuild"])
        lb = sc["month_rebuild"]["lower_bound"]["seconds"]
        more = "more than " if "more than" in how else ""
        how = how.replace(": more than", "")
        add("month rebuild", "≤ 600 s", f"{more}{total:,.0f} s ({how})", total is not None and total <= 600)
        ratio = total / lb if total and lb else None
        add(
            "month rebuild / lower bound",
            "≤ 8×",
            f"{more}{ratio:.1f}× (lower bound {lb:.1f} s)",
            ratio is not None and ratio <= 8,
        )
    probes = [
        (name, st)
        for name in ("month_rebuild", "daily")  # the largest case-log ingest measured stage by stage
        for st in [sc.get(name, {}).get("stages", {}).get("stages", {}).get("ingest:case_log")]
        if st and st.get("validation_rows_per_s")
    ]
    probe = result.get("validation")
    if probe and probe.get("validation_rows_per_s"):
        probes.append((f"one day's case log, {probe['day']}", probe))
    if probes:
        name, st = probes[0]
        v = st["validation_rows_per_s"]
        add(
            "validation, full case-log suite",
            "≥ 1,000,000 rows/s",
            f"{v:,} rows/s ({name}: {st['rows']:,} rows)",
            v >= 1_000_000,
        )
    h = result.get("pseudonymisation", {}).get("values_per_s")
    if h:
        add("pseudonymisation", "≥ 2,000,000 values/s", f"{h:,} values/s", h >= 2_000_000)
    rss = [
        s["max_rss_mb"]
        for scen in sc.values()
        for mode in ("airflow", "stages")
        if mode in scen
        for s in ([scen[mode]])
    ]
    rss = [r for r in rss if r is not None]
    if rss:
        peak = max(rss)
        add("peak RSS of any stage", "≤ 6144 MB", f"{peak:,.0f} MB", peak <= 6144)
    parse = result.get("dag_parse", {})
    if parse:  # measured in a fresh process per file (dag_parse); the tests assert no timing
        worst = max(parse.items(), key=lambda kv: kv[1].get("parse_s", 0))
        add(
            "DAG file parse",
            f"≤ {DAG_PARSE_GOAL_S:g} s each",
            f"{worst[1]['parse_s']:.2f} s (slowest: {worst[0]})",
            worst[1]["parse_s"] <= DAG_PARSE_GOAL_S,
        )
    return out


def salvage_main(args, result: dict, label: str, logs: Path, airflow_home: Path, env: dict) -> int:
    base = args.workdir / label
    result["salvaged"] = "month_rebuild through Airflow: its warehouse DAG did not finish (state below)"
    result["dag_parse"] = {
        f.name: bench_line(logs / f"parse_{f.stem}.log") for f in sorted((ROOT / "dags").glob("*.py"))
    }
    result["pseudonymisation"] = bench_line(logs / "hmac.log")
    sc = {"airflow": salvage_airflow(label, args.workdir, logs, airflow_home, args.month)}
    landing = base / "airflow" / "landing"
    path = args.results or ROOT / "bench" / "results" / f"{result['date']}-{label}.json"
    previous = json.loads(path.read_text(encoding="utf-8")) if args.merge and path.exists() else {}
    earlier = previous.get("scenarios", {}).get("month_rebuild", {}).get("lower_bound")
    sc["lower_bound"] = earlier or lower_bound(
        env, logs / "month_rebuild", landing, args.month, base / "lower_bound_month_rebuild", "month_rebuild"
    )
    warehouse = base / "airflow" / "data" / "warehouse.duckdb"
    try:  # the marts the DAG did build, against the lower bound
        sc["agreement"] = agreement(warehouse, base / "lower_bound_month_rebuild", args.month)
    except Exception as exc:  # noqa: BLE001 - marts missing: say so instead of comparing
        sc["agreement"] = {"equal": None, "note": f"not computed: {exc}"[:300]}
    sc["airflow"]["ratio_to_lower_bound"] = round(
        sc["airflow"]["total_seconds"] / sc["lower_bound"]["seconds"], 2
    )
    result["scenarios"] = {**previous.get("scenarios", {}), "month_rebuild": sc}
    result["targets"] = targets(result)
    result["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"[bench] wrote {path}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--scale", default="tiny", help="tiny | province | national | province:<code> | county:<code>"
    )
    p.add_argument("--month", default="2024-03")
    p.add_argument(
        "--case-days", type=int, default=None, help="case-log days of the month (default: all; tiny: 3)"
    )
    p.add_argument("--scenarios", default="month_rebuild,daily")
    p.add_argument(
        "--modes", default="airflow,stages", help="airflow (through Airflow) and/or stages (own figures)"
    )
    p.add_argument(
        "--workdir", type=Path, default=Path(os.environ.get("GRASSROOTS_BENCH_DIR", "/work/benchdata"))
    )
    p.add_argument(
        "--results", type=Path, default=None, help="results file (default bench/results/<date>-<scale>.json)"
    )
    p.add_argument("--no-render", action="store_true", help="do not update bench/README.md")
    p.add_argument(
        "--phase",
        choices=("all", "ingest", "warehouse"),
        default="all",
        help="month_rebuild through Airflow in two invocations: the ingest DAGs, then the warehouse DAG",
    )
    p.add_argument(
        "--ingest-only",
        action="store_true",
        help="stage by stage, the ingest only (when the month's marts could not be built in time)",
    )
    p.add_argument(
        "--salvage",
        action="store_true",
        help="month_rebuild of a run stopped out of time: its Airflow figures from the logs and metadata DB, "
        "plus the lower bound (run now)",
    )
    p.add_argument(
        "--merge",
        action="store_true",
        help="keep the other scenarios of an existing results file (same date, scale)",
    )
    args = p.parse_args(argv)
    scale = args.scale
    case_days = args.case_days if args.case_days is not None else (3 if scale == "tiny" else None)
    modes = [m for m in args.modes.split(",") if m]
    label = scale.replace(":", "-").replace(",", "_")
    logs = args.workdir / label / "logs"
    airflow_home = args.workdir / "airflow_home"
    started = dt.datetime.now()
    result: dict = {
        "date": started.date().isoformat(),
        "started": started.isoformat(timespec="seconds"),
        "scale": scale,
        "month": args.month,
        "command": f"make bench SCALE={scale}",
        "argv": "bench/pipeline.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
    }
    print(f"[bench] generating / reusing data for {scale} …", flush=True)
    gen = ensure_data(label if ":" in scale else scale, args.month, args.workdir, case_days, logs)
    result["generation"] = gen
    how = "reused" if gen["reused"] else "generated in {} s".format(gen["total_seconds"])
    print(f"[bench] data: {gen['rows']} ({how})", flush=True)
    env = base_env(args.workdir / label, args.workdir / label / "landing", airflow_home)
    if args.salvage:
        return salvage_main(args, result, label, logs, airflow_home, env)
    result["dag_parse"] = dag_parse(env, logs)
    print(f"[bench] DAG parse: { {k: v['parse_s'] for k, v in result['dag_parse'].items()} }", flush=True)
    n = HMAC_VALUES.get(scale, 2_000_000)
    res = check(
        run([PY, str(ROOT / "bench" / "stages.py"), "hmac", "--values", str(n)], env, logs / "hmac.log"),
        "hmac",
    )
    result["pseudonymisation"] = {**bench_line(Path(res["log"])), "max_rss_mb": res["max_rss_mb"]}
    print(f"[bench] pseudonymisation: {result['pseudonymisation']['values_per_s']:,} values/s", flush=True)
    path = args.results or ROOT / "bench" / "results" / f"{result['date']}-{label}.json"
    previous = json.loads(path.read_text(encoding="utf-8")) if args.merge and path.exists() else {}
    if args.phase != "ingest":  # (the ingest phase writes no results)
        result["validation"] = previous.get("validation") or validation_probe(
            args.workdir, label if ":" in scale else scale, args.month, airflow_home, logs
        )
        print(f"[bench] validation: {result['validation']['validation_rows_per_s']:,} rows/s", flush=True)
    result["scenarios"] = dict(previous.get("scenarios", {}))
    if previous:
        result["started_first_run"] = previous.get("started_first_run", previous.get("started"))
    for name in [s for s in args.scenarios.split(",") if s]:
        print(f"[bench] scenario {name} ({', '.join(modes)}) …", flush=True)
        result["scenarios"][name] = scenario(
            name,
            scale=label if ":" in scale else scale,
            month=args.month,
            workdir=args.workdir,
            gen=gen,
            modes=modes,
            logs=logs,
            airflow_home=airflow_home,
            ingest_only=args.ingest_only,
            phase=args.phase,
        )
        if args.phase == "ingest":
            print(f"[bench] ingest phase done: {result['scenarios'][name]['airflow']['total_seconds']:.0f} s")
            return 0
        s = result["scenarios"][name]
        for mode in ("airflow", "stages"):
            if mode in s:
                print(
                    f"[bench]   {mode}: {s[mode]['total_seconds']:.1f} s, "
                    f"peak {s[mode]['max_rss_mb']:.0f} MB, "
                    f"{s[mode].get('ratio_to_lower_bound')}× lower bound",
                    flush=True,
                )
        if "lower_bound" in s:
            print(
                f"[bench]   lower bound {s['lower_bound']['seconds']:.1f} s; "
                f"agreement equal={s['agreement']['equal']}",
                flush=True,
            )
    result["targets"] = targets(result)
    result["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"[bench] wrote {path}", flush=True)
    for t in result["targets"]:
        print(f"[bench]   {'MET ' if t['met'] else 'MISS'} {t['target']}: {t['measured']} (goal {t['goal']})")
    if not args.no_render:
        from render import render  # bench/render.py

        render()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
