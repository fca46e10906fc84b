"""`python -m grassroots.cli <command>`: the operator's entry points.

generate      write demo deliveries into the landing zone
ingest        load pending deliveries of one or all feeds (no Airflow; for debugging)
airflow-init  migrate the Airflow metadata database and create the warehouse pool
demo          generate the demo region and run the whole pipeline through Airflow
summary       print the staffing-mismatch summary from the marts
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from grassroots.config import settings

DEMO_START = "2024-01"
DEMO_MONTHS = 3


def _airflow(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("airflow")
    return subprocess.run([str(exe), *args], check=check, text=True, capture_output=True)


def cmd_airflow_init(_: argparse.Namespace) -> int:
    _airflow("db", "migrate")
    from grassroots.orchestration.common import WAREHOUSE_POOL

    _airflow("pools", "set", WAREHOUSE_POOL, "1", "DuckDB has one writer: tasks that write the warehouse")
    print(f"Airflow metadata ready in {os.environ.get('AIRFLOW_HOME')}; pool {WAREHOUSE_POOL} = 1 slot")
    return 0


def cmd_generate(ns: argparse.Namespace) -> int:
    from grassroots.generate import generate

    counties = ns.counties.split(",") if ns.counties else None
    summary = generate(
        Path(ns.out or settings().landing_dir),
        counties=counties,
        start=ns.start,
        months=ns.months,
        seed=ns.seed,
        scale=ns.scale,
        layouts=ns.layout or None,
    )
    print(summary.format())
    return 0


def cmd_ingest(ns: argparse.Namespace) -> int:
    from grassroots.feeds import FEEDS
    from grassroots.ingest import ingest_pending

    bad = 0
    for feed in [ns.feed] if ns.feed else list(FEEDS):
        for r in ingest_pending(feed, run_id="cli", validate=not ns.no_validate):
            print(json.dumps(r.as_dict(), ensure_ascii=False))
            bad += r.status in ("rejected", "blocked")
    return 1 if bad else 0


def _run_dags(dag_ids: list[str], logical_date: str) -> None:
    """`airflow dags test` each DAG, one after the other (run concurrently on two cores they were
    slower: four Airflow and Great Expectations start-ups compete for the CPU)."""
    log_dir = settings().data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    exe = str(Path(sys.executable).with_name("airflow"))
    started = time.monotonic()
    failed = []
    for dag_id in dag_ids:
        with (log_dir / f"{dag_id}.log").open("w", encoding="utf-8") as log:
            proc = subprocess.run(
                [exe, "dags", "test", dag_id, logical_date], stdout=log, stderr=subprocess.STDOUT
            )
        text = (log_dir / f"{dag_id}.log").read_text(encoding="utf-8", errors="replace")
        ok = proc.returncode == 0 and "state=failed" not in text
        print(
            f"  {dag_id:<36} {'ok' if ok else 'FAILED':<6} {time.monotonic() - started:6.1f}s  "
            f"(log: {log_dir / (dag_id + '.log')})"
        )
        started = time.monotonic()
        if not ok:
            failed.append((dag_id, "\n".join(text.splitlines()[-40:])))
            break  # later DAGs depend on this one
    if failed:
        raise SystemExit("\n".join(f"airflow dags test {d} failed:\n{tail}" for d, tail in failed))


def cmd_demo(ns: argparse.Namespace) -> int:
    from grassroots.feeds import FEEDS
    from grassroots.generate import generate

    os.environ.setdefault("GRASSROOTS_DEMO", "1")
    cfg = settings()
    t0 = time.monotonic()
    marker = cfg.landing_dir / ".demo.json"
    params = {"start": ns.start, "months": ns.months, "seed": ns.seed, "counties": ns.counties}
    if not (marker.exists() and json.loads(marker.read_text()) == params):
        print(f"Generating the demo region into {cfg.landing_dir} …")
        summary = generate(
            cfg.landing_dir,
            counties=ns.counties.split(",") if ns.counties else None,
            start=ns.start,
            months=ns.months,
            seed=ns.seed,
        )
        print(summary.format())
        marker.write_text(json.dumps(params))
    else:
        print(f"Demo deliveries already in {cfg.landing_dir} (same parameters): reusing them")
    year, month = map(int, ns.start.split("-"))
    end_month = month + ns.months
    run_date = dt.date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    print(f"Running the pipeline through Airflow (airflow dags test …, logical date {run_date}):")
    _run_dags([f"ingest_{feed}" for feed in FEEDS] + ["grassroots_warehouse"], run_date.isoformat())
    print(f"Pipeline finished in {time.monotonic() - t0:.0f}s.\n")
    cmd_summary(ns)
    reports = cfg.reports_dir
    print(
        f"\nEvaluation report: {reports / 'evaluation' / 'latest' / 'index.html'}"
        f"\nData Docs (validation): {reports / 'data_docs' / 'index.html'}"
        f"\ndbt docs: {reports / 'dbt_docs' / 'index.html'}"
        f"\nWarehouse: {cfg.warehouse_path}"
    )
    return 0


def cmd_summary(_: argparse.Namespace) -> int:
    from grassroots.summary import print_summary

    print_summary()
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("great_expectations", "structlog"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    p = argparse.ArgumentParser(
        prog="grassroots", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write demo deliveries into the landing zone")
    g.add_argument("--out")
    for sp in (g, sub.add_parser("demo", help="generate and run the pipeline through Airflow")):
        sp.add_argument(
            "--counties", help="comma-separated 6- or 12-digit county codes (default: demo region)"
        )
        sp.add_argument("--start", default=DEMO_START, help="first month, YYYY-MM")
        sp.add_argument("--months", type=int, default=DEMO_MONTHS)
        sp.add_argument("--seed", type=int, default=42)
    g.add_argument("--scale", type=float, default=1.0)
    g.add_argument(
        "--layout",
        action="append",
        metavar="FEED=LAYOUT",
        help="deliver a feed in a supplier layout, e.g. staff_roster=county_xlsx or case_log=hotline_gbk",
    )
    i = sub.add_parser("ingest", help="load pending deliveries without Airflow")
    i.add_argument("--feed")
    i.add_argument("--no-validate", action="store_true")
    sub.add_parser("airflow-init", help="migrate Airflow's database, create the pool")
    sub.add_parser("summary", help="print the marts summary")
    ns = p.parse_args(argv)
    handler = {
        "generate": cmd_generate,
        "ingest": cmd_ingest,
        "airflow-init": cmd_airflow_init,
        "demo": cmd_demo,
        "summary": cmd_summary,
    }[ns.cmd]
    return handler(ns)


if __name__ == "__main__":
    sys.exit(main())
