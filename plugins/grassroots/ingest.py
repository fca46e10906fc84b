"""Landing → raw → warehouse for one delivery file, with quarantine and load audit.

The heavy work (reading, typing, rules, hashing, Parquet) happens in a private in-memory DuckDB,
so the warehouse is locked only for the short publishing transaction. Publishing is atomic:
Parquet files are written to a temporary name and renamed, and the warehouse rows of this file,
its quarantined rows and its audit row change in one transaction. A load killed at any moment
leaves the previous state; the next run redoes the file from the start.

Connections to the warehouse: `ingest_pending` opens one at the start of a run (schemas, the load
log of the feed: which files are already loaded, refused or duplicates, and the previous row count
for the volume check) and then one per published file (the publishing transaction, which checks the
load log again so that a concurrent run cannot load a file twice).

Test hook: when the environment variable ``GRASSROOTS_TEST_KILL_AT`` names a stage (``read``,
``raw_tmp_written``, ``raw_written``, ``before_commit``, ``after_commit``), the process kills itself
with SIGKILL on reaching it, so tests can prove that an interrupted load leaves the warehouse as it
was and that the next run completes it. It is inert unless set; never set it in production.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import signal
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from grassroots import row_rules
from grassroots.config import Settings, settings
from grassroots.feeds import LINEAGE_COLUMNS, Feed, Pii, get_feed
from grassroots.landing import (
    SUFFIXES,
    Delivery,
    RefusedFile,
    file_sha256,
    landing_today,
    scan_landing,
    supplier_series,
)
from grassroots.mappings import Mapping, MappingError, load_mappings, mapping_for
from grassroots.pii import hmac_sql, pii_key, pseudonymise_columns, set_hmac_key
from grassroots.pii_content import ContentScan, scan_checked
from grassroots.read_delivery import FileRejected, read_delivery
from grassroots.reference import divisions_path
from grassroots.warehouse import connect, duckdb_config, ensure_schemas, raw_table_ddl

log = logging.getLogger(__name__)

# A delivery in which more than this share of rows break row rules is blocked whole: it is more
# likely a broken export than a few bad rows.
MAX_QUARANTINE_SHARE = float(os.environ.get("GRASSROOTS_MAX_QUARANTINE_SHARE", "0.5"))
# A delivery larger than this is refused unread (a runaway export, or a file that is not what the
# supplier meant to send): memory and time stay bounded whatever lands in the zone.
MAX_FILE_BYTES = int(os.environ.get("GRASSROOTS_MAX_FILE_BYTES", str(1 << 30)))


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
    # loaded | already_loaded | already_refused | duplicate | rejected | blocked | waiting (dated
    # after today: not loaded, not audited)
    status: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error: str | None = None
    supersedes: list[str] = field(default_factory=list)
    warnings: int = 0
    seconds: float = 0.0
    run_id: str = "manual"
    # Source columns the mapping does not know: loaded files ignore them, the audit notes them.
    extra_columns: list[str] = field(default_factory=list)
    # sha256 of the mapping file the delivery was read with: which version of the mapping loaded it.
    mapping_sha256: str | None = None
    mapping: str | None = None
    # Warning findings kept in audit.load_log.error of a loaded file (e.g. staff ids that are ID numbers).
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def make_load_id(feed: str, source_file: str, sha: str) -> str:
    """Deterministic: the same file at the same place gets the same id on every rerun."""
    return hashlib.sha256(f"{feed}|{source_file}|{sha}".encode()).hexdigest()[:20]


def _partition_dir(base: Path, feed: str, delivery_date: dt.date) -> Path:
    return base / feed / f"delivery_date={delivery_date.isoformat()}"


def zone_file(base: Path, delivery: Delivery) -> Path:
    """The Parquet file of a delivery in the raw or quarantine zone.

    Named after the delivered file's whole name, extension included (``x.csv.parquet``): a
    partition is one landing folder, whose file names are unique, so two deliveries (``x.csv``
    beside ``x.xlsx``) can never write the same Parquet file, and a corrected file delivered again
    at the same path replaces its own.
    """
    name = Path(delivery.source_file).name
    return _partition_dir(base, delivery.feed, delivery.delivery_date) / f"{name}.parquet"


KILL_STAGES = (
    "read",
    "raw_tmp_written",
    "raw_written",
    "before_commit",
    "after_commit",
)


def _kill_point(stage: str) -> None:
    """Test hook (see the module docstring): SIGKILL this process at `stage` when asked to."""
    if os.environ.get("GRASSROOTS_TEST_KILL_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)


_HOST = socket.gethostname().replace("-", "_")


def _tmp_name(target: Path) -> Path:
    """Hidden, and not ending in .parquet: no reader's `*.parquet` glob can pick it up."""
    return target.with_name(f".{target.name}.tmp-{_HOST}-{os.getpid()}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_tmp(directory: Path, pattern: str = ".*.tmp-*") -> list[Path]:
    """Remove temp files left by killed loads of this host (their process is gone)."""
    removed = []
    if not directory.is_dir():
        return removed
    for tmp in directory.glob(pattern):
        host, _, pid = tmp.name.rsplit(".tmp-", 1)[-1].rpartition("-")
        if host == _HOST and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
            log.warning("removed %s: temp file of an interrupted load (never published)", tmp)
    return removed


def _sql_path(path: Path) -> str:
    """A path as a SQL string literal: a supplier's file name may hold a quote."""
    return "'" + str(path).replace("'", "''") + "'"


def _atomic_copy(
    con: duckdb.DuckDBPyConnection,
    query: str,
    target: Path,
    *,
    stage: str | None = None,
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_tmp(target.parent, f".{target.name}.tmp-*")
    tmp = _tmp_name(target)
    con.execute(f"COPY ({query}) TO {_sql_path(tmp)} (FORMAT parquet, COMPRESSION zstd)")
    if stage:
        _kill_point(f"{stage}_tmp_written")
    os.replace(tmp, target)
    if stage:
        _kill_point(f"{stage}_written")


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
            parts.append(f"'{col.name}': {row_rules.sample_value_sql(col)}")
    return "CAST(to_json({" + ", ".join(parts) + "}) AS VARCHAR)"


@dataclass
class FeedLog:
    """The load log of one feed as far as the ingest needs it, read once per run.

    A run updates it as it goes (`add`), so a file delivered twice within one run is recognised
    too; the publishing transaction checks the warehouse again (`_previous_state`).
    """

    feed: str
    # (source_file, file_sha256, status, delivery_date, rows_in), in the order they finished
    entries: list[tuple[str, str, str, dt.date, int | None]] = field(default_factory=list)

    @classmethod
    def read(cls, wh: duckdb.DuckDBPyConnection, feed: Feed) -> FeedLog:
        ensure_schemas(wh)
        wh.execute(raw_table_ddl(feed))
        rows = wh.execute(
            "SELECT source_file, file_sha256, status, delivery_date, rows_in FROM audit.load_log "
            "WHERE feed = ? AND status IN ('loaded', 'duplicate', 'rejected', 'blocked') "
            "ORDER BY finished_at",
            [feed.name],
        ).fetchall()
        return cls(feed.name, [tuple(r) for r in rows])

    def state(self, source_file: str, sha: str) -> tuple[str, str | None]:
        """('already_loaded' | 'already_refused' | 'duplicate' | 'new', earlier file of a duplicate)."""
        return _state_of([(sf, st) for sf, sh, st, _, _ in self.entries if sh == sha], source_file)

    def previous_rows(self, delivery: Delivery) -> int | None:
        """rows_in of the latest loaded delivery of the same supplier series (same feed, and
        county for per-county files) before this one, by delivery date, then load order."""
        loaded = [
            (d, i, n)
            for i, (sf, _, st, d, n) in enumerate(self.entries)
            if st == "loaded"
            and d <= delivery.delivery_date
            and sf != delivery.source_file
            and supplier_series(sf) == delivery.series
        ]
        return max(loaded)[2] if loaded else None

    def add(self, result: LoadResult) -> None:
        if result.status == "loaded":  # new content at a path replaces the path's earlier load
            self.entries = [e for e in self.entries if not (e[0] == result.source_file and e[2] == "loaded")]
        if result.status in ("loaded", "duplicate", "rejected", "blocked"):
            self.entries.append(
                (
                    result.source_file,
                    result.file_sha256,
                    result.status,
                    dt.date.fromisoformat(result.delivery_date),
                    result.rows_in,
                )
            )


def _state_of(rows: list[tuple[str, str]], source_file: str) -> tuple[str, str | None]:
    mine = [status for sf, status in rows if sf == source_file]
    if mine:
        # The file's latest verdict (rows are in the order they finished): a refused file stays
        # refused until a corrected file replaces it or a retry (grassroots.retry) loads it.
        return ("already_loaded" if mine[-1] in ("loaded", "duplicate") else "already_refused"), None
    loaded = [sf for sf, st in rows if st == "loaded"]
    return ("duplicate", loaded[0]) if loaded else ("new", None)


def _previous_state(wh: duckdb.DuckDBPyConnection, delivery: Delivery, sha: str) -> tuple[str, str | None]:
    """The same verdict as `FeedLog.state`, read from the warehouse (inside the publishing transaction)."""
    rows = wh.execute(
        "SELECT source_file, status FROM audit.load_log WHERE file_sha256 = ? AND feed = ? "
        "AND status IN ('loaded', 'duplicate', 'rejected', 'blocked') ORDER BY finished_at",
        [sha, delivery.feed],
    ).fetchall()
    return _state_of(rows, delivery.source_file)


class _AlreadyDone(Exception):
    """Another run published this file (or its twin) while we were preparing it."""

    def __init__(self, state: str, earlier: str | None) -> None:
        self.state, self.earlier = state, earlier
        super().__init__(state)


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


def _live_loads_of(wh: duckdb.DuckDBPyConnection, delivery: Delivery, load_id: str) -> list[str]:
    """Live loads of the same file identity (feed, delivery date, path): new content replaces them."""
    return [
        r[0]
        for r in wh.execute(
            "SELECT DISTINCT load_id FROM audit.load_log WHERE feed = ? AND delivery_date = ? "
            "AND source_file = ? AND status = 'loaded' AND load_id <> ? ORDER BY 1",
            [delivery.feed, delivery.delivery_date, delivery.source_file, load_id],
        ).fetchall()
    ]


def _mark_superseded(
    wh: duckdb.DuckDBPyConnection, delivery: Delivery, replaced: list[str], load_id: str
) -> None:
    """The replaced loads' audit rows say so: their rows left raw and the quarantine with them."""
    if not replaced:
        return
    wh.execute(
        "UPDATE audit.load_log SET status = 'superseded', error = coalesce(error || ' | ', '') "
        "|| 'superseded by load ' || ? || ': new content delivered at the same path' "
        "WHERE feed = ? AND source_file = ? AND status = 'loaded' AND list_contains(?, load_id)",
        [load_id, delivery.feed, delivery.source_file, replaced],
    )


def ingest_delivery(
    delivery: Delivery,
    *,
    run_id: str = "manual",
    cfg: Settings | None = None,
    mappings: list[Mapping] | None = None,
    key: bytes | None = None,
    validate: bool = True,
    staging: duckdb.DuckDBPyConnection | None = None,
    feed_log: FeedLog | None = None,
    retry: bool = False,
) -> LoadResult:
    """Load one delivery file. Never raises for bad data: the result says what happened.

    `retry`: read a file refused before (same path and content) again, e.g. after its mapping was
    fixed (grassroots.retry audits who asked); without it a refused file stays refused.

    `staging` is a private in-memory DuckDB reused across the files of one run (reference codes
    are loaded into it once); `feed_log` is the feed's load log read once per run by
    `ingest_pending` (read here when absent).
    """
    cfg = cfg or settings()
    started = time.monotonic()
    started_at = dt.datetime.now()
    feed = get_feed(delivery.feed)
    size = delivery.path.stat().st_size
    too_large = size > MAX_FILE_BYTES
    # An oversized file is refused before it is read at all (not even hashed): its identity is its size.
    sha = f"unread-oversized-{size}" if too_large else file_sha256(delivery.path)
    load_id = make_load_id(feed.name, delivery.source_file, sha)
    result = LoadResult(
        feed.name,
        delivery.source_file,
        delivery.delivery_date.isoformat(),
        load_id,
        sha,
        "new",
        run_id=run_id,
    )
    key = key or pii_key()

    if feed_log is None:
        with connect(cfg.warehouse_path) as wh:
            feed_log = FeedLog.read(wh, feed)
    state, earlier = feed_log.state(delivery.source_file, sha)
    if state == "already_refused" and retry:
        state = "new"
    if state in ("already_loaded", "already_refused"):
        result.status = state
        log.info("%s: %s (sha256 %s…), nothing to do", delivery.source_file, state, sha[:12])
        return result
    if state == "duplicate":
        return _duplicate(cfg, result, earlier, started_at, feed_log)

    mapping_name = None
    validation_frame = None
    try:
        if too_large:
            raise FileRejected(
                delivery.source_file,
                "file_too_large",
                f"{size:,} bytes, more than the limit of {MAX_FILE_BYTES:,} "
                "(GRASSROOTS_MAX_FILE_BYTES): not read",
            )
        mapping = mapping_for(feed.name, delivery.path.name, mappings or load_mappings(cfg.mappings_dir))
        mapping_name = result.mapping = mapping.name
        result.mapping_sha256 = mapping_sha256(mapping)
        con = staging or staging_connection()
        try:
            rows_in, extra = read_delivery(con, delivery.path, mapping, delivery.source_file)
            result.rows_in = rows_in
            result.extra_columns = list(extra)
            if extra:
                log.warning(
                    "%s: extra column(s) ignored (not in mapping %s): %s",
                    delivery.source_file,
                    mapping.name,
                    extra,
                )
            row_rules.build_typed(
                con,
                feed,
                mapping,
                str(divisions_path()),
                delivery_date=delivery.delivery_date,
                dbt_project_dir=cfg.dbt_project_dir,
            )
            scan = scan_checked(con, feed, mapping, key)  # before any value leaves this connection
            _kill_point("read")
            bad = con.execute("SELECT count(*) FROM checked WHERE len(_rules) > 0").fetchone()[0]
            result.rows_quarantined = bad
            result.rows_loaded = rows_in - bad

            if validate:
                from grassroots.quality_gate import run_suite

                validation_frame, blocked_msg, result.warnings = run_suite(
                    con,
                    feed,
                    delivery,
                    run_id=run_id,
                    previous_rows=feed_log.previous_rows(delivery),
                )
                if blocked_msg:
                    raise DeliveryBlocked(blocked_msg + _parse_note(con, feed, mapping))
            _note_scan(result, scan)
            if rows_in and bad / rows_in > MAX_QUARANTINE_SHARE:
                top = con.execute(
                    "SELECT _rules[1], count(*) FROM checked WHERE len(_rules) > 0 "
                    "GROUP BY 1 ORDER BY 2 DESC LIMIT 3"
                ).fetchall()
                raise DeliveryBlocked(
                    f"{delivery.source_file}: {bad} of {rows_in} rows break row rules "
                    f"(more than {MAX_QUARANTINE_SHARE:.0%}); most frequent: {top}"
                    + _parse_note(con, feed, mapping)
                )
            set_hmac_key(con, key)
            _write_zones(con, cfg, feed, delivery, load_id, sha, key)
        finally:
            if staging is None:
                con.close()
        _publish(cfg, feed, delivery, result, mapping_name, started_at, validation_frame, retry=retry)
        result.status = "loaded"
    except _AlreadyDone as done:
        if done.state == "duplicate":
            return _duplicate(cfg, result, done.earlier, started_at, feed_log)
        result.status, result.rows_loaded, result.rows_quarantined = done.state, 0, 0
        log.info(
            "%s: %s by another run meanwhile, nothing to do",
            delivery.source_file,
            done.state,
        )
    except FileRejected as exc:
        result.status, result.error = "rejected", str(exc)
        result.rows_loaded = result.rows_quarantined = 0
        _record(cfg, result, mapping_name, started_at, validation_frame)
        log.error("%s", exc)
    except DeliveryBlocked as exc:
        result.status, result.error = "blocked", str(exc)
        # Refused whole: nothing loaded and nothing in audit.quarantine (the audit check holds both to 0).
        result.rows_loaded = result.rows_quarantined = 0
        _record(cfg, result, mapping_name, started_at, validation_frame)
        log.error("%s: blocked: %s", delivery.source_file, exc)
    except MappingError as exc:  # no or broken mapping: still audited
        result.status, result.error = "rejected", str(exc)
        _record(cfg, result, mapping_name, started_at)
        log.error("%s", exc)
    feed_log.add(result)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _note_scan(result: LoadResult, scan: ContentScan) -> None:
    """The content scan's findings: in the log and the load audit; undeclared ID-number staff ids warn."""
    result.notes += scan.notes()
    result.warnings += int(bool(scan.staff_ids_hashed and not scan.declared))
    for note in scan.notes():
        log.warning("%s: %s", result.source_file, note)


def _parse_note(con: duckdb.DuckDBPyConnection, feed: Feed, mapping: Mapping) -> str:
    """Why typed values are null although the file has them: the formats tried and the values' shapes."""
    failures = row_rules.parse_failures(con, feed, mapping)
    return (" | parse errors: " + "; ".join(failures)) if failures else ""


def mapping_sha256(mapping: Mapping) -> str | None:
    """The mapping's version: sha256 of its YAML file as read (None for a mapping built in code)."""
    if mapping.path is None or not Path(mapping.path).is_file():
        return None
    return hashlib.sha256(Path(mapping.path).read_bytes()).hexdigest()


def _duplicate(
    cfg: Settings,
    result: LoadResult,
    earlier: str | None,
    started_at: dt.datetime,
    feed_log: FeedLog,
) -> LoadResult:
    result.status = "duplicate"
    result.error = f"same content (sha256) as {earlier}, already loaded: not loaded again"
    _record(cfg, result, None, started_at)
    feed_log.add(result)
    log.warning("%s: %s", result.source_file, result.error)
    return result


def staging_connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config=duckdb_config())


def _write_zones(
    con: duckdb.DuckDBPyConnection,
    cfg: Settings,
    feed: Feed,
    delivery: Delivery,
    load_id: str,
    sha: str,
    key: bytes,
) -> None:
    lineage = {
        "delivery_date": f"DATE '{delivery.delivery_date.isoformat()}'",
        "load_id": f"'{load_id}'",
        "source_file": "'" + delivery.source_file.replace("'", "''") + "'",
        "source_row": "source_row",
        "file_sha256": f"'{sha}'",
        "loaded_at": "current_timestamp::TIMESTAMP",
    }
    # Identifiers are hashed column by column on both cores, then joined back by source_row.
    to_hash = [c.name for c in feed.columns if c.pii is Pii.HASH]
    rows = "FROM checked WHERE len(_rules) = 0"
    if to_hash:
        columns = ", ".join('"' + c + '"' for c in to_hash)  # feed column names: plain identifiers
        clear = f"SELECT source_row, {columns} FROM checked WHERE len(_rules) = 0"
        con.register("pii_hashed", pseudonymise_columns(con, clear, to_hash, key))
        rows = "FROM checked JOIN pii_hashed USING (source_row) WHERE len(_rules) = 0"
    raw_select = row_rules.pseudonymised_selects(feed, hashed_in="pii_hashed" if to_hash else None) + [
        f"{lineage[n]} AS {n}" for n, _ in LINEAGE_COLUMNS
    ]
    _atomic_copy(
        con,
        f"SELECT {', '.join(raw_select)} {rows} ORDER BY source_row",
        zone_file(cfg.raw_dir, delivery),
        stage="raw",
    )
    quarantine_select = (
        f"{lineage['load_id']} AS load_id, '{feed.name}' AS feed, "
        f"{lineage['delivery_date']} AS delivery_date, "
        f"{lineage['source_file']} AS source_file, source_row, _rules[1] AS rule, "
        f"array_to_string(_details, '; ') AS detail, {_quarantine_sample_sql(feed)} AS sample"
    )
    _atomic_copy(
        con,
        f"SELECT {quarantine_select} FROM checked WHERE len(_rules) > 0 ORDER BY source_row",
        zone_file(cfg.quarantine_dir, delivery),
    )


def _publish(
    cfg: Settings,
    feed: Feed,
    delivery: Delivery,
    result: LoadResult,
    mapping_name: str | None,
    started_at: dt.datetime,
    validation_frame,
    *,
    retry: bool = False,
) -> None:
    raw_file, q_file = zone_file(cfg.raw_dir, delivery), zone_file(cfg.quarantine_dir, delivery)
    with connect(cfg.warehouse_path) as wh:
        wh.execute("BEGIN TRANSACTION")
        try:
            state, earlier = _previous_state(wh, delivery, result.file_sha256)
            if state != "new" and not (retry and state == "already_refused"):
                raise _AlreadyDone(state, earlier)
            replaced = _live_loads_of(wh, delivery, result.load_id)
            wh.execute(
                f"DELETE FROM raw.{feed.name} WHERE source_file = ?",
                [delivery.source_file],
            )
            wh.execute(
                "DELETE FROM audit.quarantine WHERE source_file = ?",
                [delivery.source_file],
            )
            wh.execute(
                f"INSERT INTO raw.{feed.name} BY NAME SELECT * FROM read_parquet({_sql_path(raw_file)})"
            )
            wh.execute(
                f"INSERT INTO audit.quarantine BY NAME SELECT * FROM read_parquet({_sql_path(q_file)})"
            )
            loaded, quarantined = wh.execute(
                f"SELECT (SELECT count(*) FROM raw.{feed.name} WHERE load_id = $1), "
                "(SELECT count(*) FROM audit.quarantine WHERE load_id = $1)",
                [result.load_id],
            ).fetchone()
            if loaded + quarantined != result.rows_in:
                raise LoadInvariantBroken(
                    f"{delivery.source_file}: rows_in {result.rows_in} != loaded {loaded} + quarantined "
                    f"{quarantined}; nothing published"
                )
            result.rows_loaded, result.rows_quarantined = loaded, quarantined
            restated = _superseded(wh, feed, result.load_id)
            result.supersedes = replaced + [x for x in restated if x not in replaced]
            _mark_superseded(wh, delivery, replaced, result.load_id)
            notes = [f"extra column(s) ignored: {result.extra_columns}"] if result.extra_columns else []
            note = "note: " + "; ".join(notes + result.notes) if notes + result.notes else None
            _insert_audit(
                wh,
                result,
                mapping_name,
                started_at,
                validation_frame,
                status="loaded",
                error=note,
            )
            _kill_point("before_commit")
            wh.execute("COMMIT")
        except BaseException:
            wh.execute("ROLLBACK")
            raise
        for published in (raw_file, q_file):
            _drop_legacy_zone_file(wh, published, delivery.source_file)
    _kill_point("after_commit")


def _drop_legacy_zone_file(con: duckdb.DuckDBPyConnection, published: Path, source_file: str) -> None:
    """Remove the `<stem>.parquet` an earlier version of the ingest wrote for this same file.

    Zone files were named after the stem before they kept the extension; when such a file holds
    only rows of this delivery's path (or no rows: nothing is lost), the file just published
    replaces it. A legacy file holding another same-stem delivery's rows is left alone.
    """
    legacy = published.with_name(Path(source_file).name.rsplit(".", 1)[0] + ".parquet")
    # `x.csv.parquet` is the legacy name of `x.csv.csv` but also the current one of `x.csv`
    if legacy == published or not legacy.is_file() or Path(legacy.stem).suffix.lower() in SUFFIXES:
        return
    owners = con.execute(f"SELECT DISTINCT source_file FROM read_parquet({_sql_path(legacy)})").fetchall()
    if owners in ([(source_file,)], []):
        legacy.unlink()
        log.info("removed %s: replaced by %s", legacy, published.name)


def _insert_audit(
    wh: duckdb.DuckDBPyConnection,
    result: LoadResult,
    mapping_name: str | None,
    started_at: dt.datetime,
    validation_frame=None,
    *,
    status: str,
    error: str | None = None,
) -> None:
    wh.execute(
        "DELETE FROM audit.load_log WHERE load_id = ? AND status = ?",
        [result.load_id, status],
    )
    wh.execute(
        "INSERT INTO audit.load_log (load_id, run_id, feed, delivery_date, source_file, file_sha256, "
        "mapping, status, rows_in, rows_loaded, rows_quarantined, supersedes_load_ids, error, "
        "started_at, finished_at, mapping_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            error if error is not None else result.error,
            started_at,
            dt.datetime.now(),
            result.mapping_sha256,
        ],
    )
    if validation_frame is not None and len(validation_frame):
        wh.execute("DELETE FROM audit.validation_results WHERE file = ?", [result.source_file])
        wh.register("validation_frame", validation_frame)
        wh.execute("INSERT INTO audit.validation_results BY NAME SELECT * FROM validation_frame")
        wh.unregister("validation_frame")


def _record(
    cfg: Settings,
    result: LoadResult,
    mapping_name: str | None,
    started_at: dt.datetime,
    validation_frame=None,
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
    feed_def = get_feed(feed)
    mappings = load_mappings(cfg.mappings_dir)
    key = pii_key()
    scan = scan_landing(cfg.landing_dir, feed, since=since, until=until)
    deliveries = scan.deliveries
    for zone in (cfg.raw_dir, cfg.quarantine_dir):
        for part in (zone / feed).glob("delivery_date=*"):
            sweep_stale_tmp(part)
    if not deliveries and not scan.refused:
        return [_waiting(d, run_id) for d in scan.waiting]
    with connect(cfg.warehouse_path) as wh:  # one connection for the whole run's previous state
        feed_log = FeedLog.read(wh, feed_def)
    results = [_refuse_folder(cfg, f, run_id, feed_log) for f in scan.refused]
    staging = staging_connection()
    try:
        for delivery in deliveries:
            res = ingest_delivery(
                delivery,
                run_id=run_id,
                cfg=cfg,
                mappings=mappings,
                key=key,
                validate=validate,
                staging=staging,
                feed_log=feed_log,
            )
            _log_result(feed, res)
            results.append(res)
    finally:
        staging.close()
    return results + [_waiting(d, run_id) for d in scan.waiting]


def _refuse_folder(cfg: Settings, refused: RefusedFile, run_id: str, feed_log: FeedLog) -> LoadResult:
    """Audit a file of a folder that is not a delivery date as rejected (once: a rerun finds it refused).

    Its delivery date is unknown; the audit row carries the day it was refused (Asia/Shanghai).
    """
    sha = file_sha256(refused.path)
    result = LoadResult(
        refused.feed,
        refused.source_file,
        landing_today().isoformat(),
        make_load_id(refused.feed, refused.source_file, sha),
        sha,
        "rejected",
        run_id=run_id,
    )
    if any(sf == refused.source_file and sh == sha for sf, sh, *_ in feed_log.entries):
        result.status = "already_refused"
        return result
    result.error = str(FileRejected(refused.source_file, "not_a_delivery_date", refused.reason))
    _record(cfg, result, None, dt.datetime.now())
    feed_log.add(result)
    log.error("%s", result.error)
    return result


def _waiting(delivery: Delivery, run_id: str) -> LoadResult:
    """A delivery dated after today (Asia/Shanghai): not loaded, not audited; a later run loads it."""
    return LoadResult(
        delivery.feed,
        delivery.source_file,
        delivery.delivery_date.isoformat(),
        "",
        "",
        "waiting",
        run_id=run_id,
        error=(
            f"dated {delivery.delivery_date}, after today ({landing_today()}, Asia/Shanghai): "
            "waits for its day"
        ),
    )


def _log_result(feed: str, res: LoadResult) -> None:
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
