"""`python -m grassroots.cli <command>`: the operator's entry points.

generate      write demo deliveries into the landing zone
ingest        load pending deliveries of one or all feeds (no Airflow; for debugging)
airflow-init  migrate the Airflow metadata database and create the warehouse pool
demo          generate the demo region and run the whole pipeline through Airflow
summary       print the staffing-mismatch summary from the marts
retry         read refused files of a feed and date range again (after a mapping fix), audited
mapping check dry-run a delivery file against the supplier mappings (writes nothing)
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
from typing import TYPE_CHECKING

from grassroots.config import settings

if TYPE_CHECKING:
    from grassroots.demo_progress import TaskProgress

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
        faults=not ns.clean,
    )
    print(summary.format())
    return 0


def cmd_ingest(ns: argparse.Namespace) -> int:
    from grassroots.feeds import FEEDS
    from grassroots.ingest import ingest_pending
    from grassroots.ingest_report import format_ingest_summary

    results = []
    for feed in [ns.feed] if ns.feed else list(FEEDS):
        for r in ingest_pending(feed, run_id="cli", validate=not ns.no_validate):
            results.append(r)
            if ns.json:
                print(json.dumps(r.as_dict(), ensure_ascii=False), flush=True)
    if not ns.json:
        print(format_ingest_summary(results))
    return 1 if any(r.status in ("rejected", "blocked") for r in results) else 0


DagTest = tuple[subprocess.Popen, Path, float, "TaskProgress"]


def _start_dag_test(dag_id: str, logical_date: str) -> DagTest:
    from grassroots.demo_progress import TaskProgress

    log_path = settings().data_dir / "logs" / f"{dag_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    exe = str(Path(sys.executable).with_name("airflow"))
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [exe, "dags", "test", dag_id, logical_date], stdout=log, stderr=subprocess.STDOUT
        )
    print(f"  {_now()}  {dag_id}: started (log: {log_path})", flush=True)
    return proc, log_path, time.monotonic(), TaskProgress(dag_id, log_path)


def _now() -> str:
    return dt.datetime.now().strftime("%H:%M:%S")


def _show_progress(started: DagTest) -> None:
    for event in started[3].poll():
        print(f"  {_now()}    {event}", flush=True)


def _finish_dag_test(dag_id: str, started: DagTest) -> None:
    proc, log_path, t0, _ = started
    proc.wait()
    _show_progress(started)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    ok = proc.returncode == 0 and "state=failed" not in text
    # An ingest run fails on purpose when a delivery is refused (blocked or rejected): the other
    # files are loaded, and the data-quality summary below says which file and why.
    refused = not ok and dag_id.startswith("ingest_") and "not published: " in text
    verdict = "ok" if ok else "failed: a delivery was refused (see below)" if refused else "FAILED"
    print(f"  {_now()}  {dag_id}: {verdict}, {time.monotonic() - t0:.0f}s", flush=True)
    if not ok and not refused:
        tail = "\n".join(text.splitlines()[-40:])
        raise SystemExit(f"airflow dags test {dag_id} failed:\n{tail}")


def _run_dags(groups: list[list[str]], logical_date: str) -> None:
    """`airflow dags test` DAG groups side by side, the DAGs of a group one after the other.

    Two lanes fit two cores: the long daily case log beside the three small snapshot feeds. They
    share the warehouse only in short publishing transactions (`warehouse.connect` waits for the
    lock); more lanes were slower, Airflow and Great Expectations start-ups competing for the CPU.
    """
    lanes = [list(g) for g in groups]
    running = {}
    for i, lane in enumerate(lanes):
        if lane:
            first = lane.pop(0)
            running[i] = (first, _start_dag_test(first, logical_date))
    while running:
        for i, (dag_id, started) in list(running.items()):
            if started[0].poll() is None:
                _show_progress(started)
                continue
            del running[i]
            try:
                _finish_dag_test(dag_id, started)
            except SystemExit:
                for _, (_, other) in running.items():
                    other[0].terminate()
                raise
            if lanes[i]:
                nxt = lanes[i].pop(0)
                running[i] = (nxt, _start_dag_test(nxt, logical_date))
        time.sleep(0.5)


def cmd_demo(ns: argparse.Namespace) -> int:
    from grassroots.feeds import FEEDS
    from grassroots.generate import generate

    os.environ.setdefault("GRASSROOTS_DEMO", "1")
    cfg = settings()
    t0 = time.monotonic()
    marker = cfg.landing_dir / ".demo.json"
    params = {
        "start": ns.start,
        "months": ns.months,
        "seed": ns.seed,
        "counties": ns.counties,
        "faults": not ns.clean,
    }
    if not (marker.exists() and json.loads(marker.read_text()) == params):
        print(f"Generating the demo region into {cfg.landing_dir} …")
        summary = generate(
            cfg.landing_dir,
            counties=ns.counties.split(",") if ns.counties else None,
            start=ns.start,
            months=ns.months,
            seed=ns.seed,
            faults=not ns.clean,
        )
        print(summary.format())
        marker.write_text(json.dumps(params))
    else:
        print(f"Demo deliveries already in {cfg.landing_dir} (same parameters): reusing them")
    year, month = map(int, ns.start.split("-"))
    end_month = month + ns.months
    run_date = dt.date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    print(f"Running the pipeline through Airflow (airflow dags test …, logical date {run_date}):")
    # Register every DAG in the metadata database first: two `dags test` processes starting on a
    # fresh database would both try to insert the DAG rows.
    print(f"  {_now()}  registering the DAGs (airflow dags reserialize) …", flush=True)
    _airflow("dags", "reserialize")
    snapshot_feeds = [f"ingest_{feed}" for feed in FEEDS if feed != "case_log"]
    _run_dags([["ingest_case_log"], snapshot_feeds], run_date.isoformat())
    _run_dags([["grassroots_warehouse"]], run_date.isoformat())
    print(f"Pipeline finished in {time.monotonic() - t0:.0f}s.\n")
    from grassroots.audit_summary import read_audit_summary

    print(read_audit_summary().format() + "\n")
    cmd_summary(ns)
    reports = cfg.reports_dir
    print(
        f"\nEvaluation report: {reports / 'evaluation' / 'latest' / 'index.html'}"
        f"\nData Docs (validation): {reports / 'data_docs' / 'index.html'}"
        f"\ndbt docs: {reports / 'dbt_docs' / 'index.html'}"
        f"\nWarehouse: {cfg.warehouse_path}"
    )
    return 0


def cmd_retry(ns: argparse.Namespace) -> int:
    """Exit 0 when every refused file in the range now loads (or none was refused), 1 otherwise."""
    from grassroots.retry import retry_refused

    outcome = retry_refused(
        ns.feed,
        dt.date.fromisoformat(ns.date_from),
        dt.date.fromisoformat(ns.date_to or ns.date_from),
        requested_by=ns.by,
        reason=ns.reason,
    )
    print(json.dumps(outcome.summary(), ensure_ascii=False, indent=2))
    if not outcome.results and not outcome.missing:
        print(f"no refused file of {ns.feed} delivered in that range: nothing to retry")
    return 1 if outcome.still_refused or outcome.missing else 0


def cmd_mapping_check(ns: argparse.Namespace) -> int:
    """Exit 0 when the file would load, 1 when it would be blocked or rejected, 2 when it is not there."""
    from grassroots.mapping_check import check_file

    path = Path(ns.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    report = check_file(path, ns.mapping, suite=not ns.no_suite)
    print(report.format())
    return 0 if report.would_load else 1


def cmd_summary(_: argparse.Namespace) -> int:
    from grassroots.summary import print_summary

    print_summary()
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grassroots", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True, metavar="command")
    g = sub.add_parser("generate", help="write demo deliveries into the landing zone")
    g.add_argument("--out", metavar="DIR", help="landing zone to write into (default: data/landing)")
    demo = sub.add_parser("demo", help="generate the demo region and run the pipeline through Airflow")
    for sp in (g, demo):
        sp.add_argument(
            "--counties", help="comma-separated 6- or 12-digit county codes (default: the demo region)"
        )
        sp.add_argument("--start", default=DEMO_START, help="first month, YYYY-MM (default %(default)s)")
        sp.add_argument(
            "--months", type=int, default=DEMO_MONTHS, help="number of months (default %(default)s)"
        )
        sp.add_argument(
            "--seed", type=int, default=42, help="random seed: same seed, same files (default %(default)s)"
        )
        sp.add_argument(
            "--clean",
            action="store_true",
            help="no planted faults (default: a few bad rows, one blocked file, one duplicate delivery "
            "and one restatement, as real deliveries have them)",
        )
    g.add_argument(
        "--scale", type=float, default=1.0, help="population scale, 1.0 = census size (default 1.0)"
    )
    g.add_argument(
        "--layout",
        action="append",
        metavar="FEED=LAYOUT",
        help="deliver a feed in a supplier layout, e.g. staff_roster=county_xlsx or case_log=hotline_gbk",
    )
    i = sub.add_parser("ingest", help="load pending deliveries without Airflow, then print a summary")
    i.add_argument("--feed", help="one feed (default: all four)")
    i.add_argument(
        "--no-validate",
        action="store_true",
        help="skip the Great Expectations suites (row rules still apply)",
    )
    i.add_argument(
        "--json", action="store_true", help="one JSON object per delivery instead of the summary table"
    )
    sub.add_parser("airflow-init", help="migrate Airflow's database, create the warehouse pool")
    sub.add_parser("summary", help="print the staffing-mismatch summary from the marts")
    r = sub.add_parser(
        "retry",
        help="read refused (rejected or blocked) files of a feed and date range again, audited",
        description="Re-offer refused deliveries after a mapping fix or a supplier's confirmation; "
        "recorded in audit.retries (who, why, each file's verdict and mapping sha256). Exit status 0 "
        "when every refused file in the range loads.",
    )
    r.add_argument("--feed", required=True, help="the feed whose refused files to read again, e.g. case_log")
    r.add_argument("--from", dest="date_from", required=True, help="first delivery date, YYYY-MM-DD")
    r.add_argument("--to", dest="date_to", help="last delivery date, YYYY-MM-DD (default: --from)")
    r.add_argument("--by", help="who asks for the retry (default: the operating-system user)")
    r.add_argument("--reason", help="why, e.g. 'mapping hotline_gbk fixed: 12-hour clock'")
    mp = sub.add_parser("mapping", help="supplier mappings: `mapping check FILE` dry-runs a delivery")
    msub = mp.add_subparsers(dest="mapping_cmd", required=True)
    mc = msub.add_parser(
        "check",
        help="which mapping matches, header -> canonical, typed samples (personal fields masked), "
        "rows each rule would quarantine, and the verdict; writes nothing",
    )
    mc.add_argument("file")
    mc.add_argument("--mapping", help="use this mapping (by name) instead of matching the file name")
    mc.add_argument("--no-suite", action="store_true", help="skip the Great Expectations suite (faster)")
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("great_expectations", "structlog"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ns = build_parser().parse_args(argv)
    handler = {
        "generate": cmd_generate,
        "ingest": cmd_ingest,
        "airflow-init": cmd_airflow_init,
        "demo": cmd_demo,
        "summary": cmd_summary,
        "retry": cmd_retry,
        "mapping": cmd_mapping_check,
    }[ns.cmd]
    return handler(ns)


if __name__ == "__main__":
    sys.exit(main())
