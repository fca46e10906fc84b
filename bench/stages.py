"""One pipeline stage, run the way the real pipeline runs it, timed from inside (bench/national.py
starts each as its own process to read its peak RSS).

    python bench/stages.py ingest --feed case_log [--until 2024-03-31]
        the ingest of every pending delivery of the feed (what the ingest DAG's task runs), with
        each file's time split into read+type+row rules / validation (GX) / pseudonymise+write
        Parquet / publish (warehouse transaction); prints one JSON line.
    python bench/stages.py hmac --values 5000000
        pseudonymisation alone: HMAC-SHA256 (grassroots.pii.hmac_sql) of N distinct phone numbers.

The ingest stage calls the same functions in the same order as ``grassroots.ingest.ingest_delivery``
(without its error handling: benchmark data has no bad files), so its total is the ingest's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))


def ingest(feed_name: str, until: dt.date | None, validate: bool = True) -> dict:
    from grassroots import ingest as ing
    from grassroots import row_rules
    from grassroots.config import settings
    from grassroots.feeds import get_feed
    from grassroots.landing import find_deliveries
    from grassroots.mappings import load_mappings, mapping_for
    from grassroots.pii import pii_key, set_hmac_key
    from grassroots.read_delivery import read_delivery
    from grassroots.reference import divisions_path
    from grassroots.warehouse import connect

    cfg = settings()
    feed = get_feed(feed_name)
    mappings = load_mappings(cfg.mappings_dir)
    key = pii_key()
    stages = {
        "find": 0.0,
        "gx_start": 0.0,
        "read_type_rules": 0.0,
        "validate": 0.0,
        "pseudonymise_write": 0.0,
        "publish": 0.0,
    }
    t0 = time.perf_counter()
    if validate:
        # Importing Great Expectations and making its context is paid once per process (per Airflow
        # task), not per row: timed apart so that `validate` is the suite's throughput.
        from grassroots.validation import get_context, import_expectations

        get_context()
        import_expectations()
        stages["gx_start"] = time.perf_counter() - t0
    t = time.perf_counter()
    deliveries = find_deliveries(cfg.landing_dir, feed_name, until=until)
    with connect(cfg.warehouse_path) as wh:
        feed_log = ing.FeedLog.read(wh, feed)
    stages["find"] = time.perf_counter() - t
    staging = ing.staging_connection()
    files, rows_in, rows_loaded, statuses = 0, 0, 0, {}
    for delivery in deliveries:
        t = time.perf_counter()
        sha = ing.file_sha256(delivery.path)
        load_id = ing.make_load_id(feed.name, delivery.source_file, sha)
        state, _ = feed_log.state(delivery.source_file, sha)
        if state != "new":
            statuses[state] = statuses.get(state, 0) + 1
            continue
        result = ing.LoadResult(
            feed.name,
            delivery.source_file,
            delivery.delivery_date.isoformat(),
            load_id,
            sha,
            "new",
            run_id="bench",
        )
        mapping = mapping_for(feed.name, delivery.path.name, mappings)
        n, _extra = read_delivery(staging, delivery.path, mapping, delivery.source_file)
        result.rows_in = n
        row_rules.build_typed(staging, feed, mapping, str(divisions_path()))
        ing.scan_checked(staging, feed, mapping, key)  # personal data by content, as the ingest does
        bad = staging.execute("SELECT count(*) FROM checked WHERE len(_rules) > 0").fetchone()[0]
        result.rows_quarantined, result.rows_loaded = bad, n - bad
        stages["read_type_rules"] += time.perf_counter() - t
        frame = None
        if validate:
            from grassroots.quality_gate import run_suite

            t = time.perf_counter()
            frame, blocked, result.warnings = run_suite(
                staging, feed, delivery, run_id="bench", previous_rows=feed_log.previous_rows(delivery)
            )
            stages["validate"] += time.perf_counter() - t
            if blocked:
                raise SystemExit(f"benchmark delivery blocked: {blocked}")
        t = time.perf_counter()
        set_hmac_key(staging, key)
        ing._write_zones(staging, cfg, feed, delivery, load_id, sha, key)
        stages["pseudonymise_write"] += time.perf_counter() - t
        t = time.perf_counter()
        ing._publish(cfg, feed, delivery, result, mapping.name, dt.datetime.now(), frame)
        stages["publish"] += time.perf_counter() - t
        result.status = "loaded"
        feed_log.add(result)
        files += 1
        rows_in += n
        rows_loaded += result.rows_loaded
        statuses["loaded"] = statuses.get("loaded", 0) + 1
    staging.close()
    total = time.perf_counter() - t0
    return {
        "feed": feed_name,
        "files": files,
        "rows_in": rows_in,
        "rows_loaded": rows_loaded,
        "statuses": statuses,
        "seconds": round(total, 3),
        "stages": {k: round(v, 3) for k, v in stages.items()},
    }


def hmac_values(n: int) -> dict:
    """The ingest's pseudonymisation of N distinct phone numbers: normalised in DuckDB, hashed a
    whole column at a time (`pii.pseudonymise_columns`); plus the per-vector SQL function
    (`pii.hmac_sql`, used for quarantine samples) for comparison."""
    import duckdb

    from grassroots.pii import hmac_sql, pseudonymise_columns, set_hmac_key

    key = b"bench-only-key-0123456789abcdef"
    con = duckdb.connect(config={"threads": 2})
    set_hmac_key(con, key)
    con.execute(
        "CREATE TEMP TABLE phones AS "
        f"SELECT i AS source_row, '1' || lpad(CAST(i * 7919 % 10000000000 AS VARCHAR), 10, '0') AS v "
        f"FROM range({n}) t(i)"
    )
    pseudonymise_columns(con, "SELECT source_row, v FROM phones LIMIT 10", ["v"], key)  # compiled once
    t = time.perf_counter()
    hashed = pseudonymise_columns(con, "SELECT source_row, v FROM phones", ["v"], key)
    seconds = time.perf_counter() - t
    distinct = len(hashed["v_hash"].unique())
    t = time.perf_counter()
    con.execute(f"CREATE TEMP TABLE hashed AS SELECT {hmac_sql('v')} AS h FROM phones")
    sql_seconds = time.perf_counter() - t
    return {
        "values": n,
        "distinct_hashes": distinct,
        "seconds": round(seconds, 3),
        "values_per_s": round(n / seconds),
        "sql_function_values_per_s": round(n / sql_seconds),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("ingest")
    i.add_argument("--feed", required=True)
    i.add_argument("--until", type=dt.date.fromisoformat)
    i.add_argument("--no-validate", action="store_true")
    h = sub.add_parser("hmac")
    h.add_argument("--values", type=int, default=5_000_000)
    args = p.parse_args(argv)
    if args.cmd == "ingest":
        out = ingest(args.feed, args.until, validate=not args.no_validate)
    else:
        out = hmac_values(args.values)
    print("BENCH " + json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
