"""`grassroots.cli mapping check`: a dry run that reports what the ingest would do, writing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ingest import U1, U2
from test_mapping_language import FOREIGN_MAPPING, home  # noqa: F401 - the fixture

from grassroots.cli import main

MAPPING = FOREIGN_MAPPING.replace(
    "  Last Action: updated_at\n", "  Last Action: updated_at\n  Caller: reporter_phone\n"
)
HEADER = "Case Number,Community Code,Type,Created,Closed,Status,Satisfaction,Last Action,Caller"
ROWS = [
    (
        f"C-1,{U1},noise,01/31/2024 09:15:00 PM,02/01/2024 10:05:00 AM,Closed,Satisfied,"
        "02/01/2024 10:05:00 AM,13912345678"
    ),
    f"C-2,{U2},road,01/31/2024 12:30:00 AM,UNKNOWN,Open,UNKNOWN,01/31/2024 12:30:00 AM,13800001111",
    *(f"D-{i},{U1},noise,01/31/2024 10:{i:02d}:00 AM,,Open,,01/31/2024 10:{i:02d}:00 AM," for i in range(20)),
    # One status outside the value map (1 row in 23: under the suite's 5 % tolerance).
    f"C-3,{U2},road,01/31/2024 08:00:00 AM,,Reopened,N/A,01/31/2024 08:00:00 AM,",
]
CSV = "\n".join([HEADER, *ROWS]) + "\n"


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*")}


@pytest.fixture()
def delivered(home: Path, data_dir: Path) -> Path:  # noqa: F811 - the fixture imported above
    path = data_dir / "landing" / "case_log" / "2024-01-31" / "city311_20240131.csv"
    path.parent.mkdir(parents=True)
    path.write_text(CSV, encoding="utf-8")
    return path


def test_file_that_would_load(home: Path, data_dir: Path, delivered: Path, capsys) -> None:  # noqa: F811
    (home / "include" / "mappings" / "city311_case_log.yml").write_text(MAPPING, encoding="utf-8")
    before = _tree(data_dir)
    code = main(["mapping", "check", str(delivered)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "mapping: city311_case_log (feed case_log)" in out
    assert "Created         -> reported_at" in out and "(default)  -> channel = 'hotline_12345'" in out
    # Typed samples: 9:15 PM is 21:15; the phone is masked, never shown.
    assert "'reported_at': '2024-01-31 21:15:00'" in out and "'reporter_phone': '•••'" in out
    assert "13912345678" not in out and "13800001111" not in out
    assert "unmapped_value:status: 1" in out
    assert "verdict: would load: 22 row(s) would load, 1 would be quarantined" in out
    assert _tree(data_dir) == before  # wrote nothing: no warehouse, no zones


def test_file_that_would_be_blocked_says_why(home: Path, data_dir: Path, delivered: Path, capsys) -> None:  # noqa: F811
    no_clock = MAPPING.replace('timestamp_formats: ["%m/%d/%Y %I:%M:%S %p"]\n', "")
    (home / "include" / "mappings" / "city311_case_log.yml").write_text(no_clock, encoding="utf-8")
    before = _tree(data_dir)
    code = main(["mapping", "check", str(delivered)])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        "verdict: blocked:" in out
        and "reported_at: 23 value(s) shaped like ['99/99/9999 99:99:99 AA']" in out
    )
    assert _tree(data_dir) == before


def test_file_no_mapping_matches(home: Path, data_dir: Path, delivered: Path, capsys) -> None:  # noqa: F811
    code = main(["mapping", "check", str(delivered)])
    assert code == 1 and "no supplier mapping matches file 'city311_20240131.csv'" in capsys.readouterr().out
    code = main(["mapping", "check", str(delivered), "--mapping", "canonical_case_log", "--no-suite"])
    out = capsys.readouterr().out
    assert code == 1 and "missing_required_columns" in out and "Case Number     -> (not in the mapping" in out
