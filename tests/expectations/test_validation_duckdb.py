"""The DuckDB engine of the feed suites gives Great Expectations' (pandas engine) outcomes."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from grassroots.feeds import get_feed
from grassroots.validation import import_expectations, validate_delivery
from grassroots.validation_duckdb import validate_table

KNOWN = {"110101001001", "110101001002", "110101001000"}


def TS(values: list) -> pd.Series:  # noqa: N802
    return pd.to_datetime(pd.Series(values, dtype="object"), format="ISO8601")


def _frames() -> dict[str, pd.DataFrame]:
    case_log = pd.DataFrame(
        {
            "case_id": ["a", "a", "b", "c", "d"],
            "unit_code": ["110101001001", "x", None, "999999999999", "110101001002"],
            "channel": ["hotline_12345", "bad", None, "walk_in", "mobile_app"],
            "category": ["consultation", "zzz", None, "utilities", "utilities"],
            "reported_at": TS(["2024-03-01", "2024-03-02", None, "2024-03-01 10:00", "2024-03-01"]),
            "assigned_at": TS(["2024-03-01", "2024-03-01", None, None, "2024-03-01 01:00"]),
            "first_response_at": TS([None, None, None, "2024-03-01 09:00", "2024-03-01 02:00"]),
            "closed_at": TS([None, "2024-03-01", None, None, "2024-03-01 03:00"]),
            "status": ["closed", "open", "closed", "bogus", "closed"],
            "escalated_to_level": ["none", "none", "x", "none", "county"],
            "handled_by_unit_code": [None, "1", None, "110101001000", None],
            "satisfaction": [None, None, None, None, "satisfied"],
            "reporter_phone": ["13800138000", "2", None, "13800138000", None],
            "description": ["d", None, None, "e", None],
            "updated_at": TS(["2024-03-01", "2024-03-01", "2024-03-01", "2024-03-01", "2024-03-02"]),
        }
    )
    staff = pd.DataFrame(
        {
            # s5 is s1's person (same ID number) at another unit: 1.0 + 0.5 FTE in one snapshot
            "staff_id": ["s1", "s2", "s2", "s4", "s5"],
            "name": ["甲", "乙", "乙", None, "甲"],
            "id_number": ["11010119800101001X", "110101198001010011", "bad", None, "11010119800101001X"],
            "phone": ["1", None, "2", "3", "1"],
            "unit_code": ["110101001001", "110101001001", "110101001001", "110101001000", "110101001002"],
            "post_category": ["grid_worker", "civil_servant", "civil_servant", "nope", "auxiliary"],
            "fte": [1.0, 0.0, 1.5, None, 0.5],
            "hire_date": TS(["2020-01-01", "2021-01-01", "2030-01-01", "2020-01-01", "2022-01-01"]),
            "exit_date": TS([None, "2020-01-01", None, None, None]),
            "education": ["bachelor", "phd", None, "college", "college"],
            "social_work_cert": ["none", "senior", "none", "none", "none"],
            "snapshot_date": TS(["2024-03-31"] * 5),
        }
    )
    registration = pd.DataFrame(
        {
            "unit_code": ["110101001001", "110101001002", "110101001000", "bad"],
            "as_of_date": TS(["2024-03-31", "2024-03-31", "2025-01-01", "2024-03-31"]),
            "registered_population": pd.array([1000, -5, 3_000_000, 250_000], dtype="Int64"),
            "registered_households": pd.array([2000, 1, None, 10], dtype="Int64"),
            "registered_age_65_plus": pd.array([10, 1, 2, None], dtype="Int64"),
        }
    )
    residents = pd.DataFrame(
        {
            "unit_code": ["110101001001", "110101001002"],
            "as_of_date": TS(["2022-01-01", "2024-03-31"]),
            "resident_population": pd.array([100, 200], dtype="Int64"),
            "resident_households": pd.array([300, 10], dtype="Int64"),
            "floating_population_in": pd.array([None, 1], dtype="Int64"),
            "residents_age_65_plus": pd.array([1, 500], dtype="Int64"),
            "vulnerable_persons": pd.array([None, None], dtype="Int64"),
        }
    )
    return {
        "case_log": case_log,
        "staff_roster": staff,
        "household_registration": registration,
        "resident_population": residents,
    }


def _outcomes(report) -> list[tuple]:
    return [
        (
            o.rule,
            o.success,
            o.element_count,
            o.unexpected_count,
            None if o.unexpected_percent is None else round(o.unexpected_percent, 9),
            o.observed_value,
            [r["source_row"] if isinstance(r, dict) else r for r in o.unexpected_rows],
        )
        for o in report.results
    ]


@pytest.mark.parametrize(
    "feed", ["case_log", "staff_roster", "household_registration", "resident_population"]
)
def test_same_outcomes_as_gx_pandas(feed: str, tmp_path) -> None:
    df = _frames()[feed]
    df.insert(len(df.columns), "source_row", range(2, len(df) + 2))
    spec = get_feed(feed)
    con = duckdb.connect()
    types = ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in spec.columns)
    con.register("frame", df)
    con.execute(
        f"CREATE TEMP TABLE checked AS SELECT {types}, CAST(source_row AS BIGINT) AS source_row FROM frame"
    )
    con.execute("CREATE TEMP TABLE known_codes AS SELECT unnest(?) AS unit_code", [sorted(KNOWN)])
    _suites, custom = import_expectations()
    common = {
        "file_name": f"{feed}.csv",
        "delivery_date": dt.date(2024, 3, 31),
        "run_id": "t",
        "previous_row_count": 10,
    }
    from grassroots.validation import get_context

    ctx = get_context(tmp_path / "gx")
    # the frame the pandas engine gets in the ingest (quality_gate): from the typed table
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    typed = (
        con.execute(f"SELECT {cols}, source_row FROM checked ORDER BY source_row")
        .df()
        .set_index("source_row")
    )
    pandas_report = validate_delivery(
        feed, typed, valid_unit_codes=KNOWN, context=ctx, store_results=False, **common
    )
    duck_report = validate_table(
        con, feed, reference=custom.register_reference_set("division_codes", KNOWN), context=ctx, **common
    )
    assert _outcomes(duck_report) == _outcomes(pandas_report)
    assert [o.sample_text() for o in duck_report.results] == [o.sample_text() for o in pandas_report.results]


@pytest.mark.parametrize(
    "feed", ["case_log", "staff_roster", "household_registration", "resident_population"]
)
def test_same_outcomes_on_the_ingests_checked_table(feed: str, tmp_path) -> None:
    """Through the real reading and row rules (`checked` with `_rules`, which the engine reuses for
    enum, division-code and duplicate-key rules), with duplicated rows added."""
    from grassroots import row_rules
    from grassroots.config import settings
    from grassroots.mappings import load_mappings, mapping_for
    from grassroots.read_delivery import read_delivery
    from grassroots.reference import divisions_path
    from grassroots.validation import get_context

    df = _frames()[feed]
    df = pd.concat([df, df.iloc[:1]], ignore_index=True)  # an exact duplicate row
    path = tmp_path / f"{feed}_test.csv"
    df.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    spec = get_feed(feed)
    mapping = mapping_for(feed, path.name, load_mappings(settings().mappings_dir))
    con = duckdb.connect()
    read_delivery(con, path, mapping, path.name)
    row_rules.build_typed(con, spec, mapping, str(divisions_path()))
    known = frozenset(r[0] for r in con.execute("SELECT unit_code FROM known_codes").fetchall())
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    typed = (
        con.execute(f"SELECT {cols}, source_row FROM checked ORDER BY source_row")
        .df()
        .set_index("source_row")
    )
    _suites, custom = import_expectations()
    common = {
        "file_name": path.name,
        "delivery_date": dt.date(2024, 3, 31),
        "run_id": "t",
        "previous_row_count": None,
        "context": get_context(tmp_path / "gx"),
    }
    pandas_report = validate_delivery(feed, typed, valid_unit_codes=known, store_results=False, **common)
    duck_report = validate_table(
        con, feed, reference=custom.register_reference_set("division_codes", known), **common
    )
    assert _outcomes(duck_report) == _outcomes(pandas_report)
    assert [o.sample_text() for o in duck_report.results] == [o.sample_text() for o in pandas_report.results]
