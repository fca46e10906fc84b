"""Landing → raw → warehouse for one delivery file, with quarantine and load audit.

The heavy work (reading, typing, rules, hashing, Parquet) happens in a private in-memory DuckDB,
so the warehouse is locked only for the short publishing transaction. Publishing is atomic:
Parquet files are written to a temporary name and renamed, and the warehouse rows of this file,
its quarantined rows and its audit row change in one transaction. A load killed at any moment
leaves the previous state; the next run redoes the file from the start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from grassroots import row_rules
from grassroots.config import Settings, settings
from grassroots.feeds import LINEAGE_COLUMNS, Feed, Pii, get_feed
from grassroots.landing import Delivery, file_sha256, find_deliveries
from grassroots.mappings import Mapping, load_mappings, mapping_for
from grassroots.pii import hmac_sql, pii_key, set_hmac_key
from grassroots.read_delivery import FileRejected, read_delivery
from grassroots.reference import divisions_path
from grassroots.warehouse import connect, ensure_schemas

log = logging.getLogger(__name__)

# A delivery in which more than this share of rows break row rules is blocked whole: it is more
# likely a broken export than a few bad rows.
MAX_QUARANTINE_SHARE = float(os.environ.get("GRASSROOTS_MAX_QUARANTINE_SHARE", "0.5"))


class LoadInvariantBroken(RuntimeError):
    pass


class DeliveryBlocked(RuntimeError):
    pass


@dataclass
class LoadResult:
    feed: str
    source_file: str
    delivery_date: str
    load_id: str
    file_sha256: str
    status: str  # loaded | already_loaded | already_refused | duplicate | rejected | blocked
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error: str | None = None
    supersedes: list[str] = field(default_factory=list)
    warnings: int = 0
    seconds: float = 0.0
    run_id: str = "manual"

    def as_dict(self) -> dict:
        return asdict(self)


def make_load_id(feed: str, source_file: str, sha: str) -> str:
    """Deterministic: the same file at the same place gets the same id on every rerun."""
    return hashlib.sha256(f"{feed}|{source_file}|{sha}".encode()).hexdigest()[:20]


def raw_table_ddl(feed: Feed) -> str:
    cols = ", ".join(f'"{n}" {t}' for n, t in feed.raw_columns)
    return f"CREATE TABLE IF NOT EXISTS raw.{feed.name} ({cols})"


def _partition_dir(base: Path, feed: str, delivery_date: dt.date) -> Path:
    return base / feed / f"delivery_date={delivery_date.isoformat()}"


def _atomic_copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    con.execute(f"COPY ({query}) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)")
    os.replace(tmp, target)


def _quarantine_sample_sql(feed: Feed) -> str:
    """The rejected row as JSON text: personal fields hashed, names and free text dropped."""
    parts = []
    for col in feed.columns:
        raw = f'"_raw_{col.name}"'
        if col.pii is Pii.HASH:
            parts.append(f"'{col.name}_hash': {hmac_sql(raw)}")
        elif col.pii is Pii.LENGTH:
            parts.append(f"'{col.name}_length': length({raw})")
        elif col.pii is None:
            parts.append(f"'{col.name}': {raw}")
    return "CAST(to_json({" + ", ".join(parts) + "}) AS VARCHAR)"


def _previous_state(wh: duckdb.DuckDBPyConnection, delivery: Delivery, sha: str) -> tuple[str, str | None]:
    """('already_loaded' | 'already_refused' | 'duplicate' | 'new', earlier file of a duplicate)."""
    rows = wh.execute(
        "SELECT source_file, status FROM audit.load_log WHERE file_sha256 = ? AND feed = ? "
        "AND status IN ('loaded', 'duplicate', 'rejected', 'blocked') ORDER BY finished_at",
        [sha, delivery.feed],
    ).fetchall()
    for source_file, status in rows:
        if source_file == delivery.source_file:
            # A file refused before stays refused until a corrected file replaces it.
            return ("already_loaded" if status in ("loaded", "duplicate") else "already_refused"), None
    loaded = [sf for sf, st in rows if st == "loaded"]
    return ("duplicate", loaded[0]) if loaded else ("new", None)


def _superseded(wh: duckdb.DuckDBPyConnection, feed: Feed, load_id: str) -> list[str]:
    """Earlier loads of a snapshot feed covering the same (unit, period) keys: this one restates them."""
    if not feed.snapshot:
        return []
    key = ", ".join(k for k in feed.key if not k.endswith("_hash"))
    return [
        r[0]
        for r in wh.execute(
            f"SELECT DISTINCT old.load_id FROM raw.{feed.name} old "
            f"JOIN (SELECT DISTINCT {key} FROM raw.{feed.name} WHERE load_id = ?) new USING ({key}) "
            "WHERE old.load_id <> ? ORDER BY 1",
            [load_id, load_id],
        ).fetchall()
    ]


def ingest_delivery(
    delivery: Delivery,
    *,
    run_id: str = "manual",
    cfg: Settings | None = None,
    mappings: list[Mapping] | None = None,
    key: bytes | None = None,
    validate: bool = True,
    staging: duckdb.DuckDBPyConnection | None = None,
) -> LoadResult:
    """Load one delivery file. Never raises for bad data: the result says what happened.

    `staging` is a private in-memory DuckDB reused across the files of one run (reference codes
    are loaded into it once).
    """
    cfg = cfg or settings()
    started = time.monotonic()
    started_at = dt.datetime.now()
    feed = get_feed(delivery.feed)
    sha = file_sha256(delivery.path)
    load_id = make_load_id(feed.name, delivery.source_file, sha)
    result = LoadResult(
        feed.name, delivery.source_file, delivery.delivery_date.isoformat(), load_id, sha, "new", run_id=run_id
    )
    key = key or pii_key()

    with connect(cfg.warehouse_path) as wh:
        ensure_schemas(wh)
        wh.execute(raw_table_ddl(feed))
        state, earlier = _previous_state(wh, delivery, sha)
    if state in ("already_loaded", "already_refused"):
        result.status = state
        log.info("%s: %s (sha256 %s…), nothing to do", delivery.source_file, state, sha[:12])
        return result
    if state == "duplicate":
        result.status = "duplicate"
        result.error = f"same content (sha256) as {earlier}, already loaded: not loaded again"
        _record(cfg, result, None, started_at)
        log.warning("%s: %s", delivery.source_file, result.error)
        return result

    mapping_name = None
    validation_frame = None
    try:
        mapping = mapping_for(feed.name, delivery.path.name, mappings or load_mappings(cfg.mappings_dir))
        mapping_name = mapping.name
        con = staging or staging_connection()
        try:
            rows_in, extra = read_delivery(con, delivery.path, mapping, delivery.source_file)
            result.rows_in = rows_in
            if extra:
                log.warning("%s: extra column(s) ignored: %s", delivery.source_file, extra)
            row_rules.build_typed(con, feed, mapping, str(divisions_path()))
            bad = con.execute("SELECT count(*) FROM checked WHERE len(_rules) > 0").fetchone()[0]
            result.rows_quarantined = bad
            result.rows_loaded = rows_in - bad

            if validate:
                from grassroots.quality_gate import run_suite

                validation_frame, blocked_msg, result.warnings = run_suite(
                    con, feed, delivery, run_id=run_id, previous_rows=_previous_rows(cfg, feed.name)
                )
                if blocked_msg:
                    raise DeliveryBlocked(blocked_msg)
            if rows_in and bad / rows_in > MAX_QUARANTINE_SHARE:
                top = con.execute(
                    "SELECT _rules[1], count(*) FROM checked WHERE len(_rules) > 0 GROUP BY 1 ORDER BY 2 DESC LIMIT 3"
                ).fetchall()
                raise DeliveryBlocked(
                    f"{delivery.source_file}: {bad} of {rows_in} rows break row rules "
                    f"(more than {MAX_QUARANTINE_SHARE:.0%}); most frequent: {top}"
                )
            set_hmac_key(con, key)
            _write_zones(con, cfg, feed, delivery, load_id, sha)
        finally:
            if staging is None:
                con.close()
        _publish(cfg, feed, delivery, result, mapping_name, started_at, validation_frame)
        result.status = "loaded"
    except FileRejected as exc:
        result.status, result.error = "rejected", str(exc)
        result.rows_loaded = result.rows_quarantined = 0
        _record(cfg, result, mapping_name, started_at, validation_frame)
        log.error("%s", exc)
    except DeliveryBlocked as exc:
        result.status, result.error = "blocked", str(exc)
        result.rows_loaded = 0
        result.rows_quarantined = result.rows_in
        _record(cfg, result, mapping_name, started_at, validation_frame)
        log.error("%s: blocked: %s", delivery.source_file, exc)
    except Exception as exc:  # mapping errors and the like: still audited, then re-raised
        if type(exc).__name__ == "MappingError":
            result.status, result.error = "rejected", str(exc)
            _record(cfg, result, mapping_name, started_at)
            log.error("%s", exc)
        else:
            raise
    result.seconds = round(time.monotonic() - started, 3)
    return result


def staging_connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})


def _previous_rows(cfg: Settings, feed: str) -> int | None:
    with connect(cfg.warehouse_path) as wh:
        row = wh.execute(
            "SELECT rows_in FROM audit.load_log WHERE feed = ? AND status = 'loaded' "
            "ORDER BY delivery_date DESC, finished_at DESC LIMIT 1",
            [feed],
        ).fetchone()
    return row[0] if row else None


def _write_zones(
    con: duckdb.DuckDBPyConnection,
    cfg: Settings,
    feed: Feed,
    delivery: Delivery,
    load_id: str,
    sha: str,
) -> None:
    stem = Path(delivery.source_file).name.rsplit(".", 1)[0]
    lineage = {
        "delivery_date": f"DATE '{delivery.delivery_date.isoformat()}'",
        "load_id": f"'{load_id}'",
        "source_file": "'" + delivery.source_file.replace("'", "''") + "'",
        "source_row": "source_row",
        "file_sha256": f"'{sha}'",
        "loaded_at": "current_timestamp::TIMESTAMP",
    }
    raw_select = row_rules.pseudonymised_selects(feed) + [f"{lineage[n]} AS {n}" for n, _ in LINEAGE_COLUMNS]
    _atomic_copy(
        con,
        f"SELECT {', '.join(raw_select)} FROM checked WHERE len(_rules) = 0 ORDER BY source_row",
        _partition_dir(cfg.raw_dir, feed.name, delivery.delivery_date) / f"{stem}.parquet",
    )
    quarantine_select = (
        f"{lineage['load_id']} AS load_id, '{feed.name}' AS feed, {lineage['delivery_date']} AS delivery_date, "
        f"{lineage['source_file']} AS source_file, source_row, _rules[1] AS rule, "
        f"array_to_string(_rules, '; ') AS detail, {_quarantine_sample_sql(feed)} AS sample"
    )
    _atomic_copy(
        con,
        f"SELECT {quarantine_select} FROM checked WHERE len(_rules) > 0 ORDER BY source_row",
        _partition_dir(cfg.quarantine_dir, feed.name, delivery.delivery_date) / f"{stem}.parquet",
    )


def _publish(
    cfg: Settings,
    feed: Feed,
    delivery: Delivery,
    result: LoadResult,
    mapping_name: str | None,
    started_at: dt.datetime,
    validation_frame,
) -> None:
    stem = Path(delivery.source_file).name.rsplit(".", 1)[0]
    raw_file = _partition_dir(cfg.raw_dir, feed.name, delivery.delivery_date) / f"{stem}.parquet"
    q_file = _partition_dir(cfg.quarantine_dir, feed.name, delivery.delivery_date) / f"{stem}.parquet"
    with connect(cfg.warehouse_path) as wh:
        wh.execute("BEGIN TRANSACTION")
        try:
            wh.execute(f"DELETE FROM raw.{feed.name} WHERE source_file = ?", [delivery.source_file])
            wh.execute("DELETE FROM audit.quarantine WHERE source_file = ?", [delivery.source_file])
            wh.execute(f"INSERT INTO raw.{feed.name} BY NAME SELECT * FROM read_parquet('{raw_file}')")
            wh.execute(f"INSERT INTO audit.quarantine BY NAME SELECT * FROM read_parquet('{q_file}')")
            loaded = wh.execute(
                f"SELECT count(*) FROM raw.{feed.name} WHERE load_id = ?", [result.load_id]
            ).fetchone()[0]
            quarantined = wh.execute(
                "SELECT count(*) FROM audit.quarantine WHERE load_id = ?", [result.load_id]
            ).fetchone()[0]
            if loaded + quarantined != result.rows_in:
                raise LoadInvariantBroken(
                    f"{delivery.source_file}: rows_in {result.rows_in} != loaded {loaded} + quarantined "
                    f"{quarantined}; nothing published"
                )
            result.rows_loaded, result.rows_quarantined = loaded, quarantined
            result.supersedes = _superseded(wh, feed, result.load_id)
            _insert_audit(wh, result, mapping_name, started_at, validation_frame, status="loaded")
            wh.execute("COMMIT")
        except BaseException:
            wh.execute("ROLLBACK")
            raise


def _insert_audit(
    wh: duckdb.DuckDBPyConnection,
    result: LoadResult,
    mapping_name: str | None,
    started_at: dt.datetime,
    validation_frame=None,
    *,
    status: str,
) -> None:
    wh.execute(
        "DELETE FROM audit.load_log WHERE load_id = ? AND status = ?", [result.load_id, status]
    )
    wh.execute(
        "INSERT INTO audit.load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.load_id,
            result.run_id,
            result.feed,
            result.delivery_date,
            result.source_file,
            result.file_sha256,
            mapping_name,
            status,
            result.rows_in,
            result.rows_loaded,
            result.rows_quarantined,
            ",".join(result.supersedes) or None,
            result.error,
            started_at,
            dt.datetime.now(),
        ],
    )
    if validation_frame is not None and len(validation_frame):
        wh.execute("DELETE FROM audit.validation_results WHERE file = ?", [result.source_file])
        wh.register("validation_frame", validation_frame)
        wh.execute("INSERT INTO audit.validation_results BY NAME SELECT * FROM validation_frame")
        wh.unregister("validation_frame")


def _record(
    cfg: Settings, result: LoadResult, mapping_name: str | None, started_at: dt.datetime, validation_frame=None
) -> None:
    """Audit a delivery that was not published (rejected, blocked, duplicate)."""
    with connect(cfg.warehouse_path) as wh:
        ensure_schemas(wh)
        wh.execute("BEGIN TRANSACTION")
        _insert_audit(wh, result, mapping_name, started_at, validation_frame, status=result.status)
        wh.execute("COMMIT")


def ingest_pending(
    feed: str,
    *,
    run_id: str = "manual",
    since: dt.date | None = None,
    until: dt.date | None = None,
    cfg: Settings | None = None,
    validate: bool = True,
) -> list[LoadResult]:
    """Load every delivery of `feed` in the landing zone not yet loaded (oldest first)."""
    cfg = cfg or settings()
    mappings = load_mappings(cfg.mappings_dir)
    key = pii_key()
    results = []
    staging = staging_connection()
    for delivery in find_deliveries(cfg.landing_dir, feed, since=since, until=until):
        res = ingest_delivery(
            delivery, run_id=run_id, cfg=cfg, mappings=mappings, key=key, validate=validate, staging=staging
        )
        log.info(
            "%s %s: %s in=%d loaded=%d quarantined=%d (%.2fs)",
            feed,
            res.source_file,
            res.status,
            res.rows_in,
            res.rows_loaded,
            res.rows_quarantined,
            res.seconds,
        )
        results.append(res)
    staging.close()
    return results
