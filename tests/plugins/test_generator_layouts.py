"""The generator delivers feeds in the shipped supplier layouts; they load like the canonical CSV."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from grassroots.generate import generate, main, parse_layouts
from grassroots.ingest import ingest_pending
from grassroots.mappings import mapping_for

LAYOUTS = {"staff_roster": "county_xlsx", "case_log": "hotline_gbk"}
ARGS = (["220622"], "2024-01", 1)


def _generate(out: Path, layouts: dict[str, str] | None) -> None:
    generate(out, *ARGS, seed=5, scale=0.1, layouts=layouts)
    for day in sorted((out / "case_log").iterdir())[3:]:  # three days of cases are plenty here
        shutil.rmtree(day)


def test_parse_layouts() -> None:
    assert parse_layouts(["staff_roster=county_xlsx"]) == {"staff_roster": "county_xlsx"}
    assert parse_layouts(None) == {}
    with pytest.raises(ValueError, match="unknown layout 'xlsx' of staff_roster; available: canonical_csv"):
        parse_layouts({"staff_roster": "xlsx"})
    with pytest.raises(ValueError, match="layout for unknown feed 'staff'"):
        parse_layouts(["staff=county_xlsx"])


def test_cli_rejects_an_unknown_layout(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["--out", str(tmp_path), "--counties", "220622", "--layout", "case_log=excel"]) == 2
    assert "unknown layout 'excel' of case_log" in capsys.readouterr().err


def test_layout_files_match_their_mappings(tmp_path: Path) -> None:
    out = tmp_path / "landing"
    summary = generate(out, *ARGS, seed=5, scale=0.1, layouts=LAYOUTS)
    [roster] = summary.files["staff_roster"]
    assert roster.name == "220622_社区工作者名册_202401.xlsx"
    assert mapping_for("staff_roster", roster.name).name == "county_xlsx_staff_roster"
    hotline = summary.files["case_log"][0]
    assert hotline.name.startswith("hotline_export_2024010")
    assert mapping_for("case_log", hotline.name).name == "hotline_gbk_case_log"
    raw = hotline.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gb18030").startswith("工单编号,所属社区,渠道,")
    ws = openpyxl.load_workbook(roster).active
    assert ws["A1"].value == "靖宇县社区工作者名册（2024年1月）"
    assert {str(r) for r in ws.merged_cells.ranges} >= {"A1:N1", "A2:A3", "C2:F2", "G2:I2"}
    assert [c.value for c in ws[3]][2:6] == ["姓名", "公民身份号码", "联系电话", "学历"]
    # Deterministic, like the canonical files.
    again = generate(tmp_path / "again", *ARGS, seed=5, scale=0.1, layouts=LAYOUTS)
    assert (
        hashlib.sha256(roster.read_bytes()).digest()
        == hashlib.sha256(again.files["staff_roster"][0].read_bytes()).digest()
    )


def _raw(data_dir: Path, feed: str) -> list[tuple]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            f"SELECT * EXCLUDE (load_id, source_file, source_row, file_sha256, loaded_at) FROM raw.{feed} "
            "ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


def test_supplier_layouts_load_to_the_same_rows_as_canonical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRASSROOTS_PII_KEY", "test-key-0123456789abcdef-not-a-real-secret")
    loaded = {}
    for name, layouts in (("canonical", None), ("suppliers", LAYOUTS)):
        data = tmp_path / name
        _generate(data / "landing", layouts)
        monkeypatch.setenv("GRASSROOTS_DATA_DIR", str(data))
        for feed in LAYOUTS:
            results = ingest_pending(feed, validate=False)
            assert results and {r.status for r in results} == {"loaded"}, [r.error for r in results]
            assert sum(r.rows_quarantined for r in results) == 0
        loaded[name] = {feed: _raw(data, feed) for feed in LAYOUTS}
    for feed in LAYOUTS:
        assert loaded["canonical"][feed] and loaded["suppliers"][feed] == loaded["canonical"][feed], feed
