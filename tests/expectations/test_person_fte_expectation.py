"""Roster suite rule fte.person_total_at_most_one: one person's (ID number's) FTE over all units of a
snapshot is at most 1.0, active posts only; a warning, the same in both engines, ID numbers masked."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from grassroots.feeds import get_feed
from grassroots.validation import get_context, import_expectations, validate_delivery
from grassroots.validation_duckdb import validate_table

RULE = "fte.person_total_at_most_one"
P1, P2, P3, P4 = "11010119800101001X", "110101198001010011", "110101198001010038", "110101198001010054"
U1, U2, U3 = "110101001001", "110101001002", "110101001003"


def _roster() -> pd.DataFrame:
    """Hand-made: rows 2-3 P1 at 1.0 + 1.0 (above, two posts); rows 4-5 P2 at 0.5 + 0.5 (= 1.0, fine);
    rows 6-7 P3 at 0.6 + 0.6 (above); rows 8-9 P4 at 1.0 + 1.0, the second left before the snapshot
    (inactive: 1.0, fine). Expected: 4 unexpected rows (2, 3, 6, 7); 8 posts, 7 active (the domain)."""
    rows = [
        ("s1", P1, U1, 1.0, None),
        ("s1b", P1, U2, 1.0, None),
        ("s2", P2, U1, 0.5, None),
        ("s2", P2, U2, 0.5, None),
        ("s3", P3, U1, 0.6, None),
        ("s3", P3, U2, 0.6, None),
        ("s4", P4, U1, 1.0, None),
        ("s4", P4, U3, 1.0, "2024-03-15"),
    ]
    return pd.DataFrame(
        {
            "staff_id": [r[0] for r in rows],
            "name": ["甲"] * len(rows),
            "id_number": [r[1] for r in rows],
            "phone": [None] * len(rows),
            "unit_code": [r[2] for r in rows],
            "post_category": ["grid_worker"] * len(rows),
            "fte": [r[3] for r in rows],
            "hire_date": pd.to_datetime(["2020-01-01"] * len(rows)),
            "exit_date": pd.to_datetime([r[4] for r in rows]),
            "education": ["bachelor"] * len(rows),
            "social_work_cert": ["none"] * len(rows),
            "snapshot_date": pd.to_datetime(["2024-03-31"] * len(rows)),
        }
    )


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict:
    spec = get_feed("staff_roster")
    df = _roster()
    df.insert(len(df.columns), "source_row", range(2, len(df) + 2))
    con = duckdb.connect()
    con.register("frame", df)
    types = ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in spec.columns)
    con.execute(
        f"CREATE TEMP TABLE checked AS SELECT {types}, CAST(source_row AS BIGINT) AS source_row FROM frame"
    )
    con.execute("CREATE TEMP TABLE known_codes AS SELECT unnest(?) AS unit_code", [[U1, U2, U3]])
    _suites, custom = import_expectations()
    ctx = get_context(tmp_path_factory.mktemp("gx"))
    common = {"file_name": "roster.csv", "delivery_date": dt.date(2024, 4, 2), "run_id": "t", "context": ctx}
    typed = df.set_index("source_row")
    return {
        "pandas": validate_delivery(
            "staff_roster", typed, valid_unit_codes={U1, U2, U3}, store_results=False, **common
        ),
        "duckdb": validate_table(
            con,
            "staff_roster",
            reference=custom.register_reference_set("division_codes", {U1, U2, U3}),
            store_results=False,
            **common,
        ),
    }


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_person_above_one_fte_is_a_warning(reports: dict, engine: str) -> None:
    report = reports[engine]
    (outcome,) = [o for o in report.results if o.rule == RULE]
    assert outcome.severity == "warning" and not outcome.success
    assert (outcome.element_count, outcome.unexpected_count) == (7, 4)
    assert [r["source_row"] if isinstance(r, dict) else r for r in outcome.unexpected_rows] == [2, 3, 6, 7]
    # the delivery is not blocked by it, and no ID number is shown in clear
    assert RULE in {o.rule for o in report.warning_failures}
    assert RULE not in {o.rule for o in report.critical_failures}
    text = outcome.sample_text()
    assert "sha256:" in text and not any(p in text for p in (P1, P2, P3, P4)), text


def test_both_engines_agree(reports: dict) -> None:
    def key(report):
        (o,) = [o for o in report.results if o.rule == RULE]
        return (o.success, o.element_count, o.unexpected_count, o.unexpected_percent, o.sample_text())

    assert key(reports["duckdb"]) == key(reports["pandas"])
