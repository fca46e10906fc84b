"""Every bad-input class of DESIGN §7: the exact outcome (status and rule), and nothing already loaded harmed.

Each case first loads a good January delivery of the same feed, then delivers one defective
February file. A file-level defect is refused whole: the warehouse (raw tables and quarantine) and
the raw Parquet zone stay byte-for-byte as they were. A row-level defect quarantines the row under
its rule and loads the rest: the January rows and Parquet files stay byte-for-byte as they were.
The merged-header spreadsheet case is in test_ingest_xlsx.py (with the same checks).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import reliability_helpers as rh

from grassroots.idcard import check_digit
from grassroots.ingest import ingest_pending

U1, U2, TOWN = "110101001001", "110101001002", "110101001000"
ID_OK = "11010119800101123" + check_digit("11010119800101123")
ID_BAD = ID_OK[:17] + ("0" if ID_OK[17] != "0" else "1")

HR = "unit_code,as_of_date,registered_population,registered_households,registered_age_65_plus"
ROSTER = (
    "staff_id,name,id_number,phone,unit_code,post_category,fte,hire_date,exit_date,education,"
    "social_work_cert,snapshot_date"
)
CASES = (
    "case_id,unit_code,channel,category,reported_at,assigned_at,first_response_at,closed_at,status,"
    "escalated_to_level,handled_by_unit_code,satisfaction,reporter_phone,description,updated_at"
)


def hr_rows(day: str) -> list[str]:
    return [
        f"{U1},{day},3200,1100,400",
        f"{U2},{day},2100,800,300",
        f"{TOWN},{day},900,300,100",
    ]


def roster_rows(day: str) -> list[str]:
    return [f"S{i},某人,{ID_OK},,{U1},community_worker,1,2020-01-01,,bachelor,none,{day}" for i in range(3)]


def case_rows(day: str) -> list[str]:
    return [
        f"C{day}{i},{U1},walk_in,consultation,{day} 09:00:00,,,{day} 11:00:00,closed,none,{U1},satisfied,"
        f",,{day} 11:00:00"
        for i in range(3)
    ]


EARLIER = {
    "household_registration": (
        "household_registration_202401.csv",
        [HR, *hr_rows("2024-01-31")],
    ),
    "staff_roster": (
        "staff_roster_110101_202401.csv",
        [ROSTER, *roster_rows("2024-01-31")],
    ),
    "case_log": ("case_log_20240131.csv", [CASES, *case_rows("2024-01-31")]),
}
FEB = "2024-02-29"


def text(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


# (id, feed, file content, expected status, expected rule, source row of the bad row or None)
CASES_TABLE: list[tuple[str, str, Callable[[], bytes], str, str, int | None]] = [
    # --- refused whole ------------------------------------------------------------------------
    (
        "wrong_encoding",
        "household_registration",
        lambda: text(HR, f"{U1},{FEB},3200,1100,400", "东华门社区,2024-02-29,1,1,1").replace(
            "东华门社区".encode(), "东华门社区".encode("gbk")
        ),
        "rejected",
        "encoding",
        None,
    ),
    (
        "missing_column",
        "household_registration",
        lambda: text("unit_code,as_of_date,registered_households", f"{U1},{FEB},1100"),
        "rejected",
        "missing_required_columns",
        None,
    ),
    (
        "renamed_column",
        "household_registration",
        lambda: text(HR.replace("registered_population", "户籍人口数"), *hr_rows(FEB)),
        "rejected",
        "missing_required_columns",
        None,
    ),
    (
        "empty_file",
        "household_registration",
        lambda: b"",
        "rejected",
        "empty_file",
        None,
    ),
    (
        "header_only",
        "household_registration",
        lambda: text(HR),
        "rejected",
        "empty_file",
        None,
    ),
    (
        "truncated",
        "household_registration",
        lambda: text(HR, *hr_rows(FEB))[:-12],
        "rejected",
        "malformed_csv",
        None,
    ),
    (
        "too_many_fields",
        "household_registration",
        lambda: text(HR, *hr_rows(FEB), f"{U1},{FEB},1,1,1,1"),
        "rejected",
        "malformed_csv",
        None,
    ),
    # --- loaded, extras ignored and recorded --------------------------------------------------
    (
        "extra_columns",
        "household_registration",
        lambda: text(HR + ",备注,source_system", *(r + ",x,y" for r in hr_rows(FEB))),
        "loaded",
        "",
        None,
    ),
    # --- row quarantined under its rule, the rest loaded ----------------------------------------
    (
        "malformed_date",
        "household_registration",
        lambda: text(HR, *hr_rows(FEB)[:2], f"{TOWN},2024-02-30,900,300,100"),
        "loaded",
        "unparseable_date:as_of_date",
        4,
    ),
    (
        "negative_count",
        "household_registration",
        lambda: text(HR, *hr_rows(FEB)[:2], f"{TOWN},{FEB},-900,300,100"),
        "loaded",
        "negative_count:registered_population",
        4,
    ),
    (
        "unknown_unit_code",
        "household_registration",
        lambda: text(HR, *hr_rows(FEB)[:2], f"110101999999,{FEB},900,300,100"),
        "loaded",
        "unknown_unit_code:unit_code",
        4,
    ),
    (
        "absurd_value",
        "household_registration",
        lambda: text(HR, *hr_rows(FEB)[:2], f"{TOWN},{FEB},10000000,300,100"),
        "loaded",
        "implausible_value:registered_population",
        4,
    ),
    (
        "duplicate_key",
        "household_registration",
        lambda: text(HR, *hr_rows(FEB), f"{U2},{FEB},2150,800,300"),
        "loaded",
        "duplicate_key",
        5,
    ),
    (
        "invalid_id_check_digit",
        "staff_roster",
        lambda: text(
            ROSTER,
            *roster_rows(FEB),
            f"S9,某人,{ID_BAD},,{U1},grid_worker,1,2020-01-01,,,none,{FEB}",
        ),
        "loaded",
        "invalid_id_check_digit",
        5,
    ),
    (
        "closed_before_reported",
        "case_log",
        lambda: text(
            CASES,
            *case_rows(FEB),
            f"CX,{U1},walk_in,utilities,{FEB} 09:00:00,,,{FEB} 08:00:00,closed,none,{U1},,,,{FEB} 09:30:00",
        ),
        "loaded",
        "closed_before_reported",
        5,
    ),
]


def _digest(data_dir: Path, where: str = "") -> str:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        h = hashlib.sha256()
        for schema, table in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'raw' "
            "OR (table_schema = 'audit' AND table_name = 'quarantine') ORDER BY 1, 2"
        ).fetchall():
            cols = [c[0] for c in con.execute(f"DESCRIBE {schema}.{table}").fetchall() if c[0] != "loaded_at"]
            rows = con.execute(
                f"SELECT {', '.join(cols)} FROM {schema}.{table} {where} ORDER BY ALL"
            ).fetchall()
            h.update(f"{schema}.{table}{rows}".encode())
        return h.hexdigest()
    finally:
        con.close()


def _zone_bytes(data_dir: Path, pattern: str = "*") -> dict[str, bytes]:
    return {
        str(p.relative_to(data_dir)): p.read_bytes()
        for zone in ("raw", "quarantine")
        for p in sorted((data_dir / zone).rglob(pattern))
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("case", "feed", "content", "status", "rule", "bad_row"),
    CASES_TABLE,
    ids=[c[0] for c in CASES_TABLE],
)
def test_bad_input_class(
    data_dir: Path,
    case: str,
    feed: str,
    content: Callable[[], bytes],
    status: str,
    rule: str,
    bad_row: int | None,
) -> None:
    name, lines = EARLIER[feed]
    jan = data_dir / "landing" / feed / "2024-01-31" / name
    jan.parent.mkdir(parents=True)
    jan.write_bytes(text(*lines))
    [first] = ingest_pending(feed, validate=False)
    assert first.status == "loaded" and first.rows_quarantined == 0, first.error
    everything, jan_rows, files = (
        _digest(data_dir),
        _digest(data_dir, f"WHERE load_id = '{first.load_id}'"),
        _zone_bytes(data_dir),
    )

    bad_name = f"{name.rsplit('_', 1)[0]}_{case}.csv"
    bad = data_dir / "landing" / feed / FEB / bad_name
    bad.parent.mkdir(parents=True)
    bad.write_bytes(content())
    [res] = [r for r in ingest_pending(feed, validate=False) if r.status != "already_loaded"]

    assert res.status == status, res.error
    assert res.rows_in == res.rows_loaded + res.rows_quarantined
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    audit = con.execute(
        "SELECT status, error, rows_in, rows_loaded, rows_quarantined FROM audit.load_log "
        "WHERE source_file = ?",
        [res.source_file],
    ).fetchall()
    quarantined = con.execute(
        "SELECT source_row, rule FROM audit.quarantine WHERE source_file = ? ORDER BY 1",
        [res.source_file],
    ).fetchall()
    con.close()
    assert len(audit) == 1 and audit[0][0] == status
    figures = rh.audit_rows(data_dir, res.load_id)  # the audit's counts, checked against the tables
    if status == "rejected":
        # The error names the file and the rule; nothing at all changed.
        assert f"rule '{rule}'" in res.error and bad_name in res.error and audit[0][1] == res.error
        assert _digest(data_dir) == everything
        assert _zone_bytes(data_dir) == files
        rh.record(
            "hostile",
            f"1-{case}",
            f"{case.replace('_', ' ')} ({feed})",
            f"file rejected whole, rule {rule}, error names the file; rows not counted; earlier load "
            "untouched",
            rows=figures,
        )
        return
    # Loaded: the earlier load's rows and Parquet files are untouched.
    assert _digest(data_dir, f"WHERE load_id = '{first.load_id}'") == jan_rows
    assert {k: v for k, v in _zone_bytes(data_dir).items() if "2024-01-31" in k} == files
    assert audit[0][2:] == (res.rows_in, res.rows_loaded, res.rows_quarantined)
    if bad_row is None:
        assert quarantined == [] and res.rows_quarantined == 0
    else:
        assert quarantined == [(bad_row, rule)]
    assert figures == (res.rows_in, res.rows_loaded, res.rows_quarantined)
    if case == "extra_columns":
        assert res.extra_columns == ["备注", "source_system"]
        assert audit[0][1] == "note: extra column(s) ignored: ['备注', 'source_system']"
    rh.record(
        "hostile",
        f"1-{case}",
        f"{case.replace('_', ' ')} ({feed})",
        (
            f"row {bad_row} quarantined under {rule}, the rest loaded; earlier load untouched"
            if bad_row
            else "loaded; extra columns ignored and noted in the audit"
        ),
        rows=figures,
    )


def test_renamed_column_error_names_the_header(data_dir: Path) -> None:
    """A supplier that renames a column is refused until a mapping maps the new name."""
    path = data_dir / "landing/household_registration/2024-02-29/household_registration_202402.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(text(HR.replace("registered_population", "户籍人口数"), *hr_rows(FEB)))
    [res] = ingest_pending("household_registration", validate=False)
    assert res.status == "rejected"
    assert "['registered_population'] not found" in res.error and "户籍人口数" in res.error
    # Onboarding the rename is a mapping, not code.
    mappings = data_dir / "mappings"
    mappings.mkdir()
    (mappings / "renamed.yml").write_text(
        "name: renamed_hr\nfeed: household_registration\nfile_pattern: 'household_registration_*.csv'\n"
        "priority: 5\ncolumns:\n  户籍人口数: registered_population\n",
        encoding="utf-8",
    )
    from dataclasses import replace

    from grassroots.config import settings

    fixed = path.with_name("household_registration_202402_v2.csv")
    fixed.write_bytes(path.read_bytes() + b"\n")
    [_, res2] = ingest_pending(
        "household_registration",
        validate=False,
        cfg=replace(settings(), mappings_dir=mappings),
    )
    assert res2.status == "loaded" and res2.rows_loaded == 3, res2.error
