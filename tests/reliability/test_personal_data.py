"""Personal data: after the region's full run and a validated run with hostile rows, none of the
generated ID numbers, phone numbers or names is in clear anywhere the pipeline writes."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import reliability_helpers as rh
from conftest import Reference


@pytest.mark.slow
def test_no_personal_data_in_clear_anywhere(
    reference: Reference, tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture
) -> None:
    numbers, names = rh.landing_identifiers(reference.landing)
    assert len(numbers) > 200 and len(names) > 50

    # A validated run (Great Expectations, Data Docs) of the roster and a few days of cases, with
    # hostile rows that carry identifiers into the quarantine: a wrong check digit, an unknown unit,
    # a duplicate key, a malformed date.
    data = tmp_path / "data"
    landing = data / "landing"
    shutil.copytree(reference.landing / "staff_roster", landing / "staff_roster")
    for day in sorted((reference.landing / "case_log").iterdir())[:3]:
        shutil.copytree(day, landing / "case_log" / day.name)
    roster = sorted((landing / "staff_roster").rglob("*.csv"))[-1]
    lines = roster.read_text(encoding="utf-8").splitlines()
    first = lines[1].split(",")
    bad_id = first[2][:17] + ("0" if first[2][17] != "0" else "1")
    numbers.add(bad_id)
    lines += [
        ",".join([first[0] + "b", first[1], bad_id, *first[3:]]),
        ",".join([first[0] + "c", first[1], first[2], first[3], "350206999999", *first[5:]]),
        lines[1],
        ",".join(
            [
                first[0] + "d",
                first[1],
                first[2],
                first[3],
                first[4],
                first[5],
                first[6],
                "2024-02-30",
                *first[8:],
            ]
        ),
    ]
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    leaks, _ = rh.scan_tree(landing, numbers, names)
    assert leaks, "positive control: the scan finds identifiers where they are in clear (landing)"

    with caplog.at_level(logging.DEBUG):
        results = rh.ingest_all(data, ["staff_roster", "case_log"], validate=True)
        with rh.use_data_dir(data, tmp_path / "reports"):
            from grassroots import data_docs

            data_docs.build("reliability")
    assert {r.status for r in results} == {"loaded"}, [r.error for r in results]
    totals = rh.audit_consistent(data)  # the load audit's counts, checked against the tables
    assert totals[2] == 4, totals
    out, err = capfd.readouterr()

    found: list[rh.Leak] = []
    places = {
        "reference warehouse, raw and quarantine zones": (reference.data, ("landing",)),
        "reference report and exports": (reference.reports, ()),
        "dbt artifacts and logs": (reference.dbt_work, ()),
        "validated run: warehouse, zones": (data, ("landing",)),
        "validated run: Data Docs": (tmp_path / "reports", ()),
        "Great Expectations results": (Path(os.environ["GRASSROOTS_GX_DIR"]), ()),
    }
    for where, (root, skip) in places.items():
        leaks, n = rh.scan_tree(root, numbers, names, skip=skip)
        assert n, f"nothing to scan in {where}"
        found += leaks
    found += rh.scan_text(caplog.text + out + err, "logs of this run", numbers, names)
    assert not found, [f"{leak.where}: {leak.what}" for leak in found[:10]]
    rh.record(
        "personal",
        "1-scan",
        "scan for the generated ID numbers, phones and names after the region run and a validated "
        "run with hostile rows",
        f"{len(numbers)} numbers and {len(names)} names searched in every table and column of the "
        "warehouses, the raw and quarantine Parquet by cell, the report and its exports, Data Docs, "
        "GX results, dbt artifacts and logs: none in clear",
        rows=totals,
    )


def test_outside_demo_mode_no_key_refuses_to_start(tmp_path: Path) -> None:
    env = rh.data_env(tmp_path / "data")
    env.pop("GRASSROOTS_PII_KEY")
    env["AIRFLOW_CONN_GRASSROOTS_PII_KEY"] = ""
    day = tmp_path / "data" / "landing" / "household_registration" / "2024-01-31"
    day.mkdir(parents=True)
    (day / "household_registration_202401.csv").write_text(
        "unit_code,as_of_date,registered_population,registered_households,registered_age_65_plus\n"
        "350206001001,2024-01-31,1,1,1\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "grassroots.cli",
            "ingest",
            "--feed",
            "household_registration",
            "--no-validate",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "No pseudonymisation key" in proc.stderr and "GRASSROOTS_PII_KEY" in proc.stderr
    written = [p for p in (tmp_path / "data").rglob("*") if p.is_file() and "landing" not in p.parts]
    assert not written, written
    rh.record(
        "personal",
        "2-no-key",
        "outside demo mode without GRASSROOTS_PII_KEY",
        "the ingest refuses to start (its error names GRASSROOTS_PII_KEY); files written outside the "
        f"landing zone: {len(written)}",
    )
