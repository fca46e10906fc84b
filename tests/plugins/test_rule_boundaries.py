"""Ingest rules at their exact boundaries (added for the mutants that survived, docs/testing.md).

The row rules are SQL conditions over the typed table; each is evaluated here on rows sitting exactly
on its boundary, so that `<` turned into `<=` (or the reverse) changes the verdict. The ID-number
weights are checked against their definition in ISO 7064 MOD 11-2, independently of the code's table.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from grassroots.feeds import FEEDS
from grassroots.idcard import WEIGHTS, check_digit, id_check_sql, is_valid_id_number
from grassroots.row_rules import MAX_UNIT_POPULATION, rule_checks


def _broken(feed: str, row: dict[str, object]) -> set[str]:
    """Names of the rules of `feed` that `row` (typed values; `_raw_*` = the value as text) breaks."""
    con = duckdb.connect()
    selects, values = [], []
    for col in FEEDS[feed].columns:
        value = row.get(col.name)
        selects += [f'CAST(? AS {col.type}) AS "{col.name}"', f'CAST(? AS VARCHAR) AS "_raw_{col.name}"']
        values += [value, None if value is None else str(value)]
    con.execute(
        f"CREATE TABLE typed AS SELECT {', '.join(selects)}, 1 AS source_row, 1 AS _first_row", values
    )
    con.execute("CREATE TABLE known_codes AS SELECT unit_code, true AS is_unit FROM typed")
    broken = set()
    for name, condition in rule_checks(FEEDS[feed]):
        if con.execute(f"SELECT coalesce(({condition}), false) FROM typed").fetchone()[0]:
            broken.add(name)
    return broken


ROSTER = {
    "staff_id": "S1",
    "unit_code": "110101001001",
    "post_category": "community_worker",
    "fte": 1.0,
    "hire_date": dt.date(2024, 1, 10),
    "exit_date": None,
    "snapshot_date": dt.date(2024, 1, 31),
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, set()),
        ({"fte": 1.0}, set()),  # 1 FTE is the upper bound, included
        ({"fte": 1.0000001}, {"out_of_range:fte"}),
        ({"fte": 0.0}, {"out_of_range:fte"}),  # the lower bound is excluded: (0, 1]
        ({"fte": 0.01}, set()),
        ({"exit_date": dt.date(2024, 1, 10)}, set()),  # left on the day of hire: not before it
        ({"exit_date": dt.date(2024, 1, 9)}, {"exit_before_hire"}),
    ],
)
def test_roster_rules_at_their_bounds(change: dict, expected: set[str]) -> None:
    broken = _broken("staff_roster", {**ROSTER, **change})
    assert broken & {"out_of_range:fte", "exit_before_hire"} == expected


POPULATION = {"unit_code": "110101001001", "as_of_date": dt.date(2024, 6, 30), "resident_population": 1000}


@pytest.mark.parametrize(
    ("population", "expected"),
    [
        (0, set()),
        (-1, {"negative_count:resident_population"}),
        (MAX_UNIT_POPULATION, set()),
        (MAX_UNIT_POPULATION + 1, {"implausible_value:resident_population"}),
    ],
)
def test_population_count_rules_at_their_bounds(population: int, expected: set[str]) -> None:
    broken = _broken("resident_population", {**POPULATION, "resident_population": population})
    assert {b for b in broken if b.endswith(":resident_population")} == expected


def test_case_timestamps_equal_are_in_order() -> None:
    t = dt.datetime(2024, 2, 5, 9, 0)
    case = {
        "case_id": "C1",
        "unit_code": "110101001001",
        "reported_at": t,
        "assigned_at": t,
        "first_response_at": t,
        "closed_at": t,
        "updated_at": t,
    }
    order_rules = {"closed_before_reported", "timestamps_out_of_order", "updated_before_reported"}
    assert not (_broken("case_log", case) & order_rules)
    early = t - dt.timedelta(seconds=1)
    assert "closed_before_reported" in _broken("case_log", {**case, "closed_at": early})
    assert "updated_before_reported" in _broken("case_log", {**case, "updated_at": early})
    assert "timestamps_out_of_order" in _broken("case_log", {**case, "first_response_at": early})


def test_weights_are_iso_7064_mod_11_2() -> None:
    # ISO 7064 MOD 11-2: the digit at position i counted from the right (the check character is
    # position 1) weighs 2^(i-1) mod 11; the 17 body digits are positions 18 … 2.
    assert WEIGHTS == tuple(pow(2, i - 1, 11) for i in range(18, 1, -1))


def test_birth_year_1900_is_the_first_accepted() -> None:
    born_1900 = "110105190001010" + "01"
    born_1899 = "110105189912310" + "01"
    valid, invalid = born_1900 + check_digit(born_1900), born_1899 + check_digit(born_1899)
    assert is_valid_id_number(valid) and not is_valid_id_number(invalid)
    con = duckdb.connect()
    con.execute("CREATE TABLE ids AS SELECT * FROM (VALUES (1, $1), (2, $2)) AS t (n, v)", [valid, invalid])
    assert con.execute(f"SELECT list({id_check_sql('v')} ORDER BY n) FROM ids").fetchone()[0] == [True, False]
