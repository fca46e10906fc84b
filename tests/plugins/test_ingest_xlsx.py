"""Excel deliveries: a county roster with a title row, a merged two-row header, Excel dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import openpyxl
import pytest

from grassroots.idcard import check_digit
from grassroots.ingest import ingest_pending
from grassroots.pii import hmac_py

U1, U2 = "110101001001", "110101001002"
ID1 = "11010119800101123" + check_digit("11010119800101123")
ID2 = "11010119900202234" + check_digit("11010119900202234")
KEY = b"test-key-0123456789abcdef-not-a-real-secret"
NAME = "xx县_社区工作者名册_202401.xlsx"

# Row 2 and 3 of the county layout (include/mappings/county_xlsx_staff_roster.yml).
TOP = [
    "序号",
    "工号",
    "基本信息",
    None,
    None,
    None,
    "岗位信息",
    None,
    None,
    "入职日期",
    "离职日期",
    "持证情况",
    "统计时点",
    "备注",
]
SUB = [
    None,
    None,
    "姓名",
    "公民身份号码",
    "联系电话",
    "学历",
    "所在社区（村）代码",
    "岗位类别",
    "在岗比例",
    None,
    None,
    None,
    None,
    None,
]
MERGES = [
    "A1:N1",
    "A2:A3",
    "B2:B3",
    "C2:F2",
    "G2:I2",
    "J2:J3",
    "K2:K3",
    "L2:L3",
    "M2:M3",
    "N2:N3",
]


def roster_row(n: int, staff: str, id_number: str, unit: str, post: str, hire, cert: str, **kw) -> list:
    return [
        n,
        staff,
        kw.get("name", "张三"),
        id_number,
        kw.get("phone", "13912345678"),
        kw.get("education", "本科"),
        unit,
        post,
        kw.get("fte", 1),
        hire,
        kw.get("exit", None),
        cert,
        kw.get("snapshot", "2024年1月31日"),
        kw.get("remark", None),
    ]


def workbook(path: Path, rows: list[list], *, merges=MERGES, top=TOP, sub=SUB, extra_merges=()) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名册"
    ws.append(["XX县社区工作者名册（2024年1月）"])
    ws.append(top)
    if sub is not None:
        ws.append(sub)
    for r in rows:
        ws.append(r)
    for m in (*merges, *extra_merges):
        ws.merge_cells(m)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def landing_path(data_dir: Path, day: str = "2024-01-31", name: str = NAME) -> Path:
    return data_dir / "landing" / "staff_roster" / day / name


def good_rows() -> list[list]:
    return [
        roster_row(1, "S1", ID1, U1, "社区工作者", dt.date(2020, 1, 1), "社会工作师"),
        # An Excel serial date typed as a number, a date-time cell, text dates in Chinese.
        roster_row(2, "S2", ID2, U1, "网格员", 43831, "无", fte=0.5, education="大专"),
        roster_row(3, "S3", ID1, U2, "公务员", dt.datetime(2020, 3, 5, 14, 2), "助理社会工作师"),
        roster_row(
            4,
            "S4",
            ID2,
            U2,
            "事业编制",
            "2020年3月5日",
            "高级社会工作师",
            exit="2024年1月20日",
        ),
        roster_row(5, "S5", ID1, U2, "编外人员", "2021/6/1", "无", remark="借调"),
        roster_row(6, "S6", ID2, U2, "辅助人员", "2019-09-01", "无"),
    ]


def test_county_roster_workbook_loads(data_dir: Path) -> None:
    rows = good_rows()
    rows.insert(3, [None] * 14)  # a blank row inside the data is skipped, not a row
    workbook(landing_path(data_dir), rows)
    [res] = ingest_pending("staff_roster", validate=False)
    assert res.status == "loaded", res.error
    assert (res.rows_in, res.rows_loaded, res.rows_quarantined) == (6, 6, 0)
    assert res.extra_columns == ["序号", "备注"]
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    got = con.execute(
        "SELECT staff_id, post_category, social_work_cert, education, fte, hire_date, exit_date, "
        "snapshot_date, "
        "source_row, id_number_hash FROM raw.staff_roster ORDER BY staff_id"
    ).fetchall()
    note = con.execute("SELECT mapping, error FROM audit.load_log").fetchone()
    con.close()
    jan31 = dt.date(2024, 1, 31)
    assert got == [
        (
            "S1",
            "community_worker",
            "intermediate",
            "bachelor",
            1.0,
            dt.date(2020, 1, 1),
            None,
            jan31,
            4,
            hmac_py(KEY, ID1),
        ),
        (
            "S2",
            "grid_worker",
            "none",
            "college",
            0.5,
            dt.date(2020, 1, 1),
            None,
            jan31,
            5,
            hmac_py(KEY, ID2),
        ),
        (
            "S3",
            "civil_servant",
            "assistant",
            "bachelor",
            1.0,
            dt.date(2020, 3, 5),
            None,
            jan31,
            6,
            hmac_py(KEY, ID1),
        ),
        (
            "S4",
            "public_institution",
            "senior",
            "bachelor",
            1.0,
            dt.date(2020, 3, 5),
            dt.date(2024, 1, 20),
            jan31,
            8,
            hmac_py(KEY, ID2),
        ),
        (
            "S5",
            "auxiliary",
            "none",
            "bachelor",
            1.0,
            dt.date(2021, 6, 1),
            None,
            jan31,
            9,
            hmac_py(KEY, ID1),
        ),
        (
            "S6",
            "auxiliary",
            "none",
            "bachelor",
            1.0,
            dt.date(2019, 9, 1),
            None,
            jan31,
            10,
            hmac_py(KEY, ID2),
        ),
    ]
    assert note == (
        "county_xlsx_staff_roster",
        "note: extra column(s) ignored: ['序号', '备注']",
    )


def test_unit_merged_down_over_its_staff_is_filled(data_dir: Path) -> None:
    """Counties merge the unit cell over all its staff rows: every row gets the unit."""
    rows = good_rows()
    for r in rows[1:3]:
        r[6] = None  # G5:G6 are covered by the merge G4:G6
    workbook(landing_path(data_dir), rows, extra_merges=("G4:G6",))
    [res] = ingest_pending("staff_roster", validate=False)
    assert res.status == "loaded" and res.rows_quarantined == 0, res.error
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    units = con.execute("SELECT staff_id, unit_code FROM raw.staff_roster ORDER BY 1").fetchall()
    con.close()
    assert units[:3] == [("S1", U1), ("S2", U1), ("S3", U1)]


def test_bad_rows_of_a_workbook_are_quarantined_by_row_number(data_dir: Path) -> None:
    rows = good_rows()
    rows.append(roster_row(7, "S7", ID2, U2, "宇航员", "2020-01-01", "无"))
    rows.append(roster_row(8, "S8", ID2, U2, "网格员", "2020年13月1日", "无"))
    workbook(landing_path(data_dir), rows)
    [res] = ingest_pending("staff_roster", validate=False)
    assert (res.status, res.rows_in, res.rows_quarantined) == ("loaded", 8, 2)
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    rules = con.execute("SELECT source_row, rule FROM audit.quarantine ORDER BY 1").fetchall()
    con.close()
    assert rules == [
        (10, "not_in_enum:post_category"),
        (11, "unparseable_date:hire_date"),
    ]


def test_header_merged_deeper_than_the_mapping_says_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    """A three-row merged header where the mapping expects two: refused, naming the cells."""
    top = [*TOP]
    wb_rows = [
        [None] * 14,
        *[r for r in good_rows()],
    ]  # row 4 belongs to the header (merged down)
    workbook(
        landing_path(data_dir),
        wb_rows,
        top=top,
        merges=[*MERGES[:1], "A2:A4", *MERGES[2:]],
    )
    [res] = ingest_pending("staff_roster", validate=False)
    assert res.status == "rejected"
    assert "rule 'merged_header_rows'" in res.error and "A2:A4" in res.error and NAME in res.error


def test_unreadable_workbook_is_rejected(data_dir: Path) -> None:
    path = workbook(landing_path(data_dir), good_rows())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated in transfer
    [res] = ingest_pending("staff_roster", validate=False)
    assert res.status == "rejected" and "rule 'unreadable_workbook'" in res.error


@pytest.mark.parametrize(
    ("rows", "rule"),
    [([], "empty_file")],
)
def test_workbook_without_data_rows_is_empty(data_dir: Path, rows: list, rule: str) -> None:
    workbook(landing_path(data_dir), rows)
    [res] = ingest_pending("staff_roster", validate=False)
    assert res.status == "rejected" and f"rule '{rule}'" in res.error
