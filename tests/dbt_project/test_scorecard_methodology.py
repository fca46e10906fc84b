"""docs/methodology/scorecard.md and the dbt docs of the scorecard cannot drift: every published
column of the scorecard marts and every indicator of seed scorecard_weights has a `### <name>`
section in the methodology, and every such section names a column or indicator that exists."""

from __future__ import annotations

import csv
import re

import yaml
from conftest import DBT_PROJECT_DIR, REPO_ROOT

METHODOLOGY = REPO_ROOT / "docs" / "methodology" / "scorecard.md"
MODELS_YML = DBT_PROJECT_DIR / "models" / "marts" / "scorecard" / "_scorecard__models.yml"
WEIGHTS = DBT_PROJECT_DIR / "seeds" / "scorecard_weights.csv"
# keys and labels, documented in the shared docs (docs.md) or the seed, not figures
IDENTIFIERS = {
    "unit_code",
    "month",
    "county_code",
    "peer_group",
    "indicator_code",
    "dimension",
    "dimension_zh",
    "label_zh",
    "indicator_a",
    "indicator_b",
    "dimension_a",
    "dimension_b",
}


def _headings() -> set[str]:
    return set(re.findall(r"^### (\S+)$", METHODOLOGY.read_text(encoding="utf-8"), re.MULTILINE))


def _columns() -> set[str]:
    models = yaml.safe_load(MODELS_YML.read_text(encoding="utf-8"))["models"]
    return {c["name"] for m in models for c in m["columns"]} - IDENTIFIERS


def _indicators() -> set[str]:
    with WEIGHTS.open(encoding="utf-8") as f:
        return {r["indicator_code"] for r in csv.DictReader(f)}


def test_every_scorecard_column_and_indicator_has_a_methodology_section() -> None:
    missing = (_columns() | _indicators()) - _headings()
    assert not missing, f"no ### section in {METHODOLOGY.name}: {sorted(missing)}"


def test_every_methodology_section_is_a_column_or_indicator() -> None:
    unknown = _headings() - _columns() - _indicators()
    assert not unknown, f"sections naming no scorecard column or indicator: {sorted(unknown)}"
