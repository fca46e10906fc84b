"""Landing → raw → warehouse: quarantine, file rejection, audit invariant, idempotency, PII."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest

from grassroots.config import settings
from grassroots.idcard import check_digit
from grassroots.ingest import ingest_delivery, ingest_pending
from grassroots.landing import find_deliveries
from grassroots.pii import hmac_py

# Real 2023 units: two communities of 东华门街道, 东城区, 北京.
U1, U2, TOWN = "110101001001", "110101001002", "110101001000"
ID_OK = "11010119800101123" + check_digit("11010119800101123")
ID_OK2 = "11010119900202234" + check_digit("11010119900202234")
ID_BAD = ID_OK[:17] + ("0" if ID_OK[17] != "0" else "1")
PHONE = "13912345678"

HR_HEADER = "unit_code,as_of_date,registered_population,registered_households,registered_age_65_plus"
ROSTER_HEADER = (
    "staff_id,name,id_number,phone,unit_code,post_category,fte,hire_date,exit_date,education,"
    "social_work_cert,snapshot_date"
)
CASE_HEADER = (
    "case_id,unit_code,channel,category,reported_at,assigned_at,first_response_at,closed_at,status,"
    "escalated_to_level,handled_by_unit_code,satisfaction,reporter_phone,description,updated_at"
)


def deliver(
    data_dir: Path, feed: str, day: str, name: str, lines: list[str], encoding: str = "utf-8"
) -> Path:
    path = data_dir / "landing" / feed / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def run(feed: str) -> list:
    return ingest_pending(feed, validate=False)


def warehouse_digest(data_dir: Path) -> str:
    """Content hash of every raw and audit.quarantine row: proves 'nothing already loaded is harmed'."""
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        h = hashlib.sha256()
        for schema, table in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = 'raw' OR (table_schema = 'audit' AND table_name = 'quarantine') "
            "ORDER BY 1, 2"
        ).fetchall():
            cols = [c[0] for c in con.execute(f"DESCRIBE {schema}.{table}").fetchall() if c[0] != "loaded_at"]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {schema}.{table} ORDER BY ALL").fetchall()
            h.update(f"{schema}.{table}{rows}".encode())
        return h.hexdigest()
    finally:
        con.close()


def raw_zone_bytes(data_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(data_dir)): p.read_bytes() for p in sorted((data_dir / "raw").rglob("*.parquet"))
    }


def test_good_file_loads_and_rerun_changes_nothing(data_dir: Path) -> None:
    deliver(
        data_dir,
        "household_registration",
        "2024-01-31",
        "household_registration_202401.csv",
        [
            HR_HEADER,
            f"{U1},2024-01-31,3200,1100,400",
            f"{U2},2024/1/31,2100,800,",
        ],
    )
    [res] = run("household_registration")
    assert (res.status, res.rows_in, res.rows_loaded, res.rows_quarantined) == ("loaded", 2, 2, 0)
    raw = (
        data_dir
        / "raw/household_registration/delivery_date=2024-01-31"
        / "household_registration_202401.csv.parquet"
    )
    assert raw.exists()
    before, raw_before = warehouse_digest(data_dir), raw_zone_bytes(data_dir)

    [again] = run("household_registration")
    assert again.status == "already_loaded"
    assert warehouse_digest(data_dir) == before
    assert raw_zone_bytes(data_dir) == raw_before
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT unit_code, as_of_date, registered_population, registered_age_65_plus "
        "FROM raw.household_registration ORDER BY 1"
    ).fetchall()
    log = con.execute("SELECT status, rows_in, rows_loaded, rows_quarantined FROM audit.load_log").fetchall()
    con.close()
    assert rows == [(U1, dt.date(2024, 1, 31), 3200, 400), (U2, dt.date(2024, 1, 31), 2100, None)]
    assert log == [("loaded", 2, 2, 0)]


def test_bad_rows_are_quarantined_with_their_rule(data_dir: Path) -> None:
    deliver(
        data_dir,
        "staff_roster",
        "2024-01-31",
        "staff_roster_110101_202401.csv",
        [
            ROSTER_HEADER,
            f"S1,张三,{ID_OK},{PHONE},{U1},community_worker,1,2020-01-01,,bachelor,assistant,2024-01-31",
            f"S2,李四,{ID_BAD},13800000000,{U1},community_worker,1,2020-01-01,,bachelor,none,2024-01-31",
            f"S3,王五,{ID_OK2},,999999999999,grid_worker,1,2020-01-01,,college,none,2024-01-31",
            f"S4,赵六,{ID_OK2},,{U2},grid_worker,1.5,2020-01-01,,college,none,2024-01-31",
            f"S5,钱七,{ID_OK2},,{U2},astronaut,1,2020-01-01,,college,none,2024-01-31",
            f"S6,孙八,{ID_OK2},,{U2},auxiliary,0.5,not-a-date,,college,none,2024-01-31",
            f"S1,张三,{ID_OK},{PHONE},{U1},community_worker,1,2020-01-01,,bachelor,assistant,2024-01-31",
            *(
                f"T{i},某人,{ID_OK2},,{TOWN},civil_servant,1,2015-01-01,,bachelor,none,2024-01-31"
                for i in range(8)
            ),
            # a known code, but a county's (东城区): no unit to count the post in
            f"S9,周九,{ID_OK2},,110101000000,civil_servant,1,2015-01-01,,bachelor,none,2024-01-31",
        ],
    )
    [res] = run("staff_roster")
    assert res.status == "loaded"
    assert (res.rows_in, res.rows_loaded, res.rows_quarantined) == (16, 9, 7)
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    rules = dict(con.execute("SELECT source_row, rule FROM audit.quarantine ORDER BY 1").fetchall())
    samples = " ".join(r[0] for r in con.execute("SELECT sample FROM audit.quarantine").fetchall())
    con.close()
    assert rules == {
        3: "invalid_id_check_digit",
        4: "unknown_unit_code:unit_code",
        5: "out_of_range:fte",
        6: "not_in_enum:post_category",
        7: "unparseable_date:hire_date",
        8: "duplicate_key",
        17: "not_a_unit:unit_code",
    }
    # The quarantine keeps evidence without personal data in clear.
    assert ID_BAD not in samples and "李四" not in samples and "13800000000" not in samples
    assert hmac_py(b"test-key-0123456789abcdef-not-a-real-secret", ID_BAD) in samples


def test_case_rules(data_dir: Path) -> None:
    deliver(
        data_dir,
        "case_log",
        "2024-01-02",
        "case_log_20240102.csv",
        [
            CASE_HEADER,
            (
                f"C1,{U1},hotline_12345,utilities,2024-01-02 09:00:00,2024-01-02 09:30:00,"
                f"2024-01-02 10:00:00,2024-01-02 16:00:00,closed,none,{U1},satisfied,{PHONE},楼道灯坏了,"
                "2024-01-02 16:00:00"
            ),
            (
                f"C2,{U1},walk_in,utilities,2024-01-02 09:00:00,,,2024-01-01 08:00:00,closed,none,"
                f"{U1},satisfied,{PHONE},x,2024-01-02 16:00:00"
            ),
            (
                f"C3,{U2},mobile_app,utilities,2024-01-02 09:00:00,2024-01-02 08:00:00,,,in_progress,none,,,"
                f",,2024-01-02 16:00:00"
            ),
            *(
                f"C1{i},{U2},walk_in,consultation,2024-01-02 09:00:00,,,,open,none,,,,,2024-01-02 09:00:00"
                for i in range(3)
            ),
        ],
    )
    [res] = run("case_log")
    assert (res.rows_loaded, res.rows_quarantined) == (4, 2)
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    rules = con.execute("SELECT source_row, rule FROM audit.quarantine ORDER BY 1").fetchall()
    loaded = con.execute(
        "SELECT reporter_phone_hash, description_length FROM raw.case_log WHERE case_id = 'C1'"
    ).fetchall()
    con.close()
    assert rules == [(3, "closed_before_reported"), (4, "timestamps_out_of_order")]
    assert loaded == [(hmac_py(b"test-key-0123456789abcdef-not-a-real-secret", PHONE), 5)]


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("empty", b"", "empty_file"),
        ("header_only", (HR_HEADER + "\n").encode(), "empty_file"),
        ("missing_column", b"unit_code,as_of_date\n110101001001,2024-02-29\n", "missing_required_columns"),
        (
            "wrong_encoding",
            (HR_HEADER + "\n东华门,2024-02-29,3200,1100,400\n").encode("gbk"),
            "encoding",
        ),
        (
            "truncated",
            (HR_HEADER + f"\n{U1},2024-02-29,3200,1100,400\n{U2},2024-02-29,21").encode(),
            "malformed_csv",
        ),
    ],
)
def test_broken_files_are_rejected_whole_and_harm_nothing(
    data_dir: Path, name: str, content: bytes, rule: str
) -> None:
    deliver(
        data_dir,
        "household_registration",
        "2024-01-31",
        "household_registration_202401.csv",
        [
            HR_HEADER,
            f"{U1},2024-01-31,3200,1100,400",
        ],
    )
    run("household_registration")
    before, raw_before = warehouse_digest(data_dir), raw_zone_bytes(data_dir)
    path = data_dir / "landing/household_registration/2024-02-29" / f"household_registration_{name}.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    [res] = [r for r in run("household_registration") if r.status != "already_loaded"]
    assert res.status == "rejected"
    assert f"rule '{rule}'" in res.error and "household_registration_" in res.error
    assert warehouse_digest(data_dir) == before
    assert raw_zone_bytes(data_dir) == raw_before
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    status = con.execute(
        "SELECT status FROM audit.load_log WHERE source_file LIKE '%' || ? || '%'", [name]
    ).fetchall()
    con.close()
    assert status == [("rejected",)]


def test_duplicate_delivery_is_recognised(data_dir: Path) -> None:
    lines = [HR_HEADER, f"{U1},2024-01-31,3200,1100,400"]
    deliver(data_dir, "household_registration", "2024-01-31", "household_registration_202401.csv", lines)
    deliver(
        data_dir, "household_registration", "2024-02-01", "household_registration_202401_again.csv", lines
    )
    first, second = run("household_registration")
    assert first.status == "loaded" and second.status == "duplicate"
    assert "household_registration/2024-01-31/household_registration_202401.csv" in second.error
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.household_registration").fetchone()[0] == 1
    con.close()


def test_restatement_supersedes_earlier_snapshot(data_dir: Path) -> None:
    deliver(
        data_dir,
        "household_registration",
        "2024-01-31",
        "household_registration_202401.csv",
        [
            HR_HEADER,
            f"{U1},2024-01-31,3200,1100,400",
        ],
    )
    deliver(
        data_dir,
        "household_registration",
        "2024-02-10",
        "household_registration_202401_restated.csv",
        [
            HR_HEADER,
            f"{U1},2024-01-31,3300,1100,400",
        ],
    )
    first, second = run("household_registration")
    assert second.status == "loaded" and second.supersedes == [first.load_id]
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    log = con.execute(
        "SELECT supersedes_load_ids FROM audit.load_log WHERE load_id = ?", [second.load_id]
    ).fetchone()
    con.close()
    assert log == (first.load_id,)


def test_gbk_and_bom_files_load_like_utf8(data_dir: Path, tmp_path: Path) -> None:
    lines = [
        (
            "工单编号,所属社区,渠道,类别,受理时间,派单时间,首次响应时间,办结时间,状态,上报层级,"
            "承办单位,满意度评价,来电号码,诉求内容,更新时间"
        ),
        (
            f"C9,{U1},12345热线,utilities,2024/1/2 9:00,2024/1/2 9:30,2024/1/2 10:00,2024/1/2 16:00,"
            f"已办结,无,{U1},基本满意,{PHONE},路灯不亮,2024/1/2 16:00"
        ),
    ]
    mapping = Path(settings().mappings_dir) / "hotline_gbk_case_log.yml"
    assert mapping.exists(), "the GBK hotline mapping ships with the product"
    deliver(data_dir, "case_log", "2024-01-02", "hotline_export_20240102.csv", lines, encoding="gbk")
    deliver(
        data_dir,
        "case_log",
        "2024-01-03",
        "case_log_20240103.csv",
        [
            CASE_HEADER,
            (
                f"C9,{U1},hotline_12345,utilities,2024-01-02 09:00:00,2024-01-02 09:30:00,"
                f"2024-01-02 10:00:00,2024-01-02 16:00:00,closed,none,{U1},basically_satisfied,{PHONE},"
                "路灯不亮,2024-01-02 16:00:00"
            ),
        ],
        encoding="utf-8-sig",
    )
    res = run("case_log")
    assert [r.status for r in res] == ["loaded", "loaded"], [r.error for r in res]
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT * EXCLUDE (delivery_date, load_id, source_file, source_row, file_sha256, loaded_at) "
        "FROM raw.case_log"
    ).fetchall()
    con.close()
    assert len(rows) == 2 and rows[0] == rows[1]


def test_landing_ignores_escaping_and_odd_files(data_dir: Path) -> None:
    landing = data_dir / "landing"
    (landing / "case_log" / "not-a-date").mkdir(parents=True)
    (landing / "case_log" / "2024-01-02").mkdir(parents=True)
    outside = data_dir / "outside.csv"
    outside.write_text("x")
    (landing / "case_log" / "2024-01-02" / "case_log_evil.csv").symlink_to(outside)
    (landing / "case_log" / "2024-01-02" / "notes.docx").write_text("x")
    assert find_deliveries(landing, "case_log") == []


def test_refuses_to_run_without_a_key(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grassroots.pii import MissingPiiKey

    monkeypatch.delenv("GRASSROOTS_PII_KEY")
    deliver(
        data_dir,
        "household_registration",
        "2024-01-31",
        "household_registration_202401.csv",
        [
            HR_HEADER,
            f"{U1},2024-01-31,3200,1100,400",
        ],
    )
    with pytest.raises(MissingPiiKey, match="GRASSROOTS_PII_KEY"):
        ingest_delivery(find_deliveries(data_dir / "landing", "household_registration")[0], validate=False)


def test_case_versions_are_all_kept_in_raw(data_dir: Path) -> None:
    """A case delivered again when it changes: every version stays in raw (dbt keeps the latest)."""
    base = f"{U1},walk_in,utilities,2024-01-02 09:00:00"
    deliver(
        data_dir,
        "case_log",
        "2024-01-02",
        "case_log_20240102.csv",
        [
            CASE_HEADER,
            f"C1,{base},,,,open,none,,,,,2024-01-02 09:00:00",
            *(f"C1{i},{base},,,,open,none,,,,,2024-01-02 09:00:00" for i in range(2)),
        ],
    )
    deliver(
        data_dir,
        "case_log",
        "2024-01-03",
        "case_log_20240103.csv",
        [
            CASE_HEADER,
            f"C1,{base},,,2024-01-03 10:00:00,closed,none,{U1},satisfied,,,2024-01-03 10:00:00",
            *(f"C2{i},{base},,,,open,none,,,,,2024-01-03 09:00:00" for i in range(2)),
        ],
    )
    assert [r.status for r in run("case_log")] == ["loaded", "loaded"]
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    versions = con.execute(
        "SELECT status, updated_at FROM raw.case_log WHERE case_id = 'C1' ORDER BY updated_at"
    ).fetchall()
    con.close()
    assert versions == [("open", dt.datetime(2024, 1, 2, 9)), ("closed", dt.datetime(2024, 1, 3, 10))]
