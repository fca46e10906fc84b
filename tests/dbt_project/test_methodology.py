"""docs/methodology.md and the dbt column docs cannot drift apart.

Every published indicator (a mart column that is a rate, share, score, index, percentile, per-staff or
per-resident figure, gap, plan total or rank), every column of the scorecard marts and every indicator of
seed ``scorecard_weights`` has an entry in docs/methodology.md (``### <column>``, ``#### Indicator
`<code>` ``) with its definition and an example, and every entry names a column a mart really publishes
or an indicator of the seed.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml
from conftest import DBT_PROJECT_DIR, REPO_ROOT

METHODOLOGY = REPO_ROOT / "docs" / "methodology.md"
MARTS_DIR = DBT_PROJECT_DIR / "models" / "marts"
WEIGHTS = DBT_PROJECT_DIR / "seeds" / "scorecard_weights.csv"
# keys and labels of the scorecard marts, documented in docs.md or the seed, not figures
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

# What counts as a published indicator (as opposed to keys, names, counts and lineage columns).
INDICATOR = re.compile(
    r"(_rate|_share|_score|_contribution|_median|_p90|_per_fte|_per_10k_residents|_per_10k_registered"
    r"|_ratio|_gap|_coverage)$|^(d_resident|d_registered|allocated_by_registration|posts_to_reallocate"
    r"|fte_misallocated|fair_share_staff|reallocation_delta|backlog_month_end|rank_min|rank_max|rank_range"
    r"|rank_in_peer_group|rank_in_county|composite_score_change)$"
)


def _mart_columns() -> dict[str, set[str]]:
    """column -> the marts that document it, from every models/marts/**/_*__models.yml."""
    columns: dict[str, set[str]] = {}
    for yml in sorted(MARTS_DIR.rglob("_*__models.yml")):
        for model in yaml.safe_load(yml.read_text(encoding="utf-8")).get("models", []):
            for col in model.get("columns", []):
                columns.setdefault(col["name"], set()).add(model["name"])
    return columns


def _indicators() -> set[str]:
    with WEIGHTS.open(encoding="utf-8") as f:
        return {r["indicator_code"] for r in csv.DictReader(f)}


def _sections(level: str) -> dict[str, str]:
    """name -> text of its entry, for headings of exactly `level` ('###' for columns, '####' for
    indicators): the backquoted names in the heading, else its first word."""
    text = METHODOLOGY.read_text(encoding="utf-8")
    parts = re.split(r"^(#{1,4} .*)$", text, flags=re.MULTILINE)
    entries: dict[str, str] = {}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        if heading.split(" ", 1)[0] == level:
            for name in re.findall(r"`([a-z0-9_]+)`", heading) or [heading.split()[1]]:
                entries[name] = body
    return entries


def _entries() -> dict[str, str]:
    return _sections("###")


def test_every_scorecard_column_and_indicator_has_an_entry() -> None:
    scorecard = {
        c
        for c, marts in _mart_columns().items()
        if any(m.startswith("mart_scorecard") for m in marts) and c not in IDENTIFIERS
    }
    assert not sorted(scorecard - set(_entries())), "scorecard columns without a ### entry"
    missing = sorted(_indicators() - set(_sections("####")))
    assert not missing, f"scorecard indicators without a #### Indicator entry: {missing}"
    unknown = sorted(set(_sections("####")) - _indicators())
    assert not unknown, f"#### Indicator entries naming no indicator of the seed: {unknown}"


def test_every_published_indicator_has_a_methodology_entry() -> None:
    indicators = {c for c in _mart_columns() if INDICATOR.search(c)}
    missing = sorted(indicators - set(_entries()))
    assert indicators, "no indicator column found: the pattern or the yml layout changed"
    assert not missing, f"published indicators without a `### name` entry in docs/methodology.md: {missing}"


def test_every_methodology_entry_names_a_published_column_and_has_a_worked_example() -> None:
    columns = _mart_columns()
    entries = _entries()
    unknown = sorted(name for name in entries if name not in columns)
    assert not unknown, f"docs/methodology.md describes columns no mart publishes: {unknown}"
    without_example = sorted(
        name
        for name, body in {**entries, **_sections("####")}.items()
        if not re.search(r"example", body, re.IGNORECASE)
    )
    assert not without_example, f"entries without a worked example: {without_example}"


def test_readme_links_the_methodology() -> None:
    assert "docs/methodology.md" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert Path(METHODOLOGY).exists()
