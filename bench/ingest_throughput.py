"""Ingest throughput: generate a region, load every feed (validation on and off), report rows/s.

    .venv/bin/python bench/ingest_throughput.py                 # demo region, 3 months
    .venv/bin/python bench/ingest_throughput.py --scale 2 --months 1 --no-validate-only

Each mode runs in a fresh data directory (own landing copy is shared, read-only), so the numbers
include the warehouse writes. Results are printed and written to
``bench/results/ingest-<YYYY-MM-DD>[-<label>].json``. The PII key is a throw-away benchmark key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

FEEDS = ("staff_roster", "household_registration", "resident_population", "case_log")


def _run_mode(landing: Path, work: Path, *, validate: bool, layouts: dict[str, str]) -> dict:
    data = work / ("validate" if validate else "no_validate")
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    (data / "landing").symlink_to(landing, target_is_directory=True)
    os.environ["GRASSROOTS_DATA_DIR"] = str(data)
    os.environ["GRASSROOTS_LANDING_DIR"] = str(landing)
    from grassroots.ingest import ingest_pending

    out: dict[str, dict] = {}
    for feed in FEEDS:
        t0 = time.perf_counter()
        results = ingest_pending(feed, run_id=f"bench-{'v' if validate else 'nv'}", validate=validate)
        seconds = time.perf_counter() - t0
        rows = sum(r.rows_in for r in results)
        statuses: dict[str, int] = {}
        for r in results:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        out[feed] = {
            "layout": layouts.get(feed, "canonical_csv"),
            "files": len(results),
            "rows_in": rows,
            "rows_loaded": sum(r.rows_loaded for r in results),
            "rows_quarantined": sum(r.rows_quarantined for r in results),
            "statuses": statuses,
            "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds, 1) if seconds else None,
            "seconds_per_file": round(seconds / len(results), 3) if results else None,
        }
        print(
            f"  {'validate' if validate else 'no-validate':<12}{feed:<24}{len(results):>6} files"
            f"{rows:>10} rows{seconds:>9.2f} s{out[feed]['rows_per_s'] or 0:>12,.0f} rows/s"
            f"{out[feed]['seconds_per_file'] or 0:>8.3f} s/file",
            flush=True,
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--counties", default=None, help="comma-separated county codes (default: demo)")
    p.add_argument("--start", default="2024-01")
    p.add_argument("--months", type=int, default=3)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--layout",
        action="append",
        default=[],
        metavar="FEED=LAYOUT",
        help="deliver a feed in a supplier layout (e.g. staff_roster=county_xlsx)",
    )
    p.add_argument("--modes", default="no_validate,validate", help="comma-separated: no_validate, validate")
    p.add_argument("--label", default="", help="suffix of the results file name (e.g. 'before')")
    p.add_argument("--workdir", type=Path, default=None, help="keep data here (default: a temp dir)")
    p.add_argument("--no-write", action="store_true", help="print only, do not write bench/results/")
    args = p.parse_args(argv)

    os.environ.setdefault("GRASSROOTS_PII_KEY", "bench-only-key-" + "x" * 32)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from grassroots.generate import generate, parse_layouts

    layouts = parse_layouts(args.layout)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="grassroots-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    landing = work / "landing"
    counties = [c for c in args.counties.split(",") if c] if args.counties else None
    t0 = time.perf_counter()
    summary = generate(landing, counties, args.start, args.months, args.seed, args.scale, layouts=layouts)
    gen_s = time.perf_counter() - t0
    print(summary.format(), flush=True)

    report = {
        "date": dt.date.today().isoformat(),
        "label": args.label,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "region": {
            "counties": summary.counties,
            "start": args.start,
            "months": args.months,
            "scale": args.scale,
            "seed": args.seed,
            "layouts": layouts,
            "generate_seconds": round(gen_s, 2),
            "rows": summary.rows,
        },
        "modes": {},
    }
    try:
        import duckdb

        report["machine"]["duckdb"] = duckdb.__version__
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            if mode not in ("validate", "no_validate"):
                p.error(f"unknown mode {mode!r}")
            report["modes"][mode] = _run_mode(landing, work, validate=mode == "validate", layouts=layouts)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if not args.no_write:
        results = ROOT / "bench" / "results"
        results.mkdir(parents=True, exist_ok=True)
        name = f"ingest-{report['date']}{'-' + args.label if args.label else ''}.json"
        (results / name).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {results / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
