"""`python -m grassroots.cli mapping check FILE [--mapping NAME]`: a dry run before delivering.

Reads the file exactly as the ingest would (same reader, typing and row rules, and the feed's
Great Expectations suite on a private in-memory copy) and reports: the mapping that matches, the
header → canonical table, five typed sample rows with personal fields masked, how many rows each
rule would quarantine, and whether the file would be loaded or blocked. It writes nothing: no
warehouse, no raw or quarantine zone, no audit (suite results go to a temporary directory that is
removed).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grassroots.feeds import get_feed
from grassroots.mappings import Mapping, MappingError, load_mappings

MASK = "•••"


@dataclass
class CheckReport:
    file: str
    mapping: str | None = None
    feed: str | None = None
    headers: list[tuple[str, str | None]] = field(default_factory=list)  # source -> canonical (None: ignored)
    defaults: dict[str, str] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)  # canonical column -> its operation
    rows_in: int = 0
    samples: list[dict] = field(default_factory=list)
    rules: list[tuple[str, int]] = field(default_factory=list)
    verdict: str = "refused"  # would_load | blocked | rejected
    reason: str | None = None

    @property
    def would_load(self) -> bool:
        return self.verdict == "would_load"

    def format(self) -> str:
        lines = [f"file: {self.file}", f"mapping: {self.mapping or '-'} (feed {self.feed or '-'})"]
        if self.headers:
            lines.append("\nheader -> canonical column:")
            width = max(len(h) for h, _ in self.headers)
            lines += [f"  {h:<{width}}  -> {c or '(not in the mapping: ignored)'}" for h, c in self.headers]
        lines += [f"  (derived)  -> {c} = {op}" for c, op in self.derived.items()]
        lines += [f"  (default)  -> {c} = {v!r}" for c, v in self.defaults.items()]
        if self.samples:
            lines.append(f"\nfirst {len(self.samples)} typed rows (personal fields masked):")
            lines += [f"  {row}" for row in self.samples]
        if self.rows_in:
            lines.append(f"\nrows: {self.rows_in}; rows each rule would quarantine:")
            lines += [f"  {rule}: {n}" for rule, n in self.rules] or ["  (none)"]
        lines.append(
            f"\nverdict: {self.verdict.replace('_', ' ')}" + (f": {self.reason}" if self.reason else "")
        )
        return "\n".join(lines)


def _choose(path: Path, name: str | None, mappings: list[Mapping]) -> Mapping:
    if name:
        chosen = [m for m in mappings if m.name == name]
        if not chosen:
            raise MappingError(f"no mapping named {name!r} (known: {sorted(m.name for m in mappings)})")
        return chosen[0]
    matching = sorted((m for m in mappings if m.matches(path.name)), key=lambda m: (-m.priority, m.name))
    if not matching:
        raise MappingError(f"no supplier mapping matches file {path.name!r}: add one to include/mappings/")
    return matching[0]


def _delivery(path: Path, feed: str):
    from grassroots.landing import Delivery

    try:
        day = dt.date.fromisoformat(path.parent.name)
        landing = path.parent.parent.parent
    except ValueError:
        day, landing = dt.date.today(), path.parent
    return Delivery(feed, day, path.resolve(), landing.resolve())


def check_file(path: Path, mapping_name: str | None = None, *, suite: bool = True) -> CheckReport:
    """The dry run; never raises for a bad file or mapping: the report's verdict says what would happen."""
    from grassroots import row_rules
    from grassroots.ingest import MAX_QUARANTINE_SHARE, _parse_note, staging_connection
    from grassroots.pii_content import scan_checked
    from grassroots.read_delivery import FileRejected, read_delivery
    from grassroots.reference import divisions_path

    report = CheckReport(file=str(path))
    try:
        mapping = _choose(path, mapping_name, load_mappings())
    except MappingError as exc:
        report.verdict, report.reason = "rejected", str(exc)
        return report
    feed = get_feed(mapping.feed)
    report.mapping, report.feed = mapping.name, feed.name
    delivery = _delivery(path, feed.name)
    con = staging_connection()
    try:
        try:
            report.rows_in, _extra = read_delivery(con, path, mapping, delivery.source_file)
        except FileRejected as exc:
            report.verdict, report.reason = "rejected", str(exc)
            return report
        finally:
            report.headers = _headers(con, mapping)
        report.derived = {c: f"{op}({', '.join(h)})" for c, (op, h, _sep) in mapping.derive.items()}
        report.defaults = {
            c: v for c, v in mapping.defaults.items() if c not in dict(report.headers).values()
        }
        row_rules.build_typed(con, feed, mapping, str(divisions_path()))
        # Personal data in the wrong column is quarantined and hashed as the ingest would; the key
        # is a throwaway (nothing is stored), so no real key is needed for a dry run.
        scan_checked(con, feed, mapping, os.urandom(32))
        report.rules = con.execute(
            "SELECT rule, count(*) FROM (SELECT unnest(_rules) AS rule FROM checked) "
            "GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        report.samples = _samples(
            con, feed, personal={"staff_id"} if mapping.staff_id_is_id_number else set()
        )
        bad = con.execute("SELECT count(*) FROM checked WHERE len(_rules) > 0").fetchone()[0]
        blocked = None
        if suite:
            blocked = _run_suite(con, feed, delivery)
        if not blocked and report.rows_in and bad / report.rows_in > MAX_QUARANTINE_SHARE:
            blocked = f"{bad} of {report.rows_in} rows break row rules (more than {MAX_QUARANTINE_SHARE:.0%})"
        if blocked:
            report.verdict, report.reason = "blocked", blocked + _parse_note(con, feed, mapping)
        else:
            report.verdict = "would_load"
            report.reason = f"{report.rows_in - bad} row(s) would load, {bad} would be quarantined"
    finally:
        con.close()
    return report


def _headers(con, mapping: Mapping) -> list[tuple[str, str | None]]:
    try:
        cols = [c[0] for c in con.execute("DESCRIBE landing_text").fetchall() if c[0] != "source_row"]
    except Exception:  # noqa: BLE001 - the reader failed before the table existed
        return []
    used = {h: f"(used by derive.{c})" for c, (_op, hs, _sep) in mapping.derive.items() for h in hs}
    return [(c, mapping.canonical_name(c) or used.get(c)) for c in cols]


def _samples(con, feed, n: int = 5, personal: set[str] = frozenset()) -> list[dict]:
    cols = ", ".join(f'"{c.name}"' for c in feed.columns)
    masked = {c.name for c in feed.columns if c.pii is not None} | set(personal)
    cur = con.execute(f"SELECT {cols} FROM checked ORDER BY source_row LIMIT {n}")
    out = []
    for row in cur.fetchall():
        out.append(
            {
                c.name: (MASK if c.name in masked and v is not None else (str(v) if v is not None else None))
                for c, v in zip(feed.columns, row, strict=True)
            }
        )
    return out


def _run_suite(con, feed, delivery) -> str | None:
    """The feed's suite on the in-memory copy; its results and Data Docs go to a removed temp dir."""
    from grassroots.quality_gate import run_suite

    saved = os.environ.get("GRASSROOTS_GX_DIR")
    with tempfile.TemporaryDirectory(prefix="grassroots-mapping-check-") as tmp:
        os.environ["GRASSROOTS_GX_DIR"] = tmp
        try:
            _frame, blocked, _warnings = run_suite(
                con, feed, delivery, run_id="mapping-check", previous_rows=None
            )
        finally:
            if saved is None:
                os.environ.pop("GRASSROOTS_GX_DIR", None)
            else:
                os.environ["GRASSROOTS_GX_DIR"] = saved
    return blocked
