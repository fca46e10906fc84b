"""The reliability battery (issue #9): faults, deliveries, hostile input, personal data, secrets.

The slow scenarios share one generated region (`region`) and its uninterrupted reference run
(`reference`: every delivery ingested in order, reference tables, `dbt build`, the report), against
which the mart hashes of the interrupted and scrambled runs are compared.

Every scenario notes its figures with `reliability_helpers.record`; the last test of the session
(test_zz_reliability_doc.py) writes them to docs/reliability.md when the whole battery ran.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reliability_helpers as rh  # noqa: E402

DOC_TEST = "test_zz_reliability_doc.py"
OUTCOMES: dict[str, str] = {}  # nodeid -> passed / failed / skipped, for the doc test
DESELECTED: list[str] = []


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """The doc test runs last, after every scenario it reports."""
    last = [i for i in items if i.nodeid.endswith(f"{DOC_TEST}::test_docs_reliability_md_is_current")]
    for item in last:
        items.remove(item)
        items.append(item)


def pytest_deselected(items: list) -> None:
    DESELECTED.extend(i.nodeid for i in items if "tests/reliability/" in i.nodeid)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/reliability/" not in report.nodeid:
        return
    if report.when == "call" or report.outcome != "passed":
        if OUTCOMES.get(report.nodeid) != "failed":
            OUTCOMES[report.nodeid] = report.outcome


@dataclass
class Reference:
    """The uninterrupted run of the region: where it is and what it produced."""

    root: Path
    data: Path
    landing: Path
    marts: dict[str, tuple[str, int]]
    state: str  # warehouse_state(): raw and audit tables, Parquet zones
    totals: tuple[int, int, int]  # rows in / loaded / quarantined of the loaded files
    files: int
    dbt_work: Path
    reports: Path

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse.duckdb"


@pytest.fixture(scope="session")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated landing zone shared by the slow scenarios (never written to: copy it)."""
    from grassroots.generate import generate

    landing = tmp_path_factory.mktemp("region") / "landing"
    summary = generate(landing, **rh.REGION)
    GENERATED["villages"] = summary.villages
    GENERATED["files"] = sum(len(paths) for paths in summary.files.values())
    return landing


GENERATED: dict[str, int] = {}  # what the generator says it wrote, checked against the data


def region_figures(landing: Path, warehouse: Path) -> dict[str, object]:
    """The header's description of the region, measured: the county and city names from the division
    codes, the villages and communities in the deliveries, the delivery files loaded."""
    county = rh.REGION["counties"][0]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        [(county_name, city_name)] = con.execute(
            "SELECT c.name, p.name FROM read_parquet(?) AS c JOIN read_parquet(?) AS p "
            "ON p.unit_code = c.city_code WHERE c.unit_code = ? AND c.level = 'county'",
            [str(rh.DIVISIONS), str(rh.DIVISIONS), county.ljust(12, "0")],
        ).fetchall()
        [(villages, villages_known)] = con.execute(
            "SELECT count(DISTINCT r.unit_code), count(DISTINCT d.unit_code) "
            "FROM raw.resident_population AS r LEFT JOIN read_parquet(?) AS d "
            "ON d.unit_code = r.unit_code AND d.level = 'village'",
            [str(rh.DIVISIONS)],
        ).fetchall()
        [(files,)] = con.execute("SELECT count(*) FROM audit.load_log WHERE status = 'loaded'").fetchall()
    finally:
        con.close()
    delivered = sum(1 for p in landing.rglob("*") if p.is_file())
    assert villages == villages_known == GENERATED["villages"], (villages, villages_known, GENERATED)
    assert files == delivered == GENERATED["files"], (files, delivered, GENERATED)
    return {"county": county, "county_name": county_name, "city_name": city_name} | {
        "villages": villages,
        "files": files,
    }


def fresh_data_dir(root: Path, landing: Path) -> Path:
    """An empty data directory whose landing zone is a copy of `landing`."""
    data = root / "data"
    shutil.copytree(landing, data / "landing")
    return data


@pytest.fixture(scope="session")
def reference(region: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    root = tmp_path_factory.mktemp("reference")
    data = fresh_data_dir(root, region)
    results = rh.ingest_all(data)
    assert results and {r.status for r in results} == {"loaded"}, {r.status for r in results}
    rh.load_reference(data)
    # The full build, data tests included: the run every other one is compared with.
    rh.run_dbt(data / "warehouse.duckdb", root / "dbt", "build")
    with rh.use_data_dir(data, root / "reports"):
        from grassroots.report import build_report

        build_report()
    rh.REGION_FIGURES.update(region_figures(region, data / "warehouse.duckdb"))
    return Reference(
        root=root,
        data=data,
        landing=region,
        marts=rh.mart_hashes(data / "warehouse.duckdb"),
        state=rh.warehouse_state(data),
        totals=rh.audit_consistent(data),
        files=len(results),
        dbt_work=root / "dbt",
        reports=root / "reports",
    )
