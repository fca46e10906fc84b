"""The mapping language for real suppliers: text as written, no duplicates, defaults, null labels,
value maps with an unmapped policy, 12-hour clocks — through the real ingest on real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from test_ingest import U1, U2

from grassroots.ingest import ingest_pending
from grassroots.mappings import MappingError, load_mapping

ROOT = Path(__file__).resolve().parents[2]
HEAD = "name: m\nfeed: case_log\nfile_pattern: '*.csv'\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_keys_and_values_are_the_text_the_supplier_wrote(tmp_path: Path) -> None:
    text = HEAD + (
        "columns:\n  NO: case_id\n  01: unit_code\n"
        "value_maps:\n  status:\n    NO: open\n    0123: closed\n    null: cancelled\n    yes: in_progress\n"
    )
    m = load_mapping(_write(tmp_path, text))
    assert m.columns == {"NO": "case_id", "01": "unit_code"}
    assert m.value_maps["status"] == {
        "NO": "open",
        "0123": "closed",
        "null": "cancelled",
        "yes": "in_progress",
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("columns:\n  渠道: channel\n  渠道: category\n", r"key '渠道' written twice \(lines 5 and 6\)"),
        (
            "value_maps:\n  status:\n    待处理: open\nvalue_maps:\n  channel:\n    热线: hotline_12345\n",
            r"key 'value_maps' written twice \(lines 4 and 7\)",
        ),
        (
            "columns:\n  受理渠道: channel\n  来源: channel\n",
            r"two sources for canonical column 'channel': '受理渠道' \(line 5\), '来源' \(line 6\)",
        ),
        (
            "columns:\n  渠道: channel\ndefaults:\n  channel: walk_in\n",
            r"defaults.channel \(line 7\): the column also",
        ),
        ("defaults:\n  channel: fax\n", r"defaults.channel \(line 5\): 'fax' must be one text value among"),
        ("unmapped:\n  status: drop\n", r"unmapped.status \(line 5\): 'drop' not one of"),
        ("null_values:\n  satisfaction: UNKNOWN\n", r"null_values.satisfaction \(line 5\): must be a list"),
        ("priority: high\n", r"'priority' must be a positive integer \(>= 0\), not 'high' \(line 4\)"),
    ],
)
def test_mistakes_are_refused_naming_the_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        load_mapping(_write(tmp_path, HEAD + body))


FOREIGN_MAPPING = """\
# A 311-style case export: English headers, 12-hour clock, no channel, no escalation level,
# "UNKNOWN" where a value was not recorded.
name: city311_case_log
feed: case_log
supplier: City 311 open-data export
file_pattern: "city311_*.csv"
priority: 10
columns:
  Case Number: case_id
  Community Code: unit_code
  Type: category
  Created: reported_at
  Closed: closed_at
  Status: status
  Satisfaction: satisfaction
  Last Action: updated_at
defaults:
  channel: hotline_12345        # every row of this export came through the hotline
  escalated_to_level: none      # the export has no escalation: none was recorded
null_values:
  satisfaction: [UNKNOWN, N/A]
  closed_at: [UNKNOWN]
timestamp_formats: ["%m/%d/%Y %I:%M:%S %p"]
value_maps:
  status:
    Open: open
    In Progress: in_progress
    Closed: closed
  satisfaction:
    Satisfied: satisfied
    Dissatisfied: unsatisfied
unmapped:
  status: quarantine
  satisfaction: "null"
"""
FOREIGN_CSV = f"""\
Case Number,Community Code,Type,Created,Closed,Status,Satisfaction,Last Action
C-1,{U1},noise,01/31/2024 09:15:00 PM,02/01/2024 10:05:00 AM,Closed,Satisfied,02/01/2024 10:05:00 AM
C-2,{U2},road,01/31/2024 12:30:00 AM,UNKNOWN,Open,UNKNOWN,01/31/2024 12:30:00 AM
C-3,{U1},noise,01/31/2024 11:59:00 AM,,In Progress,Meh,01/31/2024 12:01:00 PM
C-4,{U2},road,01/31/2024 08:00:00 AM,,Reopened,N/A,01/31/2024 08:00:00 AM
"""


@pytest.fixture()
def home(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / "include").mkdir(parents=True)
    shutil.copytree(ROOT / "include" / "mappings", home / "include" / "mappings")
    (home / "include" / "reference").symlink_to(ROOT / "include" / "reference")
    for name in ("expectations", "dbt_project"):
        (home / name).symlink_to(ROOT / name)
    monkeypatch.setenv("GRASSROOTS_HOME", str(home))
    return home


def test_foreign_export_is_onboarded_by_one_mapping_without_invented_values(
    home: Path, data_dir: Path
) -> None:
    (home / "include" / "mappings" / "city311_case_log.yml").write_text(FOREIGN_MAPPING, encoding="utf-8")
    path = data_dir / "landing" / "case_log" / "2024-01-31" / "city311_20240131.csv"
    path.parent.mkdir(parents=True)
    path.write_text(FOREIGN_CSV, encoding="utf-8")
    [res] = ingest_pending("case_log", validate=False)
    assert res.status == "loaded", res.error
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT case_id, channel, escalated_to_level, CAST(reported_at AS VARCHAR), "
        "CAST(closed_at AS VARCHAR), status, satisfaction FROM raw.case_log ORDER BY case_id"
    ).fetchall()
    quarantined = con.execute("SELECT source_row, rule FROM audit.quarantine").fetchall()
    con.close()
    assert rows == [
        # 09:15 PM is 21:15; the declared defaults, not guesses; a mapped label.
        ("C-1", "hotline_12345", "none", "2024-01-31 21:15:00", "2024-02-01 10:05:00", "closed", "satisfied"),
        # 12:30 AM is 00:30; UNKNOWN is no value (not a parse error, not a category).
        ("C-2", "hotline_12345", "none", "2024-01-31 00:30:00", None, "open", None),
        # A satisfaction label outside the map becomes null (policy `null`), not a quarantine.
        ("C-3", "hotline_12345", "none", "2024-01-31 11:59:00", None, "in_progress", None),
    ]
    # A status outside the map is quarantined under its own rule (policy `quarantine`).
    assert quarantined == [(5, "unmapped_value:status")]
    assert (res.rows_in, res.rows_loaded, res.rows_quarantined) == (4, 3, 1)


def test_a_value_that_does_not_parse_is_a_parse_error_naming_format_and_shape(
    home: Path, data_dir: Path
) -> None:
    """Without the 12-hour format the file is blocked, and the error says why: not 'missing'."""
    without_format = FOREIGN_MAPPING.replace('timestamp_formats: ["%m/%d/%Y %I:%M:%S %p"]\n', "")
    (home / "include" / "mappings" / "city311_case_log.yml").write_text(without_format, encoding="utf-8")
    path = data_dir / "landing" / "case_log" / "2024-01-31" / "city311_20240131.csv"
    path.parent.mkdir(parents=True)
    path.write_text(FOREIGN_CSV, encoding="utf-8")
    [res] = ingest_pending("case_log")  # with the Great Expectations suite, as in production
    assert res.status == "blocked"
    assert (
        "reported_at: 4 value(s) shaped like ['99/99/9999 99:99:99 AA'] are present but do not parse as a "
        "timestamp under the formats ['%Y-%m-%d %H:%M:%S'"
    ) in res.error
    assert "declare the supplier's in `timestamp_formats:`" in res.error and "city311_case_log" in res.error
    assert "C-1" not in res.error and U1 not in res.error  # shapes, not values


def test_supplier_timezone_is_declared_and_timestamps_stored_in_one_zone(home: Path, data_dir: Path) -> None:
    """A New York export: 9:15 PM on Jan 31 there is 10:15 AM on Feb 1 in Asia/Shanghai."""
    in_new_york = FOREIGN_MAPPING + "timezone: America/New_York\n"
    (home / "include" / "mappings" / "city311_case_log.yml").write_text(in_new_york, encoding="utf-8")
    path = data_dir / "landing" / "case_log" / "2024-01-31" / "city311_20240131.csv"
    path.parent.mkdir(parents=True)
    path.write_text(FOREIGN_CSV, encoding="utf-8")
    [res] = ingest_pending("case_log", validate=False)
    assert res.status == "loaded", res.error
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    first = con.execute(
        "SELECT CAST(reported_at AS VARCHAR), CAST(closed_at AS VARCHAR) FROM raw.case_log "
        "WHERE case_id = 'C-1'"
    ).fetchone()
    con.close()
    assert first == ("2024-02-01 10:15:00", "2024-02-01 23:05:00")


def test_unknown_timezone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"timezone 'Mars/Olympus' \(line 4\): not an IANA zone"):
        load_mapping(_write(tmp_path, HEAD + "timezone: Mars/Olympus\n"))


def test_derive_builds_a_column_from_several_sources(home: Path, data_dir: Path) -> None:
    """updated_at = first non-empty of (Last Action, Closed, Created); as_of_date from year/month/day."""
    derived = (
        FOREIGN_MAPPING.replace("  Last Action: updated_at\n", "")
        .replace(
            "defaults:\n",
            "derive:\n  updated_at:\n    first_non_empty: [Last Action, Closed, Created]\ndefaults:\n",
        )
        .replace("null_values:\n", "null_values:\n  updated_at: [UNKNOWN]\n")
    )
    (home / "include" / "mappings" / "city311_case_log.yml").write_text(derived, encoding="utf-8")
    csv = FOREIGN_CSV.replace(",01/31/2024 12:30:00 AM\n", ",\n")  # C-2: no last action, no close: created
    path = data_dir / "landing" / "case_log" / "2024-01-31" / "city311_20240131.csv"
    path.parent.mkdir(parents=True)
    path.write_text(csv, encoding="utf-8")
    (home / "include" / "mappings" / "parts_hr.yml").write_text(
        "name: parts_hr\nfeed: household_registration\nfile_pattern: 'parts_hr_*.csv'\npriority: 10\n"
        "columns:\n  单位: unit_code\n  人口: registered_population\n  户数: registered_households\n"
        "derive:\n  as_of_date:\n    date_from_parts: {year: 年, month: 月, day: 日}\n",
        encoding="utf-8",
    )
    hr = data_dir / "landing" / "household_registration" / "2024-01-31" / "parts_hr_202401.csv"
    hr.parent.mkdir(parents=True)
    hr.write_text(
        f"单位,年,月,日,人口,户数\n{U1},2024,1,31,1200,420\n{U2},2024,01,31,900,300\n", encoding="utf-8"
    )
    [cases] = ingest_pending("case_log", validate=False)
    [reg] = ingest_pending("household_registration", validate=False)
    assert (cases.status, reg.status, cases.extra_columns) == ("loaded", "loaded", []), (
        cases.error,
        reg.error,
    )
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    updated = con.execute(
        "SELECT case_id, CAST(updated_at AS VARCHAR) FROM raw.case_log ORDER BY 1"
    ).fetchall()
    as_of = con.execute(
        "SELECT DISTINCT CAST(as_of_date AS VARCHAR) FROM raw.household_registration"
    ).fetchall()
    con.close()
    assert updated == [
        ("C-1", "2024-02-01 10:05:00"),  # its last action
        ("C-2", "2024-01-31 00:30:00"),  # no last action, closed UNKNOWN: created
        ("C-3", "2024-01-31 12:01:00"),
    ]
    assert as_of == [("2024-01-31",)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "derive:\n  updated_at:\n    max: [a, b]\n",
            r"derive.updated_at \(line 5\): one operation of the closed set",
        ),
        ("derive:\n  updated_at:\n    sql: 'select 1'\n", r"one operation of the closed set"),
        (
            "columns:\n  x: updated_at\nderive:\n  updated_at:\n    coalesce: [a, b]\n",
            r"already has a source",
        ),
        ("derive:\n  updated_at:\n    coalesce: a\n", r"coalesce takes a list of two or more source headers"),
    ],
)
def test_derive_is_a_closed_set(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        load_mapping(_write(tmp_path, HEAD + body))


def test_every_shipped_mapping_and_the_examples_hold_the_json_schema(tmp_path: Path) -> None:
    import json

    from jsonschema import Draft202012Validator

    from grassroots.mappings import SCHEMA_PATH, read_yaml_text

    validator = Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    shipped = sorted((ROOT / "include" / "mappings").glob("*.yml"))
    assert shipped
    for path in shipped:
        assert not list(validator.iter_errors(read_yaml_text(path.read_text(encoding="utf-8")))), path
    assert not list(validator.iter_errors(read_yaml_text(FOREIGN_MAPPING)))
    # What only the schema states is enforced when loading too.
    with pytest.raises(
        MappingError, match=r"description \(line 4\): .* is not of type 'string' \(mapping.schema"
    ):
        load_mapping(_write(tmp_path, HEAD + "description: [a, b]\n"))
