"""docs/onboarding.md is true: its mapping and file go through `mapping check`, the ingest and a retry."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from test_mapping_language import home  # noqa: F401 - the fixture

from grassroots.cli import main
from grassroots.ingest import ingest_pending

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "onboarding.md").read_text(encoding="utf-8")


def _block(marker: str) -> str:
    match = re.search(rf"<!-- {marker}[^>]*-->\n```\w+\n(.*?)```", DOC, re.S)
    assert match, marker
    return match.group(1)


def test_the_worked_example(home: Path, data_dir: Path, capsys) -> None:  # noqa: F811
    final = _block("example-mapping")
    mapping = home / "include" / "mappings" / "district_hotline_case_log.yml"
    delivered = data_dir / "landing" / "case_log" / "2024-01-31" / "district_hotline_20240131.csv"
    delivered.parent.mkdir(parents=True)
    delivered.write_bytes(_block("example-file").encode("gb18030"))  # the supplier's GBK bytes

    def check(text: str) -> tuple[int, str]:
        mapping.write_text(text, encoding="utf-8")
        code = main(["mapping", "check", str(delivered)])
        return code, capsys.readouterr().out

    no_clock = "\n".join(ln for ln in final.splitlines() if not ln.startswith("timestamp_formats")) + "\n"
    code, out = check(no_clock)
    assert code == 1 and "shaped like ['99/99/9999 99:99:99 AA']" in out and "timestamp_formats" in out
    before_answer = "\n".join(ln for ln in final.splitlines() if "已挂起" not in ln) + "\n"
    code, out = check(before_answer)
    assert code == 1 and "unmapped_value:status: 1" in out and "verdict: blocked" in out
    code, out = check(final)
    assert code == 0 and "verdict: would load: 3 row(s) would load, 0 would be quarantined" in out, out
    assert "(derived)  -> updated_at = first_non_empty(最后操作时间, 办结时间, 受理时间)" in out
    assert "13912345678" not in out

    # Delivered before the supplier's answer: refused; skipped while unchanged; loaded by a retry.
    mapping.write_text(before_answer, encoding="utf-8")
    [refused] = ingest_pending("case_log")
    assert refused.status == "blocked"
    mapping.write_text(final, encoding="utf-8")
    assert [r.status for r in ingest_pending("case_log")] == ["already_refused"]
    assert main(["retry", "--feed", "case_log", "--from", "2024-01-31", "--by", "alice"]) == 0
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT case_id, channel, CAST(reported_at AS VARCHAR), status, satisfaction, "
        "CAST(updated_at AS VARCHAR) FROM raw.case_log ORDER BY case_id"
    ).fetchall()
    con.close()
    assert rows == [
        ("GD-0001", "hotline_12345", "2024-01-31 21:15:00", "closed", "satisfied", "2024-02-01 10:05:00"),
        ("GD-0002", "hotline_12345", "2024-01-31 00:30:00", "open", None, "2024-01-31 00:30:00"),
        ("GD-0003", "hotline_12345", "2024-01-31 08:00:00", "in_progress", None, "2024-01-31 08:40:00"),
    ]
