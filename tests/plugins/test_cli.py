"""The operator's CLI: every option explains itself; `ingest` ends with a summary table or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb
import pytest

from grassroots.cli import build_parser, main
from grassroots.generate import generate


def _subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_has_a_help_text() -> None:
    missing = [
        f"{name} {'/'.join(a.option_strings)}"
        for name, sp in _subparsers(build_parser()).items()
        for a in sp._actions
        if a.option_strings and a.dest != "help" and not a.help
    ]
    assert missing == []


def _deliver(data_dir: Path) -> None:
    generate(
        data_dir / "landing", counties=["350206"], start="2024-01", months=2, seed=3, scale=0.05, faults=True
    )


def test_ingest_ends_with_a_summary_table(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _deliver(data_dir)
    rc = main(["ingest", "--feed", "household_registration", "--no-validate"])
    out = capsys.readouterr().out
    assert rc == 1  # a blocked file is an error for the caller
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        loaded, rows, bad = con.execute(
            "SELECT count(*), sum(rows_loaded), sum(rows_quarantined) FROM audit.load_log "
            "WHERE status = 'loaded'"
        ).fetchone()
        blocked = con.execute("SELECT source_file FROM audit.load_log WHERE status = 'blocked'").fetchall()
    finally:
        con.close()
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["feed", "loaded", "duplicate", "blocked"]
    cells = lines[1].split()
    assert cells[0] == "household_registration"
    assert int(cells[1]) == loaded and int(cells[3]) == len(blocked) == 1
    assert cells[7:9] == [f"{rows:,}", f"{bad:,}"]
    assert f"blocked  {blocked[0][0]}:" in out
    assert not any(line.startswith("{") for line in lines)


def test_ingest_json_prints_one_object_per_delivery(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _deliver(data_dir)
    main(["ingest", "--feed", "resident_population", "--no-validate", "--json"])
    objects = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    delivered = sorted(
        p.relative_to(data_dir / "landing").as_posix()
        for p in (data_dir / "landing").rglob("*.csv")
        if "resident_population" in p.parts
    )
    assert sorted(o["source_file"] for o in objects) == delivered
    assert {o["status"] for o in objects} == {"loaded", "duplicate"}
