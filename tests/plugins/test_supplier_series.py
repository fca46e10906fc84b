"""The row-count warning compares a delivery with the previous one of its own supplier series."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from grassroots.generate import generate
from grassroots.ingest import ingest_pending
from grassroots.landing import supplier_series


@pytest.mark.parametrize(
    ("source_file", "series"),
    [
        ("staff_roster/2024-03-31/staff_roster_231224_202403.csv", "staff_roster_231224_{period}.csv"),
        ("staff_roster/2024-01-31/staff_roster_350206_202401.csv", "staff_roster_350206_{period}.csv"),
        ("staff_roster/2024-03-31/231224_社区工作者名册_202403.xlsx", "231224_社区工作者名册_{period}.xlsx"),
        ("case_log/2024-02-03/case_log_20240203.csv", "case_log_{period}.csv"),
        (
            "resident_population/2024-03-31/resident_population_2024-03-31.csv",
            "resident_population_{period}.csv",
        ),
    ],
)
def test_supplier_series_masks_the_period_and_keeps_the_county(source_file: str, series: str) -> None:
    assert supplier_series(source_file) == series


def _row_count_failures(data_dir: Path) -> list[tuple[str, bool]]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            # rows.not_empty is the critical row-count check; the comparison is the warning one
            "SELECT file, success FROM audit.validation_results WHERE feed = 'staff_roster' "
            "AND expectation ILIKE '%table_row_count%' AND severity = 'warning' ORDER BY file"
        ).fetchall()
    finally:
        con.close()


def test_clean_demo_rosters_load_without_findings(data_dir: Path) -> None:
    """Three counties of very different size, three months: no roster is compared with another
    county's, so none is 'loaded with findings'; a county's own jump still warns."""
    landing = data_dir / "landing"
    summary = generate(landing, start="2024-01", months=3, seed=42)
    rosters = sorted(summary.files["staff_roster"])
    assert len(rosters) == 9
    # A fourth month for one county with its roster doubled: this one must warn.
    jump = rosters[-1]
    doubled = landing / "staff_roster" / "2024-04-30" / jump.name.replace("202403", "202404")
    doubled.parent.mkdir(parents=True)
    lines = jump.read_text(encoding="utf-8").splitlines()
    body = [line.replace("2024-03-31", "2024-04-30") for line in lines[1:]]
    twins = [line.replace(",", "X,", 1) for line in body]  # other staff_ids, same units
    doubled.write_text("\n".join([lines[0], *body, *twins]) + "\n", encoding="utf-8")

    results = ingest_pending("staff_roster", validate=True)
    by_file = {r.source_file: r for r in results}
    assert len(results) == 10
    assert all(r.status == "loaded" for r in results), [(r.source_file, r.status, r.error) for r in results]
    clean = [r for f, r in by_file.items() if "2024-04-30" not in f]
    assert [(r.source_file, r.warnings) for r in clean if r.warnings] == []

    checks = dict(_row_count_failures(data_dir))
    # every month after the first was compared (6 clean files + the doubled one) ...
    assert len(checks) == 7, checks
    # ... and only the doubled roster failed the comparison with its own county's March file
    assert [f for f, ok in checks.items() if not ok] == [doubled.relative_to(landing).as_posix()]
