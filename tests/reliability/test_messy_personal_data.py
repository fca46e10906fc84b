"""Personal data in the wrong column (issue #18, item 1): found by content, never written in clear.

Hostile deliveries as real suppliers send them: a reporter's mobile number in `unit_code`,
`category` and (a shifted row) `handled_by_unit_code`; a county roster whose 工号 (`staff_id`) is
the person's resident ID number, once without and once with the mapping's declaration
`staff_id_is_id_number: true`. The real ingest runs with validation (DuckDB engine, GX results,
Data Docs), then every artifact written outside landing is scanned for the planted values in clear,
in every spelling they were delivered in: the raw and quarantine Parquet by cell, every table of
the warehouse (raw, audit: quarantine, load_log, validation_results), the GX results and Data Docs,
and the logs of the run.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb
import pytest
import reliability_helpers as rh

from grassroots.idcard import check_digit

U1, U2 = "110101001001", "110101001002"
DAY = "2024-01-31"
CASES = (
    "case_id,unit_code,channel,category,reported_at,assigned_at,first_response_at,closed_at,status,"
    "escalated_to_level,handled_by_unit_code,satisfaction,reporter_phone,description,updated_at"
)
ROSTER = (
    "staff_id,name,id_number,phone,unit_code,post_category,fte,hire_date,exit_date,education,"
    "social_work_cert,snapshot_date"
)
# Planted values, as delivered (spelling) -> canonical form (what the scan also searches for).
PHONE_IN_UNIT = "+86 138 0013 8000"
PHONE_IN_CATEGORY = "来电13700137000"
PHONE_IN_HANDLED_BY = "136-0013-6000"
PHONES = {PHONE_IN_UNIT: "13800138000", PHONE_IN_CATEGORY: "13700137000", PHONE_IN_HANDLED_BY: "13600136000"}


def _ids(prefix: str, n: int) -> list[str]:
    """n valid ID numbers (birth dates in 1985), distinct per prefix."""
    bodies = [f"{prefix}1985{m:02d}{d:02d}{s:03d}" for m in (3, 4) for d in range(1, 29) for s in (11, 12)]
    return [b + check_digit(b) for b in bodies[:n]]


UNDECLARED_IDS = _ids("110101", 40)
DECLARED_IDS = _ids("110102", 40)
DECLARED_MAPPING = """\
name: county_idno_roster
feed: staff_roster
supplier: a county whose 工号 is the staff member's 身份证号
file_pattern: "idno_roster_*.csv"
priority: 10
staff_id_is_id_number: true
"""


def _case(i: int, *, unit: str = U1, category: str = "consultation", handled_by: str = U1) -> str:
    return (
        f"C{DAY.replace('-', '')}{i:04d},{unit},walk_in,{category},{DAY} 09:00:00,,,{DAY} 11:00:00,"
        f"closed,none,{handled_by},satisfied,,,{DAY} 11:00:00"
    )


def _roster(ids: list[str], unit: str) -> list[str]:
    # staff_id = id_number (工号 = 身份证号); fte 0.5, so the person's total over units stays at 1.
    return [f"{i},某人,{i},,{unit},community_worker,0.5,2020-01-01,,bachelor,none,{DAY}" for i in ids]


def _deliver(landing: Path, feed: str, name: str, lines: list[str]) -> None:
    path = landing / feed / DAY / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _spelled_leaks(root: Path, spellings: set[str], skip: tuple[str, ...] = ()) -> list[rh.Leak]:
    """The delivered spellings `rh.scan_tree` cannot see inside ASCII text (`+86 138 0013 8000` has
    no 11-digit run): every text cell of DuckDB and Parquet files, every other file as text."""
    leaks = []
    needles = sorted(spellings)
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or set(skip) & set(rel.parts):
            continue
        if p.suffix not in (".duckdb", ".parquet"):
            text = p.read_bytes().decode("utf-8", "replace")
            leaks += [rh.Leak(str(rel), n) for n in needles if n in text]
            continue
        con = duckdb.connect(str(p) if p.suffix == ".duckdb" else ":memory:", read_only=p.suffix == ".duckdb")
        try:
            if p.suffix == ".parquet":
                con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{p}')")
            cols = con.execute(
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "WHERE table_schema NOT IN ('information_schema', 'pg_catalog')"
            ).fetchall()
            for schema, table, col in cols:
                hits = con.execute(
                    f'SELECT DISTINCT n FROM "{schema}"."{table}", unnest(?::VARCHAR[]) AS u(n) '
                    f'WHERE contains(CAST("{col}" AS VARCHAR), n)',
                    [needles],
                ).fetchall()
                leaks += [rh.Leak(f"{rel}:{schema}.{table}.{col}", h[0]) for h in hits]
        finally:
            con.close()
    return leaks


def _ingest(data: Path, mappings: list) -> list:
    """The real ingest with validation, as `ingest_pending` runs it, plus one supplier mapping."""
    from grassroots.ingest import ingest_delivery, staging_connection
    from grassroots.landing import find_deliveries

    out = []
    with rh.use_data_dir(data):
        staging = staging_connection()
        try:
            for feed in ("case_log", "staff_roster"):
                for delivery in find_deliveries(data / "landing", feed):
                    out.append(
                        ingest_delivery(
                            delivery, run_id="reliability", mappings=mappings, validate=True, staging=staging
                        )
                    )
        finally:
            staging.close()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_personal_data_in_the_wrong_column_is_never_written_in_clear(
    engine: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both validation paths: the suite in DuckDB SQL, and Great Expectations' pandas engine."""
    from grassroots.mappings import load_mapping, load_mappings

    monkeypatch.setenv("GRASSROOTS_VALIDATION_ENGINE", engine)

    data = tmp_path / "data"
    landing = data / "landing"
    good = [_case(i) for i in range(60)]
    _deliver(
        landing,
        "case_log",
        f"case_log_{DAY.replace('-', '')}.csv",
        [
            CASES,
            *good[:20],
            _case(900, unit=PHONE_IN_UNIT),
            *good[20:40],
            _case(901, category=PHONE_IN_CATEGORY),
            *good[40:],
            _case(902, handled_by=PHONE_IN_HANDLED_BY),
        ],
    )
    _deliver(
        landing, "staff_roster", "staff_roster_110101_202401.csv", [ROSTER, *_roster(UNDECLARED_IDS, U1)]
    )
    _deliver(landing, "staff_roster", "idno_roster_110101_202401.csv", [ROSTER, *_roster(DECLARED_IDS, U2)])
    (tmp_path / "county_idno_roster.yml").write_text(DECLARED_MAPPING, encoding="utf-8")
    mappings = [
        *load_mappings(rh.ROOT / "include" / "mappings"),
        load_mapping(tmp_path / "county_idno_roster.yml"),
    ]

    numbers = set(PHONES.values()) | set(UNDECLARED_IDS) | set(DECLARED_IDS)
    # Every delivered spelling is a needle too: searched as a whole cell and as a substring of text.
    spellings = set(PHONES)
    leaks, _ = rh.scan_tree(landing, numbers, spellings)
    planted = spellings | set(UNDECLARED_IDS) | set(DECLARED_IDS)
    assert {leak.what for leak in leaks} >= planted, "positive control: the scan finds them in landing"
    assert {leak.what for leak in _spelled_leaks(landing, spellings)} == spellings, "positive control"

    with caplog.at_level(logging.DEBUG):
        results = _ingest(data, mappings)
        with rh.use_data_dir(data, tmp_path / "reports"):
            from grassroots import data_docs

            data_docs.build("reliability")
    out, err = capfd.readouterr()
    by_file = {Path(r.source_file).name: r for r in results}
    assert {r.status for r in results} == {"loaded"}, [(r.source_file, r.status, r.error) for r in results]

    # The scan of every artifact written outside landing.
    found: list[rh.Leak] = []
    places = {
        "warehouse, raw and quarantine zones": (data, ("landing",)),
        "Data Docs": (tmp_path / "reports", ()),
        "Great Expectations results": (Path(os.environ["GRASSROOTS_GX_DIR"]), ()),
    }
    scanned = 0
    for where, (root, skip) in places.items():
        leaks, n = rh.scan_tree(root, numbers, spellings, skip=skip)
        assert n, f"nothing to scan in {where}"
        scanned += n
        found += leaks + _spelled_leaks(root, spellings, skip)
    found += rh.scan_text(caplog.text + out + err, "logs of this run", numbers, spellings)
    assert not found, [f"{leak.where}: {leak.what}" for leak in found[:10]]

    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        quarantined = con.execute(
            "SELECT source_row, rule FROM audit.quarantine WHERE feed = 'case_log' ORDER BY 1"
        ).fetchall()
        roster = con.execute(
            "SELECT source_file, count(*), count(*) FILTER (WHERE staff_id = id_number_hash) "
            "FROM raw.staff_roster GROUP BY 1 ORDER BY 1"
        ).fetchall()
        notes = dict(
            con.execute(
                "SELECT source_file, error FROM audit.load_log WHERE feed = 'staff_roster'"
            ).fetchall()
        )
    finally:
        con.close()

    # Each hostile case row (source_row: its line in the file) is quarantined under the rule of its column.
    assert quarantined == [
        (22, "personal_data_in:unit_code"),
        (43, "personal_data_in:category"),
        (64, "personal_data_in:handled_by_unit_code"),
    ]
    cases = by_file[f"case_log_{DAY.replace('-', '')}.csv"]
    assert (cases.rows_in, cases.rows_loaded, cases.rows_quarantined) == (63, 60, 3)

    # Staff ids that are ID numbers load hashed, equal to the person's id_number_hash (declared or not).
    assert roster == [
        (f"staff_roster/{DAY}/idno_roster_110101_202401.csv", 40, 40),
        (f"staff_roster/{DAY}/staff_roster_110101_202401.csv", 40, 40),
    ]
    undeclared = by_file["staff_roster_110101_202401.csv"]
    declared = by_file["idno_roster_110101_202401.csv"]
    assert "staff_id_is_id_number" in notes[undeclared.source_file] and undeclared.warnings >= 1
    assert notes[declared.source_file] is None and declared.mapping == "county_idno_roster"

    if engine != "duckdb":
        return  # the scenarios are recorded once, from the default engine's run
    what = (
        f"none of the planted values in clear in {scanned} files (raw and quarantine Parquet, "
        "warehouse, GX results, Data Docs) nor in the logs"
    )
    rh.record(
        "personal",
        "3-content-phone-in-codes",
        "a reporter's mobile number in unit_code (+86, spaces), category (after text) and a shifted "
        "handled_by_unit_code (dashes)",
        "each row quarantined under personal_data_in:<column>, the value replaced by its HMAC "
        f"(hmac:…) before validation and the zones; {what}",
        rows=(cases.rows_in, cases.rows_loaded, cases.rows_quarantined),
    )
    rh.record(
        "personal",
        "4-content-staff-id-undeclared",
        "a roster whose staff_id (工号) is the person's ID number, mapping without a declaration",
        "loaded with staff_id hashed, equal to id_number_hash of the same person; a warning finding in "
        f"audit.load_log.error asks for staff_id_is_id_number; {what}",
        rows=(undeclared.rows_in, undeclared.rows_loaded, undeclared.rows_quarantined),
    )
    rh.record(
        "personal",
        "5-content-staff-id-declared",
        "the same roster under a mapping declaring staff_id_is_id_number: true",
        f"every staff_id pseudonymised like id_number (same hash), no finding; {what}",
        rows=(declared.rows_in, declared.rows_loaded, declared.rows_quarantined),
    )
