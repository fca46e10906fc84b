"""Shared helpers of the reliability battery: running the pipeline's real parts, hashing what they
produce, and collecting the figures that `docs/reliability.md` reports.

Everything here drives the product as production does (real DuckDB files, the real ingest, the real
dbt CLI in a subprocess, the real report builder); only the kill points are test hooks.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = ROOT / "dbt_project"
DOC = ROOT / "docs" / "reliability.md"
FEEDS = ("staff_roster", "household_registration", "resident_population", "case_log")
TEST_PII_KEY = "reliability-test-key-0123456789abcdef"

# The shared generated region: 湖里区 (Xiamen), three months, a small scale.
REGION = {"counties": ["350206"], "start": "2024-01", "months": 3, "seed": 7, "scale": 0.02}


# --- the figures of docs/reliability.md ------------------------------------------------------------

SECTIONS = {
    "faults": "1. Faults",
    "deliveries": "2. Deliveries",
    "hostile": "3. Hostile and broken input",
    "personal": "4. Personal data",
    "secrets": "5. Secrets and access",
}


@dataclass(frozen=True)
class Scenario:
    section: str
    key: str  # sorts the rows within a section
    scenario: str
    happened: str
    rows_in: int | None = None
    rows_loaded: int | None = None
    rows_quarantined: int | None = None
    marts_identical: bool | None = None  # None: not applicable (no marts involved)


SCENARIOS: dict[tuple[str, str], Scenario] = {}

# The figures of the shared region in the document's header, measured by the `reference` fixture.
REGION_FIGURES: dict[str, object] = {}
DIVISIONS = ROOT / "include" / "reference" / "divisions_2023.parquet"


def record(
    section: str,
    key: str,
    scenario: str,
    happened: str,
    *,
    rows: tuple[int | None, int | None, int | None] | None = None,
    marts_identical: bool | None = None,
) -> None:
    """Note a scenario's outcome for docs/reliability.md (call it after the assertions passed).

    `rows`: (rows in, loaded, quarantined) as the load audit counted them (`audit_rows`); None in a
    cell where nothing was counted (a file refused before its rows were read).
    """
    assert section in SECTIONS, section
    assert "\n" not in scenario + happened
    scenario, happened = scenario.replace("|", "\\|"), happened.replace("|", "\\|")  # Markdown cells
    r_in, r_loaded, r_quarantined = rows if rows else (None, None, None)
    SCENARIOS[(section, key)] = Scenario(
        section, key, scenario, happened, r_in, r_loaded, r_quarantined, marts_identical
    )


# --- environment --------------------------------------------------------------------------------


def data_env(data_dir: Path, reports: Path | None = None) -> dict[str, str]:
    """The environment of a pipeline process working on `data_dir`."""
    env = {
        **os.environ,
        "GRASSROOTS_DATA_DIR": str(data_dir),
        "GRASSROOTS_REPORTS_DIR": str(reports or data_dir.parent / "reports"),
        "GRASSROOTS_PII_KEY": TEST_PII_KEY,
        "PYTHONPATH": str(ROOT / "plugins"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for var in (
        "GRASSROOTS_WAREHOUSE",
        "GRASSROOTS_DEMO",
        "GRASSROOTS_LANDING_DIR",
        "GRASSROOTS_TEST_KILL_AT",
    ):
        env.pop(var, None)
    return env


class use_data_dir:  # noqa: N801 - used like a function: `with use_data_dir(d): ...`
    """Point this process's settings at `data_dir` for the block (settings are read per call)."""

    def __init__(self, data_dir: Path, reports: Path | None = None) -> None:
        self.env = {k: v for k, v in data_env(data_dir, reports).items() if k.startswith("GRASSROOTS_")}

    def __enter__(self) -> None:
        self.saved = {k: os.environ.get(k) for k in (*self.env, "GRASSROOTS_WAREHOUSE", "GRASSROOTS_DEMO")}
        os.environ.update(self.env)
        os.environ.pop("GRASSROOTS_WAREHOUSE", None)
        os.environ.pop("GRASSROOTS_DEMO", None)

    def __exit__(self, *exc) -> None:
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# --- running the pipeline -----------------------------------------------------------------------


def ingest_all(data_dir: Path, feeds: Iterable[str] = FEEDS, **kwargs) -> list:
    """Every pending delivery of the feeds, as the ingest DAGs load them (validation off: fast)."""
    from grassroots.ingest import ingest_pending

    kwargs.setdefault("validate", False)
    out = []
    with use_data_dir(data_dir):
        for feed in feeds:
            out += ingest_pending(feed, run_id="reliability", **kwargs)
    return out


def load_reference(data_dir: Path) -> None:
    from grassroots.reference import load_reference_tables
    from grassroots.warehouse import connect, ensure_schemas

    with connect(data_dir / "warehouse.duckdb") as con:
        ensure_schemas(con)
        load_reference_tables(con, schema="raw")


def killed_ingest(data_dir: Path, feed: str, stage: str, **kwargs) -> int:
    """`ingest_pending(feed)` in a forked child that SIGKILLs itself at `stage`; its exit status.

    A fork starts in milliseconds (a new interpreter would take seconds); the kill is the real
    SIGKILL of the ingest's test hook (GRASSROOTS_TEST_KILL_AT).
    """
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 1
        try:
            os.environ.update({k: v for k, v in data_env(data_dir).items() if k.startswith("GRASSROOTS_")})
            os.environ.pop("GRASSROOTS_WAREHOUSE", None)
            os.environ["GRASSROOTS_TEST_KILL_AT"] = stage
            from grassroots.ingest import ingest_pending

            kwargs.setdefault("validate", False)
            ingest_pending(feed, run_id="reliability-killed", **kwargs)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def dbt_bin() -> str:
    exe = os.environ.get("GRASSROOTS_DBT_BIN") or str(ROOT / ".venv-dbt" / "bin" / "dbt")
    assert Path(exe).exists(), f"dbt not installed at {exe} (make setup)"
    return exe


def dbt_command(work: Path, *args: str, target: str = "duckdb") -> list[str]:
    return [
        dbt_bin(),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        target,
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]


# Seeds and models: the marts (data tests are the dbt tests' business; the reference run has them).
MODELS_ONLY = ("build", "--resource-type", "seed", "--resource-type", "model")


def dbt_env(warehouse: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = data_env(warehouse.parent)
    env["GRASSROOTS_WAREHOUSE"] = str(warehouse)
    env.update(extra or {})
    return env


def run_dbt(warehouse: Path, work: Path, *args: str, target: str = "duckdb", env_extra=None) -> str:
    cmd = dbt_command(work, *(args or MODELS_ONLY), target=target)
    proc = subprocess.run(
        cmd,
        cwd=DBT_PROJECT_DIR,
        env=dbt_env(warehouse, env_extra),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout


def start_and_kill(
    cmd: list[str], env: dict[str, str], *, cwd: Path, when: Callable[[], bool], timeout: float = 300
) -> bool:
    """Start `cmd`, SIGKILL it as soon as `when()` holds; False if it finished first."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if when():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.05)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- what the pipeline produced, as hashes -------------------------------------------------------


def mart_hashes(warehouse: Path) -> dict[str, tuple[str, int]]:
    """Per table of schema `marts`: md5 of its rows (each row as text, in sorted order) and count."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return mart_hashes_on(con, "marts")
    finally:
        con.close()


def mart_hashes_on(con: duckdb.DuckDBPyConnection, schema: str, catalog: str | None = None) -> dict:
    where = f"table_catalog = '{catalog}' AND " if catalog else ""
    prefix = f"{catalog}." if catalog else ""
    tables = [
        r[0]
        for r in con.execute(
            f"SELECT table_name FROM information_schema.tables WHERE {where}table_schema = ? "
            "AND table_type = 'BASE TABLE' ORDER BY 1",
            [schema],
        ).fetchall()
    ]
    out = {}
    for t in tables:
        drop = MART_LOAD_TIME_COLUMNS.get(t)
        rows = (
            f'SELECT * EXCLUDE ({", ".join(drop)}) FROM {prefix}{schema}."{t}"'
            if drop
            else (f'SELECT * FROM {prefix}{schema}."{t}"')
        )
        out[t] = con.execute(
            "SELECT md5(coalesce(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR)), '')), "
            f"count(*) FROM ({rows}) AS t"
        ).fetchone()
    return out


# Mart columns that are load times by definition: fct_cases.last_loaded_at is the incremental
# watermark (when the case's latest version was loaded), so a rerun at another time differs there
# and nowhere else. Left out of the comparison; docs/reliability.md says so.
MART_LOAD_TIME_COLUMNS = {"fct_cases": ("last_loaded_at",)}


# Load times and run ids differ between two runs of the same deliveries by design.
VOLATILE = {"loaded_at", "run_id", "started_at", "finished_at"}


def warehouse_state(data_dir: Path, *, zones: bool = True) -> str:
    """Hash of the raw and audit tables (without load times) and of the rows of the Parquet zones."""
    h = hashlib.sha256()
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND (table_schema = 'raw' AND table_name NOT LIKE 'ref_%' OR table_schema = 'audit' "
            "AND table_name IN ('load_log', 'quarantine')) ORDER BY 1, 2"
        ).fetchall()
        for schema, table in tables:
            cols = [
                c[0] for c in con.execute(f"DESCRIBE {schema}.{table}").fetchall() if c[0] not in VOLATILE
            ]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {schema}.{table} ORDER BY ALL").fetchall()
            h.update(f"{schema}.{table}{rows}".encode())
        if zones:
            for zone in ("raw", "quarantine"):
                files = sorted((data_dir / zone).rglob("*.parquet"))
                h.update(str([p.relative_to(data_dir).as_posix() for p in files]).encode())
                for p in files:
                    exclude = "EXCLUDE (loaded_at)" if zone == "raw" else ""
                    rows = con.execute(f"SELECT * {exclude} FROM read_parquet('{p}') ORDER BY ALL").fetchall()
                    h.update(str(rows).encode())
    finally:
        con.close()
    return h.hexdigest()


def audit_consistent(data_dir: Path) -> tuple[int, int, int]:
    """Assert the load audit's invariants; return (rows_in, loaded, quarantined) of the loaded files.

    For every loaded file rows_in = rows_loaded + rows_quarantined, and those counts are the rows
    really in the raw tables and in audit.quarantine under its load id; no file is loaded twice.
    """
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        loaded = con.execute(
            "SELECT feed, load_id, source_file, rows_in, rows_loaded, rows_quarantined FROM audit.load_log "
            "WHERE status = 'loaded'"
        ).fetchall()
        twice = con.execute(
            "SELECT source_file, count(*) FROM audit.load_log WHERE status = 'loaded' GROUP BY 1 "
            "HAVING count(*) > 1"
        ).fetchall()
        assert not twice, f"loaded more than once: {twice}"
        sha_twice = con.execute(
            "SELECT file_sha256, count(*) FROM audit.load_log WHERE status = 'loaded' GROUP BY 1 "
            "HAVING count(*) > 1"
        ).fetchall()
        assert not sha_twice, f"the same content loaded twice: {sha_twice}"
        per_load = {}
        for feed in {r[0] for r in loaded}:
            for load_id, n in con.execute(f"SELECT load_id, count(*) FROM raw.{feed} GROUP BY 1").fetchall():
                per_load[load_id] = n
        q = dict(con.execute("SELECT load_id, count(*) FROM audit.quarantine GROUP BY 1").fetchall())
        orphans = set(per_load) - {r[1] for r in loaded}
        assert not orphans, f"raw rows of loads the audit does not list as loaded: {orphans}"
        totals = [0, 0, 0]
        for _feed, load_id, source_file, rows_in, rows_loaded, rows_q in loaded:
            assert rows_in == rows_loaded + rows_q, source_file
            assert (per_load.get(load_id, 0), q.get(load_id, 0)) == (rows_loaded, rows_q), source_file
            totals[0] += rows_in
            totals[1] += rows_loaded
            totals[2] += rows_q
        return tuple(totals)
    finally:
        con.close()


def audit_rows(data_dir: Path, load_id: str) -> tuple[int | None, int, int]:
    """(rows in, loaded, quarantined) of one load as audit.load_log has them, cross-checked.

    The loaded and quarantined figures must be the rows really under that load id in the raw table
    and in audit.quarantine. A file refused whole (rejected) was never counted: rows in is None.
    """
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        [(feed, status, rows_in, loaded, quarantined)] = con.execute(
            "SELECT feed, status, rows_in, rows_loaded, rows_quarantined FROM audit.load_log "
            "WHERE load_id = ?",
            [load_id],
        ).fetchall()
        in_raw = con.execute(f"SELECT count(*) FROM raw.{feed} WHERE load_id = ?", [load_id]).fetchone()[0]
        in_q = con.execute("SELECT count(*) FROM audit.quarantine WHERE load_id = ?", [load_id]).fetchone()[0]
    finally:
        con.close()
    assert (loaded or 0, quarantined or 0) == (in_raw, in_q), (load_id, loaded, quarantined, in_raw, in_q)
    if status in ("rejected", "blocked"):  # refused whole: nothing of it in the warehouse
        assert in_raw == in_q == 0, f"{status} file {load_id} has rows in the warehouse"
    if status == "rejected":  # refused before its rows were counted
        return None, in_raw, in_q
    if status == "loaded":
        assert rows_in == loaded + quarantined, (load_id, rows_in, loaded, quarantined)
    return rows_in, in_raw, in_q


def row_counts(data_dir: Path) -> tuple[int, int, int]:
    """(rows in all raw feed tables, rows in audit.quarantine, rows in audit.load_log)."""
    wh = data_dir / "warehouse.duckdb"
    if not wh.exists():
        return 0, 0, 0
    con = duckdb.connect(str(wh), read_only=True)
    try:
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            ).fetchall()
        }
        raw = sum(
            con.execute(f"SELECT count(*) FROM raw.{f}").fetchone()[0] for f in FEEDS if f"raw.{f}" in tables
        )
        q = con.execute("SELECT count(*) FROM audit.quarantine").fetchone()[0]
        log_rows = con.execute("SELECT count(*) FROM audit.load_log").fetchone()[0]
    finally:
        con.close()
    return raw, q, log_rows


# --- measuring a load in a process of its own: memory, bytes read, files opened, bytes unpacked ---

MEASURED_INGEST = r"""
import json, os, sys, zipfile
feed, watch = sys.argv[1], os.path.realpath(sys.argv[2])
from grassroots.ingest import ingest_pending  # imported before measuring: only the load counts

opened = []
def audit(event, args):  # every open() of the watched file, from Python code
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        try:
            if os.path.realpath(os.fsdecode(args[0])) == watch:
                opened.append(event)
        except (TypeError, ValueError, OSError):
            pass
unpacked = [0]
_read1 = zipfile.ZipExtFile._read1
def counting_read1(self, n):  # every byte any zip member yields, decompressed
    data = _read1(self, n)
    unpacked[0] += len(data)
    return data
zipfile.ZipExtFile._read1 = counting_read1

def rchar():
    with open("/proc/self/io") as fh:
        return int(next(line for line in fh if line.startswith("rchar:")).split()[1])
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
rss0, read0 = rss(), rchar()
sys.addaudithook(audit)
results = ingest_pending(feed, run_id="reliability-measured", validate=False)
read1 = rchar()
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over exec, from the forked parent (pytest)
with open("/proc/self/status") as fh:
    peak = int(next(line for line in fh if line.startswith("VmHWM:")).split()[1]) * 1024
print(json.dumps({
    "results": [[r.status, r.load_id, r.error] for r in results],
    "opened": len(opened), "unpacked": unpacked[0], "bytes_read": read1 - read0,
    "peak_growth": peak - rss0,
}))
"""


@dataclass(frozen=True)
class Measured:
    results: list[tuple[str, str, str | None]]  # (status, load id, error) of every delivery
    opened: int  # times the watched file was opened (Python's open audit event)
    unpacked: int  # bytes decompressed from any zip archive (xlsx) by Python's zipfile
    bytes_read: int  # bytes the load read through read() calls, all files (/proc/self/io rchar)
    peak_growth: int  # peak resident memory of the load above the process's memory before it


def measured_ingest(data_dir: Path, feed: str, watch: Path) -> Measured:
    """`ingest_pending(feed)` in a fresh interpreter, with what it cost measured around the call."""
    proc = subprocess.run(
        [sys.executable, "-c", MEASURED_INGEST, feed, str(watch)],
        env=data_env(data_dir),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return Measured(
        [tuple(r) for r in out["results"]],
        out["opened"],
        out["unpacked"],
        out["bytes_read"],
        out["peak_growth"],
    )


MIB = 1 << 20


# --- a statement log: every SQL statement DuckDB executed, on every connection ------------------


class duckdb_statement_log:  # noqa: N801 - used like a function: `with duckdb_statement_log(d) as log:`
    """Log every statement of every DuckDB connection this process opens in the block (DuckDB's
    QueryLog, one CSV per connection under `log_dir`); `statements()` reads them back, parsed."""

    def __init__(self, log_dir: Path) -> None:
        self.dir = log_dir
        self.opened = 0

    def __enter__(self) -> duckdb_statement_log:
        self.original = duckdb.connect

        def connect(*args, **kwargs):
            con = self.original(*args, **kwargs)
            self.opened += 1
            where = self.dir / f"con{self.opened:03d}"
            con.execute(f"CALL enable_logging('QueryLog', storage='file', storage_path='{where}')")
            return con

        duckdb.connect = connect
        return self

    def __exit__(self, *exc) -> None:
        duckdb.connect = self.original

    def statements(self) -> list[tuple[str, str]]:
        """(statement type, text) of every logged statement, split and typed by DuckDB's parser."""
        import csv

        parser = self.original()
        out: list[tuple[str, str]] = []
        try:
            for entries in sorted(self.dir.glob("con*/duckdb_log_entries.csv")):
                with entries.open(encoding="utf-8", newline="") as fh:
                    for row in csv.DictReader(fh):
                        if row["type"] != "QueryLog" or row["message"].startswith("CALL enable_logging"):
                            continue
                        try:
                            parsed = parser.extract_statements(row["message"])
                        except duckdb.ParserException:  # logged, then refused by the parser
                            out.append(("UNPARSED", row["message"]))
                            continue
                        out += [(s.type.name, s.query) for s in parsed]
        finally:
            parser.close()
        return out


def tree_bytes(root: Path, *, skip_hidden: bool = True) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not (skip_hidden and any(part.startswith(".") for part in p.relative_to(root).parts))
    }


# --- personal data ------------------------------------------------------------------------------

DIGIT_RUNS = re.compile(r"\d{17}[\dXx]|\d{11}")


def landing_identifiers(landing: Path) -> tuple[set[str], set[str]]:
    """(ID numbers and phone numbers, names) in the canonical CSV deliveries of a landing zone."""
    con = duckdb.connect()
    try:
        roster = con.execute(
            "SELECT name, id_number, phone FROM "
            f"read_csv('{landing}/staff_roster/*/*.csv', all_varchar=true, "
            "union_by_name=true)"
        ).fetchall()
        phones = con.execute(
            f"SELECT reporter_phone FROM read_csv('{landing}/case_log/*/*.csv', all_varchar=true, "
            "union_by_name=true)"
        ).fetchall()
    finally:
        con.close()
    numbers = {v.strip() for r in roster for v in r[1:] if v} | {r[0].strip() for r in phones if r[0]}
    names = {r[0].strip() for r in roster if r[0]}
    return numbers, names - place_name_parts(names)


def place_name_parts(names: set[str]) -> set[str]:
    """The generated names that are also part of a real place name (徐东 in 徐东社区居委会).

    The reference divisions and census are public and belong in the warehouse and the report: a
    scan cannot tell such a name from the place, so it is left out of the needles (the ID numbers
    and phones of the same people still are searched).
    """
    ref = ROOT / "include" / "reference"
    columns = {
        "divisions_2023": ("name",),
        "census_county_2020": ("province", "city", "county"),
        "census_city_2010_2020": ("province", "city"),
    }
    con = duckdb.connect()
    try:
        places = chr(10).join(
            r[0]
            for file, cols in columns.items()
            for col in cols
            for r in con.execute(
                f"SELECT DISTINCT \"{col}\" FROM read_parquet('{ref / file}.parquet') "
                f'WHERE "{col}" IS NOT NULL'
            ).fetchall()
        )
    finally:
        con.close()
    return {n for n in names if n in places}


@dataclass
class Leak:
    where: str
    what: str


def scan_text(text: str, where: str, numbers: set[str], names: set[str]) -> list[Leak]:
    leaks = [Leak(where, m) for m in set(DIGIT_RUNS.findall(text)) & numbers]
    for n in names:
        if n in text:
            leaks.append(Leak(where, n))
    return leaks


def scan_duckdb(path: Path, numbers: set[str], names: set[str]) -> tuple[list[Leak], int]:
    """Every text value of every column of every table (and view) of a DuckDB file; (leaks, columns)."""
    leaks: list[Leak] = []
    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1, 2, 3"
        ).fetchall()
        for schema, table, column in cols:
            values = con.execute(
                f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}" '
                f'WHERE "{column}" IS NOT NULL'
            ).fetchall()
            leaks += scan_values(
                (v[0] for v in values), f"{path.name}:{schema}.{table}.{column}", numbers, names
            )
        return leaks, len(cols)
    finally:
        con.close()


def scan_values(values: Iterable[str], where: str, numbers: set[str], names: set[str]) -> list[Leak]:
    leaks: list[Leak] = []
    for v in values:
        if v in numbers or v in names:
            leaks.append(Leak(where, v))
        elif len(v) >= 11 and any(m in numbers for m in DIGIT_RUNS.findall(v)):
            leaks.append(Leak(where, v))
        elif not v.isascii() and any(n in v for n in names):
            leaks.append(Leak(where, v))
    return leaks


def scan_tree(
    root: Path, numbers: set[str], names: set[str], *, skip: Iterable[str] = ()
) -> tuple[list[Leak], int]:
    """Every file under root: DuckDB files by value, Parquet by cell, xlsx by its XML, the rest as text."""
    import zipfile

    leaks: list[Leak] = []
    count = 0
    skip = set(skip)
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or skip & set(rel.parts):
            continue
        count += 1
        if p.suffix == ".duckdb":
            leaks += scan_duckdb(p, numbers, names)[0]
        elif p.suffix == ".wal":
            leaks += scan_text(p.read_bytes().decode("utf-8", "replace"), str(rel), numbers, names)
        elif p.suffix == ".parquet" or p.name.endswith(".parquet") or ".parquet.tmp-" in p.name:
            con = duckdb.connect()
            try:
                cols = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{p}')").fetchall()]
                for c in cols:
                    vals = con.execute(
                        f"SELECT DISTINCT CAST(\"{c}\" AS VARCHAR) FROM read_parquet('{p}') "
                        f'WHERE "{c}" IS NOT NULL'
                    ).fetchall()
                    leaks += scan_values((v[0] for v in vals), f"{rel}:{c}", numbers, names)
            finally:
                con.close()
        elif p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as zf:
                for part in zf.namelist():
                    leaks += scan_text(
                        zf.read(part).decode("utf-8", "replace"), f"{rel}!{part}", numbers, names
                    )
        else:
            leaks += scan_text(p.read_bytes().decode("utf-8", "replace"), str(rel), numbers, names)
    return leaks, count
