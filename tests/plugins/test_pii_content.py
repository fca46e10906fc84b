"""Personal data found by content (grassroots.pii_content): detection, quarantine, hashing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from grassroots.feeds import get_feed
from grassroots.idcard import check_digit
from grassroots.ingest import ingest_pending
from grassroots.mapping_check import check_file
from grassroots.mappings import MappingError, load_mapping, parse_mapping
from grassroots.pii import hmac_py
from grassroots.pii_content import found_sql, scan_checked

KEY = b"test-key-0123456789abcdef-not-a-real-secret"
U1 = "110101001001"
ID_OK = "11010119800101123" + check_digit("11010119800101123")
ID_BAD = ID_OK[:17] + ("0" if ID_OK[17] != "0" else "1")
ID_X = next(
    p + check_digit(p) for p in (f"11010119850505{n:03d}" for n in range(1000)) if check_digit(p) == "X"
)
PHONE = "13912345678"
ROSTER = (
    "staff_id,name,id_number,phone,unit_code,post_category,fte,hire_date,exit_date,education,"
    "social_work_cert,snapshot_date"
)
CASES = (
    "case_id,unit_code,channel,category,reported_at,assigned_at,first_response_at,closed_at,status,"
    "escalated_to_level,handled_by_unit_code,satisfaction,reporter_phone,description,updated_at"
)


def found(value: str | None) -> str | None:
    con = duckdb.connect()
    try:
        return con.execute(
            f"SELECT {found_sql('v')} FROM (SELECT CAST(? AS VARCHAR) AS v)", [value]
        ).fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (PHONE, PHONE),
        ("+86 139 1234 5678", PHONE),
        ("86-139-1234-5678", PHONE),
        ("+8613912345678", PHONE),
        ("139-1234-5678", PHONE),
        ("电话13912345678", PHONE),
        ("联系 139 1234 5678 张", PHONE),
        (ID_OK, ID_OK),
        (ID_X.lower(), ID_X),  # a lower-case check character, canonical upper-case
        ("身份证" + ID_OK + "号", ID_OK),
        # not personal data
        (ID_BAD, None),  # wrong check digit
        ("12912345678", None),  # 1 then 2: no mainland mobile prefix
        ("1391234567", None),  # 10 digits
        ("139123456789", None),  # 12 digits
        (U1, None),  # a 12-digit division code
        ("C3502062024011500012", None),  # digits inside a code
        ("S" + ID_OK, None),
        ("2024-01-31 13:45:00", None),
        ("consultation", None),
        ("", None),
        (None, None),
    ],
)
def test_found_sql(value: str | None, expected: str | None) -> None:
    assert found(value) == expected


def test_id_check_and_python_reference_agree_on_found_ids() -> None:
    from grassroots.idcard import is_valid_id_number

    for value in (ID_OK, ID_X, ID_BAD):
        assert (found(value) is not None) == is_valid_id_number(value)


def _checked(con: duckdb.DuckDBPyConnection, feed: str, rows: list[dict]) -> None:
    """A minimal `checked` table: typed and _raw_ copies of every column, `_rules`, source_row."""
    spec = get_feed(feed)
    cols = []
    for c in spec.columns:
        cols += [f'CAST(NULL AS {c.type}) AS "{c.name}"', f'CAST(NULL AS VARCHAR) AS "_raw_{c.name}"']
    con.execute(
        f"CREATE TEMP TABLE checked AS SELECT {', '.join(cols)}, 0::BIGINT AS source_row, "
        "[]::VARCHAR[] AS _rules LIMIT 0"
    )
    for i, row in enumerate(rows, start=1):
        names = [*row, *(f"_raw_{k}" for k in row), "source_row", "_rules"]
        values = [*row.values(), *(None if v is None else str(v) for v in row.values()), i, []]
        con.execute(
            f"INSERT INTO checked ({', '.join(chr(34) + n + chr(34) for n in names)}) "
            f"VALUES ({', '.join('?' for _ in values)})",
            values,
        )


def _mapping(feed: str, **extra: str):
    return parse_mapping({"name": "m", "feed": feed, "file_pattern": "*.csv", **extra}, Path("m.yml"))


def test_scan_quarantines_and_hashes_phone_in_non_personal_columns() -> None:
    con = duckdb.connect()
    _checked(
        con,
        "case_log",
        [
            {"case_id": "C1", "unit_code": U1, "category": "consultation", "reporter_phone": PHONE},
            {"case_id": "C2", "unit_code": "139-1234-5678", "category": "consultation"},
            {"case_id": "C3", "unit_code": U1, "category": "来电 " + PHONE, "handled_by_unit_code": ID_OK},
        ],
    )
    con.execute("UPDATE checked SET _rules = ['unknown_unit_code:unit_code'] WHERE source_row = 2")
    scan = scan_checked(con, get_feed("case_log"), _mapping("case_log"), KEY)
    assert scan.quarantined == {"unit_code": 1, "category": 1, "handled_by_unit_code": 1}
    rows = con.execute(
        "SELECT unit_code, _raw_unit_code, category, handled_by_unit_code, reporter_phone, _rules "
        "FROM checked ORDER BY source_row"
    ).fetchall()
    marker_phone, marker_id = "hmac:" + hmac_py(KEY, PHONE), "hmac:" + hmac_py(KEY, ID_OK)
    # Row 1: the phone is in its own personal column: untouched here (hashed by contract later).
    assert rows[0] == (U1, U1, "consultation", None, PHONE, [])
    # Row 2: personal-data rule first, then the rule it already broke; both copies hashed.
    assert rows[1][:2] == (marker_phone, marker_phone)
    assert rows[1][5] == ["personal_data_in:unit_code", "unknown_unit_code:unit_code"]
    # Row 3: two columns at once; the whole cell is replaced.
    assert rows[2][2:4] == (marker_phone, marker_id)
    assert rows[2][5] == ["personal_data_in:category", "personal_data_in:handled_by_unit_code"]
    assert "quarantined: unit_code (1), category (1), handled_by_unit_code (1)" in scan.notes()[0]


def test_scan_nulls_typed_copy_of_a_number_column() -> None:
    con = duckdb.connect()
    _checked(con, "household_registration", [{"unit_code": U1, "registered_population": int(PHONE)}])
    scan = scan_checked(con, get_feed("household_registration"), _mapping("household_registration"), KEY)
    assert scan.quarantined == {"registered_population": 1}
    typed, raw, rules = con.execute(
        "SELECT registered_population, _raw_registered_population, _rules FROM checked"
    ).fetchone()
    assert (typed, raw, rules) == (
        None,
        "hmac:" + hmac_py(KEY, PHONE),
        ["personal_data_in:registered_population"],
    )


def test_staff_id_that_is_an_id_number_is_hashed_like_id_number() -> None:
    rows = [
        {"staff_id": ID_OK, "id_number": ID_OK, "unit_code": U1},
        {"staff_id": "S0001", "id_number": ID_OK, "unit_code": U1},
        {"staff_id": PHONE, "id_number": ID_OK, "unit_code": U1},
    ]
    feed = get_feed("staff_roster")
    # Undeclared: the ID-number staff id is hashed and kept (a warning), a phone is quarantined.
    con = duckdb.connect()
    _checked(con, "staff_roster", rows)
    scan = scan_checked(con, feed, _mapping("staff_roster"), KEY)
    got = con.execute("SELECT staff_id, _raw_staff_id, _rules FROM checked ORDER BY source_row").fetchall()
    h = hmac_py(KEY, ID_OK)
    assert got[0] == (h, h, [])
    assert got[1] == ("S0001", "S0001", [])
    assert got[2][2] == ["personal_data_in:staff_id"] and got[2][0] == "hmac:" + hmac_py(KEY, PHONE)
    assert scan.staff_ids_hashed == 1 and not scan.declared
    assert "declare `staff_id_is_id_number: true` in mapping m" in scan.notes()[0]
    # Declared: every staff id is hashed (as id_number is), nothing quarantined, no warning.
    con = duckdb.connect()
    _checked(con, "staff_roster", rows)
    scan = scan_checked(con, feed, _mapping("staff_roster", staff_id_is_id_number="true"), KEY)
    got = con.execute("SELECT staff_id, _rules FROM checked ORDER BY source_row").fetchall()
    assert got == [(h, []), (hmac_py(KEY, "S0001"), []), (hmac_py(KEY, PHONE), [])]
    assert scan.staff_ids_hashed == 3 and scan.declared and scan.notes() == []


def test_mapping_declaration_is_validated() -> None:
    assert _mapping("staff_roster", staff_id_is_id_number="true").staff_id_is_id_number
    assert not _mapping("staff_roster", staff_id_is_id_number="false").staff_id_is_id_number
    assert not _mapping("staff_roster").staff_id_is_id_number
    with pytest.raises(MappingError, match="must be true or false"):
        _mapping("staff_roster", staff_id_is_id_number="yes")
    with pytest.raises(MappingError, match="feed case_log has no staff_id column"):
        _mapping("case_log", staff_id_is_id_number="true")


def test_mapping_file_with_declaration_passes_the_json_schema(tmp_path: Path) -> None:
    path = tmp_path / "county_idno_roster.yml"
    path.write_text(
        "name: county_idno_roster\nfeed: staff_roster\nfile_pattern: 'idno_*.csv'\n"
        "staff_id_is_id_number: true\n",
        encoding="utf-8",
    )
    assert load_mapping(path).staff_id_is_id_number


def _deliver(data_dir: Path, feed: str, name: str, lines: list[str]) -> Path:
    path = data_dir / "landing" / feed / "2024-01-31" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ingest_quarantines_phone_in_category_and_keeps_it_out_of_raw(data_dir: Path) -> None:
    day = "2024-01-31"
    good = (
        f"{U1},walk_in,consultation,{day} 09:00:00,,,{day} 11:00:00,closed,none,{U1},satisfied,,,"
        f"{day} 11:00:00"
    )
    _deliver(
        data_dir,
        "case_log",
        "case_log_20240131.csv",
        [CASES, *(f"C{i}," + good for i in range(3)), "C9," + good.replace("consultation", PHONE)],
    )
    [res] = ingest_pending("case_log", validate=False)
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 3, 1)
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        rule, sample = con.execute("SELECT rule, sample FROM audit.quarantine").fetchone()
        assert con.execute(
            "SELECT count(*) FROM raw.case_log WHERE category = 'consultation'"
        ).fetchone() == (3,)
        note = con.execute("SELECT error FROM audit.load_log").fetchone()[0]
    finally:
        con.close()
    assert rule == "personal_data_in:category"
    assert PHONE not in sample and "hmac:" + hmac_py(KEY, PHONE) in sample
    assert "category (1)" in note


def test_mapping_check_masks_declared_staff_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "idno.yml").write_text(
        "name: idno\nfeed: staff_roster\nfile_pattern: 'idno_*.csv'\nstaff_id_is_id_number: 'true'\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(
        "grassroots.mapping_check.load_mappings", lambda: [load_mapping(mappings / "idno.yml")]
    )
    path = tmp_path / "idno_202401.csv"
    path.write_text(
        f"{ROSTER}\n{ID_OK},某人,{ID_OK},,{U1},community_worker,1,2020-01-01,,bachelor,none,2024-01-31\n",
        encoding="utf-8",
    )
    report = check_file(path, suite=False)
    assert report.verdict == "would_load", report.reason
    assert ID_OK not in report.format()
    assert report.samples[0]["staff_id"] == "•••"


def test_guards_skip_only_cells_that_cannot_hold_an_identifier() -> None:
    """A parsed timestamp and an enum value are skipped unread; an unparsed timestamp cell and a
    value outside the enumeration are searched."""
    con = duckdb.connect()
    _checked(
        con,
        "case_log",
        [
            {"case_id": "C1", "satisfaction": "satisfied", "reported_at": None},
            {"case_id": "C2", "satisfaction": PHONE},
        ],
    )
    con.execute("UPDATE checked SET _raw_reported_at = ? WHERE source_row = 1", [PHONE])
    scan = scan_checked(con, get_feed("case_log"), _mapping("case_log"), KEY)
    assert scan.quarantined == {"satisfaction": 1, "reported_at": 1}
    rules = con.execute("SELECT _rules FROM checked ORDER BY source_row").fetchall()
    assert rules == [(["personal_data_in:reported_at"],), (["personal_data_in:satisfaction"],)]
