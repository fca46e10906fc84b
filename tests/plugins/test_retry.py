"""A refused file loads after its mapping is fixed, through `grassroots.cli retry`, and is audited."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from test_ingest import U1, U2

from grassroots.cli import main
from grassroots.ingest import ingest_pending
from grassroots.orchestration.findings import run_findings

ROOT = Path(__file__).resolve().parents[2]
FILE = "county_x_hr_202401.csv"
MAPPING_V1 = """\
# County X's registration export: Chinese headers, dates written 2024/01/31.
name: county_x_household_registration
feed: household_registration
file_pattern: "county_x_hr_*.csv"
priority: 10
columns:
  单位代码: unit_code
  统计日期: as_of_date
  户籍人数: registered_population
  户数: registered_households
  65岁及以上: registered_age_65_plus
"""
# The fix: the header as the supplier really writes it (the file is refused without it).
MAPPING_V2 = MAPPING_V1.replace("户籍人数", "户籍人口")


@pytest.fixture()
def home(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout whose include/mappings we may edit (everything else is the real one)."""
    home = tmp_path / "home"
    (home / "include").mkdir(parents=True)
    shutil.copytree(ROOT / "include" / "mappings", home / "include" / "mappings")
    (home / "include" / "reference").symlink_to(ROOT / "include" / "reference")
    for name in ("expectations", "dbt_project"):
        (home / name).symlink_to(ROOT / name)
    monkeypatch.setenv("GRASSROOTS_HOME", str(home))
    (home / "include" / "mappings" / "county_x.yml").write_text(MAPPING_V1, encoding="utf-8")
    path = data_dir / "landing" / "household_registration" / "2024-01-31" / FILE
    path.parent.mkdir(parents=True)
    path.write_text(
        "单位代码,统计日期,户籍人口,户数,65岁及以上\n"
        f"{U1},2024/01/31,1200,420,180\n{U2},2024/01/31,900,300,150\n",
        encoding="utf-8",
    )
    return home


def _retry(capsys, *args: str) -> tuple[int, dict]:
    code = main(["retry", "--feed", "household_registration", *args])
    out = capsys.readouterr().out
    return code, json.loads(out[: out.rindex("}") + 1])


def test_refused_file_loads_after_mapping_fix_through_retry(home: Path, data_dir: Path, capsys) -> None:
    [first] = ingest_pending("household_registration")
    assert first.status in ("rejected", "blocked"), first
    # Fixing the mapping is not enough: the same bytes at the same path stay refused.
    (home / "include" / "mappings" / "county_x.yml").write_text(MAPPING_V2, encoding="utf-8")
    [again] = ingest_pending("household_registration")
    assert again.status == "already_refused"
    assert [f["source_file"] for f in run_findings("before-retry")["refused_files"]] == [first.source_file]

    code, summary = _retry(
        capsys,
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-31",
        "--by",
        "alice",
        "--reason",
        "header 户籍人口 corrected in the mapping",
    )
    assert code == 0 and summary["loaded"] == [first.source_file] and summary["still_refused"] == []

    v2_sha = hashlib.sha256(MAPPING_V2.encode()).hexdigest()
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    retries = con.execute(
        "SELECT requested_by, reason, source_file, previous_status, new_status, mapping, mapping_sha256 "
        "FROM audit.retries"
    ).fetchall()
    latest = con.execute(
        "SELECT status, mapping, mapping_sha256, rows_loaded FROM audit.load_log "
        "ORDER BY finished_at DESC LIMIT 1"
    ).fetchone()
    raw_rows = con.execute("SELECT count(*) FROM raw.household_registration").fetchone()[0]
    con.close()
    assert retries == [
        (
            "alice",
            "header 户籍人口 corrected in the mapping",
            first.source_file,
            first.status,
            "loaded",
            "county_x_household_registration",
            v2_sha,
        )
    ]
    assert latest == ("loaded", "county_x_household_registration", v2_sha, 2) and raw_rows == 2

    # Afterwards the file is loaded for every run, and nothing is refused any more.
    [after] = ingest_pending("household_registration")
    assert after.status == "already_loaded"
    findings = run_findings("after-retry")
    assert findings["refused_files"] == [] and findings["audit_inconsistencies"] == []
    code, summary = _retry(capsys, "--from", "2024-01-31", "--by", "alice")
    assert code == 0 and summary["loaded"] == []


def test_retry_without_a_fix_stays_refused_and_is_audited(home: Path, data_dir: Path, capsys) -> None:
    [first] = ingest_pending("household_registration")
    code, summary = _retry(capsys, "--from", "2024-01-31", "--by", "bob")
    assert code == 1 and summary["loaded"] == [] and len(summary["still_refused"]) == 1
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT requested_by, new_status FROM audit.retries").fetchall() == [
        ("bob", first.status)
    ]
    # Still one refusal record for the file (the retry replaced it, not doubled it).
    assert con.execute("SELECT count(*) FROM audit.load_log").fetchone()[0] == 1
    con.close()


def test_every_load_records_its_mapping_hash(home: Path, data_dir: Path) -> None:
    (home / "include" / "mappings" / "county_x.yml").write_text(MAPPING_V2, encoding="utf-8")
    [res] = ingest_pending("household_registration")
    assert res.status == "loaded"
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT mapping_sha256 FROM audit.load_log").fetchone()[0] == (
        hashlib.sha256(MAPPING_V2.encode()).hexdigest()
    )
    con.close()
