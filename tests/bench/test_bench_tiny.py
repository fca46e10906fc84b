"""`make bench` at scale tiny, for correctness only (no timing assertions, issue #8).

The bare-DuckDB lower bound must compute the same figures as the marts from the same landing files,
and the results file must be written and well-formed. Stage by stage only (the through-Airflow mode
is exercised by the e2e test and by `make bench`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    import pipeline  # bench/pipeline.py

    work = tmp_path_factory.mktemp("bench")
    out = work / "results" / "tiny.json"
    rc = pipeline.main(
        ["--scale", "tiny", "--modes", "stages", "--workdir", str(work), "--results", str(out), "--no-render"]
    )
    assert rc == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_lower_bound_equals_marts(results: dict) -> None:
    for name in ("month_rebuild", "daily"):
        agreement = results["scenarios"][name]["agreement"]
        assert agreement["units_lower_bound"] == agreement["units_marts"] > 0, agreement
        assert agreement["counties"] == 2
        assert agreement["lower_bound_totals"]["cases_received"] > 0
        assert not any(agreement["mismatches"].values()), agreement["mismatches"]
        assert agreement["equal"]


def test_daily_adds_the_next_days_versions(results: dict) -> None:
    month = results["scenarios"]["month_rebuild"]["stages"]["stages"]
    daily = results["scenarios"]["daily"]["stages"]["stages"]
    assert set(month) >= {
        f"ingest:{f}" for f in ("staff_roster", "household_registration", "resident_population")
    }
    assert "dbt_build_full" in month and "dbt_build_incremental" in daily
    assert daily["ingest:case_log"]["files"] == 1
    assert month["ingest:case_log"]["files"] == 3
    # The validation probe ingests that same day alone, into a warehouse of its own.
    probe = results["validation"]
    assert probe["rows"] == daily["ingest:case_log"]["rows"] > 0
    assert probe["validation_rows_per_s"] > 0 and probe["split"]["validate"] > 0


def test_results_file_is_well_formed(results: dict) -> None:
    assert {
        "date",
        "scale",
        "month",
        "command",
        "machine",
        "generation",
        "dag_parse",
        "pseudonymisation",
        "validation",
    } <= set(results)
    assert results["machine"]["cores"] >= 1 and results["machine"]["versions"]["duckdb"]
    assert set(results["dag_parse"]) == {p.name for p in (ROOT / "dags").glob("*.py")}
    assert all(not v["errors"] and v["dags"] >= 1 for v in results["dag_parse"].values())
    assert results["generation"]["rows"]["case_log"] > 0
    for scenario in results["scenarios"].values():
        for stage in scenario["stages"]["stages"].values():
            assert stage["rc"] == 0 and stage["seconds"] > 0 and stage["max_rss_mb"] > 0
        assert scenario["stages"]["ratio_to_lower_bound"] > 0
    names = [t["target"] for t in results["targets"]]
    assert "month rebuild / lower bound" in names and "DAG file parse" in names
    assert all(isinstance(t["met"], bool) for t in results["targets"])


def test_dag_parse_target_is_computed_from_the_measurement(results: dict) -> None:
    """The parse-time goal lives here, in the benchmark, not in a test's timing assertion."""
    import pipeline

    slowest = max(v["parse_s"] for v in results["dag_parse"].values())
    (target,) = [t for t in results["targets"] if t["target"] == "DAG file parse"]
    assert target["met"] is (slowest <= pipeline.DAG_PARSE_GOAL_S)
    assert target["measured"].startswith(f"{slowest:.2f} s (slowest: ")


def test_dag_parse_target_rule() -> None:
    """The rule on made-up timings, either side of the goal: met only when the slowest file is within."""
    import pipeline

    for times, met in (((0.4, 1.3), False), ((0.4, 0.9), True)):
        fake = {"scenarios": {}, "dag_parse": {f"d{i}.py": {"parse_s": t} for i, t in enumerate(times)}}
        (t,) = pipeline.targets(fake)
        assert (t["target"], t["met"], t["measured"]) == (
            "DAG file parse",
            met,
            f"{max(times):.2f} s (slowest: d{times.index(max(times))}.py)",
        )
