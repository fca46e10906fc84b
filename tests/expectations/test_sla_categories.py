"""Case categories without an SLA are a counted finding, not a silent false flag (issue 16).

The dbt seed ``case_categories`` is the one list of categories with an SLA. A case in another
category gets null SLA rates in the warehouse (``no_sla_for_category``); at ingest the case-log
suite warns about it with the number of such rows, the delivery is still published, and the
warning is in ``audit.validation_results`` (and so in Data Docs and the delivery status view).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from grassroots.config import settings
from grassroots.feeds import CASE_CATEGORIES
from grassroots.ingest import ingest_pending

U1 = "110101001001"  # 多福巷社区, 东华门街道, 东城区 (real 2023 code)
CASE_HEADER = (
    "case_id,unit_code,channel,category,reported_at,assigned_at,first_response_at,closed_at,status,"
    "escalated_to_level,handled_by_unit_code,satisfaction,reporter_phone,description,updated_at"
)


def _seed_categories() -> list[str]:
    seed = settings().dbt_project_dir / "seeds" / "case_categories.csv"
    with duckdb.connect() as con:
        rows = con.execute("select category from read_csv(?, header = true)", [str(seed)]).fetchall()
    return [r[0] for r in rows]


def test_generator_taxonomy_is_the_sla_seed() -> None:
    # The generator's categories and the SLA seed must not drift apart: a generated case without an
    # SLA would turn demo rates null.
    assert sorted(CASE_CATEGORIES) == sorted(_seed_categories())


def test_category_without_sla_is_a_counted_warning_and_the_file_loads(data_dir: Path) -> None:
    categories = ["utilities"] * 8 + ["street_vending", "alien_landing"]  # two without an SLA
    lines = [CASE_HEADER] + [
        f"C{i},{U1},hotline_12345,{cat},2024-01-02 09:00:00,2024-01-02 09:10:00,2024-01-02 09:30:00,,"
        f"in_progress,none,{U1},,,,2024-01-02 09:30:00"
        for i, cat in enumerate(categories)
    ]
    path = data_dir / "landing" / "case_log" / "2024-01-02" / "case_log_20240102.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    [result] = ingest_pending("case_log", validate=True)

    assert result.rows_loaded == 10 and result.rows_quarantined == 0
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        finding = con.execute(
            """select severity, success, element_count, unexpected_count
               from audit.validation_results
               where feed = 'case_log' and "column" = 'category'
                 and expectation = 'expect_column_values_to_be_in_set'"""
        ).fetchall()
        status = con.execute("select status from audit.load_log where feed = 'case_log'").fetchall()
    finally:
        con.close()
    assert finding == [("warning", False, 10, 2)]
    assert status == [("loaded",)]
