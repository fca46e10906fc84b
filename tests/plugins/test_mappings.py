"""Supplier mappings: the shipped ones load, and a broken one fails with the file and the key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from grassroots.config import settings
from grassroots.mappings import MappingError, load_mapping, load_mappings, mapping_for

GOOD = "name: m\nfeed: staff_roster\nfile_pattern: '*.csv'\n"


def write(tmp_path: Path, text: str, name: str = "m.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_mappings_load() -> None:
    mappings = {m.name: m for m in load_mappings(settings().mappings_dir)}
    assert {
        "canonical_staff_roster",
        "canonical_household_registration",
        "canonical_resident_population",
        "canonical_case_log",
        "hotline_gbk_case_log",
        "county_xlsx_staff_roster",
    } <= set(mappings)
    xlsx = mappings["county_xlsx_staff_roster"]
    assert (xlsx.format, xlsx.header_row, xlsx.header_rows) == ("xlsx", 3, 2)
    assert xlsx.value_maps["post_category"]["辅助人员"] == "auxiliary"
    assert xlsx.value_maps["post_category"]["编外人员"] == "auxiliary"
    assert xlsx.value_maps["social_work_cert"] == {
        "助理社会工作师": "assistant",
        "社会工作师": "intermediate",
        "高级社会工作师": "senior",
        "无": "none",
        "未持证": "none",
    }


@pytest.mark.parametrize(
    ("file_name", "mapping"),
    [
        ("靖宇县_社区工作者名册_202401.xlsx", "county_xlsx_staff_roster"),
        ("staff_roster_220622_202401.csv", "canonical_staff_roster"),
        ("hotline_export_20240105.csv", "hotline_gbk_case_log"),
        ("case_log_20240105.csv", "canonical_case_log"),
    ],
)
def test_mapping_for_a_file(file_name: str, mapping: str) -> None:
    feed = "staff_roster" if "名册" in file_name or "staff" in file_name else "case_log"
    assert mapping_for(feed, file_name).name == mapping


def test_no_mapping_names_the_file() -> None:
    with pytest.raises(MappingError, match="no supplier mapping of feed staff_roster matches file 'x.pdf'"):
        mapping_for("staff_roster", "x.pdf")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD + "colums: {}\n", r"unknown key\(s\) \['colums'\]"),
        ("name: m\nfeed: staff_roster\n", "missing required key 'file_pattern'"),
        ("name: m\nfeed: staff\nfile_pattern: x\n", "unknown feed 'staff'"),
        (GOOD + "format: xls\n", "format 'xls' not one of"),
        (GOOD + "encoding: latin-1\n", "encoding 'latin-1' not one of"),
        (GOOD + "columns: {姓名: full_name}\n", r"unknown canonical column\(s\) \['full_name'\]"),
        (
            GOOD + "value_maps: {post_category: {公务员: civil_servent}}\n",
            r"value_maps.post_category: \['civil_servent'\]",
        ),
        (GOOD + "value_maps: {grade: {a: b}}\n", "value_maps.grade: must be a canonical column"),
        (GOOD + "date_formats: '%Y'\n", "'date_formats' must be a list of strptime formats"),
        (GOOD + "timestamp_formats: ['YYYY-MM-DD']\n", "'timestamp_formats' must be a list"),
        (GOOD + "header_row: 0\n", "'header_row' must be a positive integer"),
        (GOOD + "header_row: 2\nheader_rows: 2\n", "apply to format xlsx only"),
        (GOOD + "format: xlsx\nheader_row: 1\nheader_rows: 2\n", "'header_rows' cannot exceed 'header_row'"),
        (GOOD + "delimiter: ';;'\n", "'delimiter' must be a single character"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("name: [\n", "not valid YAML"),
    ],
)
def test_invalid_mapping_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text, "supplier_x.yml")
    with pytest.raises(MappingError, match=message) as err:
        load_mapping(path)
    assert str(path) in str(err.value)


def test_duplicate_mapping_names_are_refused(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yml")
    write(tmp_path, GOOD, "b.yml")
    with pytest.raises(MappingError, match=r"name\(s\) \['m'\] used by more than one file"):
        load_mappings(tmp_path)


def test_mappings_are_reread_when_changed(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert load_mappings(tmp_path)[0].priority == 0
    path.write_text(GOOD + "priority: 7\n", encoding="utf-8")
    assert load_mappings(tmp_path)[0].priority == 7
