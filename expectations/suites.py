"""Expectation suites as code: one per feed of DESIGN §3, every rule tagged critical or warning.

A suite is first described as plain :class:`Rule` records (no Great Expectations import, so this
module is cheap to import and easy to read), then turned into a GX ``ExpectationSuite`` by
:func:`build_suite`. Rules that depend on the delivery (division codes, delivery date, previous
row count) are filled in by :func:`rules_for` per run.

Severity: ``critical`` blocks publication of the delivery; ``warning`` is reported and audited.

Whole delivery, tolerant row rules: a suite sees every typed row of the delivery, including the rows
the ingest quarantines one by one. Critical *row-level* rules (unknown unit code, bad enum value,
bad ID check digit, fte out of range, negative count, timestamps out of order, duplicate key, a
required value missing or unparseable) therefore carry GX ``mostly`` (default 0.95, environment
``GRASSROOTS_CRITICAL_MOSTLY``): a few bad rows are quarantined and the delivery is published, a
broken delivery (more than 5% bad rows for one rule) is blocked. The unexpected counts still list
every bad row for auditors. An empty delivery, a missing required column, a wrong column type and
an impossible value (a unit of more than two million people) are critical outright.

Besides the four feed suites there is the ``marts`` suite, run after dbt on
``marts.mart_staffing_mismatch`` (:func:`marts_rules`).

Not covered here: the residence ratio (resident / registered population in [0.05, 20]) needs both
population feeds for the same unit and month; it belongs in the warehouse (a dbt test on the joined
population model), not in a single-delivery suite.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import math
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from grassroots.config import settings
from grassroots.feeds import EDUCATION, FEEDS, Feed, get_feed

Severity = Literal["critical", "warning"]
CRITICAL: Severity = "critical"
WARNING: Severity = "warning"

# Plausible bounds for one village-level unit (社区/村): above the first is suspicious, above the
# second is impossible for any unit ("a village of ten million"; the ingest's row rules quarantine
# such rows too). The largest townships and streets have some hundreds of thousands of residents.
POPULATION_WARNING_MAX = 200_000
TOWNSHIP_POPULATION_WARNING_MAX = 1_000_000
POPULATION_CRITICAL_MAX = 2_000_000
# Share of rows that must pass a critical row-level rule (see the module docstring).
DEFAULT_CRITICAL_MOSTLY = 0.95
# A resident-population snapshot older than this, relative to the delivery, is stale.
SNAPSHOT_MAX_AGE_DAYS = 400
# Row count may change by at most this share against the previous delivery before a warning.
ROW_COUNT_MAX_CHANGE = 0.5

UNIT_CODE_REGEX = r"^[0-9]{12}$"
# Village-level unit codes do not end in 000 (township-level ones do).
VILLAGE_LEVEL_CONDITION = '~unit_code.str.endswith("000")'
TOWNSHIP_LEVEL_CONDITION = 'unit_code.str.endswith("000")'
# A roster post held on its snapshot date (as is_active_at_snapshot in the warehouse).
ACTIVE_POST_CONDITION = (
    "(hire_date.isna() | (hire_date <= snapshot_date)) & (exit_date.isna() | (exit_date > snapshot_date))"
)

_KIND_BY_SQL_TYPE = {
    "VARCHAR": "string",
    "DOUBLE": "numeric",
    "BIGINT": "numeric",
    "INTEGER": "numeric",
    "DATE": "datetime",
    "TIMESTAMP": "datetime",
}
# Enum columns whose unknown values are only a warning: the ingest does not quarantine these rows
# (every other enum is critical, with ``mostly``, like the row rule that quarantines the row).
_WARNING_ENUMS = {"category", "education"}
# Count columns: must be >= 0 (critical).
_COUNT_COLUMNS = {
    "household_registration": (
        "registered_population",
        "registered_households",
        "registered_age_65_plus",
    ),
    "resident_population": (
        "resident_population",
        "resident_households",
        "floating_population_in",
        "residents_age_65_plus",
        "vulnerable_persons",
    ),
}
_POPULATION_COLUMN = {
    "household_registration": "registered_population",
    "resident_population": "resident_population",
}


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, in plain data.

    ``expectation`` is the GX class name (built-in, or one of ``expectations.custom``). ``scope``
    says how the runner may split a large delivery: ``frame`` rules must see every row at once
    (row counts, key uniqueness; they get only the columns they name), ``schema`` rules look at
    column names and dtypes (checked once, on the first slice) and ``row`` rules are checked
    slice by slice. ``columns`` are the
    columns the rule reads: a rule whose optional column is absent from a delivery is dropped.
    """

    name: str
    expectation: str
    kwargs: dict[str, Any]
    severity: Severity
    scope: Literal["row", "frame", "schema"] = "row"
    columns: tuple[str, ...] = field(default=())
    description: str = ""
    # GX ``mostly``: the share of (non-null) rows that must pass; None = every row.
    mostly: float | None = None

    @property
    def column(self) -> str | None:
        """The column(s) the rule is about, as one string ('a,b' for several)."""
        return ",".join(self.columns) if self.columns else None


def critical_mostly() -> float:
    """``mostly`` of the critical row-level rules: $GRASSROOTS_CRITICAL_MOSTLY, default 0.95."""
    text = os.environ.get("GRASSROOTS_CRITICAL_MOSTLY", "").strip()
    value = float(text) if text else DEFAULT_CRITICAL_MOSTLY
    if not 0.0 < value <= 1.0:
        raise ValueError(f"GRASSROOTS_CRITICAL_MOSTLY must be in (0, 1], got {text!r}")
    return value


@functools.cache
def sla_categories(seed: str | None = None) -> tuple[str, ...]:
    """The case categories that have an SLA: the codes of the dbt seed ``case_categories``.

    The seed is the one truth for SLAs; a case in any other category gets no SLA-based rate in the
    warehouse (null, ``no_sla_for_category``), so the suite warns about it with a count.
    """
    path = seed or str(settings().dbt_project_dir / "seeds" / "case_categories.csv")
    with open(path, encoding="utf-8", newline="") as handle:
        return tuple(row["category"] for row in csv.DictReader(handle))


def _enum_rules(feed: Feed) -> list[Rule]:
    enums = dict(feed.enums)
    if feed.name == "case_log":
        enums.setdefault("category", sla_categories())
    if feed.name == "staff_roster":
        enums.setdefault("education", EDUCATION)
    return [
        Rule(
            name=f"{col}.in_enum",
            expectation="ExpectColumnValuesToBeInSet",
            kwargs={"column": col, "value_set": list(values)},
            severity=WARNING if col in _WARNING_ENUMS else CRITICAL,
            columns=(col,),
            description=(
                f"category has an SLA in seed case_categories ({len(values)} categories); cases in "
                "other categories get no SLA-based rate (null, no_sla_for_category)"
                if feed.name == "case_log" and col == "category"
                else f"{col} is one of the {len(values)} known values"
            ),
            mostly=None if col in _WARNING_ENUMS else critical_mostly(),
        )
        for col, values in enums.items()
    ]


def _schema_rules(feed: Feed) -> list[Rule]:
    rules: list[Rule] = []
    for col in feed.columns:
        if col.required:
            rules.append(
                Rule(
                    name=f"{col.name}.exists",
                    expectation="ExpectColumnToExist",
                    kwargs={"column": col.name},
                    severity=CRITICAL,
                    scope="schema",
                    columns=(col.name,),
                    description="required column present",
                )
            )
        kind = _KIND_BY_SQL_TYPE.get(col.type)
        if kind is not None:
            rules.append(
                Rule(
                    name=f"{col.name}.type",
                    expectation="ExpectColumnDtypeKindToBeInSet",
                    kwargs={"column": col.name, "kinds": [kind, "null"]},
                    severity=CRITICAL,
                    scope="schema",
                    columns=(col.name,),
                    description=f"{col.name} holds {kind} values ({col.type})",
                )
            )
        if col.required:
            rules.append(
                Rule(
                    name=f"{col.name}.not_null",
                    expectation="ExpectColumnValuesToNotBeNull",
                    kwargs={"column": col.name},
                    severity=CRITICAL,
                    columns=(col.name,),
                    description="required value present (unparseable values are null)",
                    mostly=critical_mostly(),
                )
            )
    rules.append(
        Rule(
            name="key.unique",
            expectation="ExpectCompoundColumnsToBeUnique",
            kwargs={"column_list": list(feed.key)},
            severity=CRITICAL,
            scope="frame",
            columns=tuple(feed.key),
            description=f"no duplicate key ({', '.join(feed.key)})",
            mostly=critical_mostly(),
        )
    )
    return rules


def _unit_code_rules(feed: Feed, unit_codes_reference: str | None) -> list[Rule]:
    rules = [
        Rule(
            name="unit_code.format",
            expectation="ExpectColumnValuesToMatchRegex",
            kwargs={"column": "unit_code", "regex": UNIT_CODE_REGEX},
            severity=CRITICAL,
            columns=("unit_code",),
            description="12-digit statistical division code",
            mostly=critical_mostly(),
        )
    ]
    if unit_codes_reference is not None:
        rules.append(
            Rule(
                name="unit_code.known",
                expectation="ExpectColumnValuesToBeInReferenceSet",
                kwargs={"column": "unit_code", "reference": unit_codes_reference},
                severity=CRITICAL,
                columns=("unit_code",),
                description="unit_code is a known 2023 division code",
                mostly=critical_mostly(),
            )
        )
        if "handled_by_unit_code" in feed.column_names:
            rules.append(
                Rule(
                    name="handled_by_unit_code.known",
                    expectation="ExpectColumnValuesToBeInReferenceSet",
                    kwargs={
                        "column": "handled_by_unit_code",
                        "reference": unit_codes_reference,
                    },
                    severity=CRITICAL,
                    columns=("handled_by_unit_code",),
                    description="handling unit is a known 2023 division code",
                    mostly=critical_mostly(),
                )
            )
    return rules


def _row_count_rules(previous_row_count: int | None) -> list[Rule]:
    rules = [
        Rule(
            name="rows.not_empty",
            expectation="ExpectTableRowCountToBeBetween",
            kwargs={"min_value": 1},
            severity=CRITICAL,
            scope="frame",
            description="the delivery has rows",
        )
    ]
    if previous_row_count:
        lo = math.ceil(previous_row_count * (1 - ROW_COUNT_MAX_CHANGE))
        hi = math.floor(previous_row_count * (1 + ROW_COUNT_MAX_CHANGE))
        rules.append(
            Rule(
                name="rows.change_vs_previous",
                expectation="ExpectTableRowCountToBeBetween",
                kwargs={"min_value": lo, "max_value": hi},
                severity=WARNING,
                scope="frame",
                description=(
                    f"row count within ±{ROW_COUNT_MAX_CHANGE:.0%} of the previous delivery "
                    f"of the same supplier series ({previous_row_count})"
                ),
            )
        )
    return rules


def _feed_rules(feed: Feed, delivery_date: dt.date | None) -> list[Rule]:
    rules: list[Rule] = []
    if feed.name == "staff_roster":
        rules += [
            Rule(
                name="fte.range",
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={
                    "column": "fte",
                    "min_value": 0,
                    "max_value": 1,
                    "strict_min": True,
                },
                severity=CRITICAL,
                columns=("fte",),
                description="fte in (0, 1]",
                mostly=critical_mostly(),
            ),
            Rule(
                name="id_number.check_digit",
                expectation="ExpectColumnValuesToBeValidChineseIdNumber",
                kwargs={"column": "id_number"},
                severity=CRITICAL,
                columns=("id_number",),
                description="18-character resident ID with a valid GB 11643 check digit",
                mostly=critical_mostly(),
            ),
            Rule(
                name="hire_before_exit",
                expectation="ExpectTimestampsInOrder",
                kwargs={"column_list": ["hire_date", "exit_date"]},
                severity=CRITICAL,
                columns=("hire_date", "exit_date"),
                description="hire_date ≤ exit_date",
                mostly=critical_mostly(),
            ),
            # One person (ID number) at most 1.0 FTE over all units of a snapshot, active posts only
            # (docs/methodology.md, "One person's FTE across units"). A warning: the warehouse counts
            # such a person at 1.0 (fte_capped) and lists them (int_staff_fte_over_one).
            Rule(
                name="fte.person_total_at_most_one",
                expectation="ExpectColumnSumWithinGroupsToBeAtMost",
                kwargs={
                    "column_list": ["id_number", "snapshot_date", "fte"],
                    "max_value": 1.0,
                    "tolerance": 1e-9,
                    "row_condition": ACTIVE_POST_CONDITION,
                    "condition_parser": "pandas",
                },
                severity=WARNING,
                scope="frame",
                columns=("id_number", "snapshot_date", "fte", "hire_date", "exit_date"),
                description="one person's (ID number's) fte over the snapshot's units ≤ 1.0 (active posts)",
            ),
            Rule(
                name="hired_by_snapshot",
                expectation="ExpectTimestampsInOrder",
                kwargs={"column_list": ["hire_date", "snapshot_date"]},
                severity=WARNING,
                columns=("hire_date", "snapshot_date"),
                description="hire_date ≤ snapshot_date (no future hires on the roster)",
            ),
        ]
    if feed.name in _COUNT_COLUMNS:
        for col in _COUNT_COLUMNS[feed.name]:
            rules.append(
                Rule(
                    name=f"{col}.non_negative",
                    expectation="ExpectColumnValuesToBeBetween",
                    kwargs={"column": col, "min_value": 0},
                    severity=CRITICAL,
                    columns=(col,),
                    description=f"{col} ≥ 0",
                    mostly=critical_mostly(),
                )
            )
        pop = _POPULATION_COLUMN[feed.name]
        rules += [
            Rule(
                name=f"{pop}.plausible",
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={
                    "column": pop,
                    "max_value": POPULATION_WARNING_MAX,
                    "row_condition": VILLAGE_LEVEL_CONDITION,
                    "condition_parser": "pandas",
                },
                severity=WARNING,
                columns=(pop, "unit_code"),
                description=f"village-level {pop} ≤ {POPULATION_WARNING_MAX:,}",
            ),
            Rule(
                name=f"{pop}.plausible_township",
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={
                    "column": pop,
                    "max_value": TOWNSHIP_POPULATION_WARNING_MAX,
                    "row_condition": TOWNSHIP_LEVEL_CONDITION,
                    "condition_parser": "pandas",
                },
                severity=WARNING,
                columns=(pop, "unit_code"),
                description=f"township-level {pop} ≤ {TOWNSHIP_POPULATION_WARNING_MAX:,}",
            ),
            # No ``mostly``: one absurd value means the delivery is wrong, not one row.
            Rule(
                name=f"{pop}.possible",
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": pop, "max_value": POPULATION_CRITICAL_MAX},
                severity=CRITICAL,
                columns=(pop,),
                description=f"{pop} of any unit ≤ {POPULATION_CRITICAL_MAX:,}",
            ),
        ]
        households = (
            "registered_households" if feed.name == "household_registration" else "resident_households"
        )
        rules.append(
            Rule(
                name=f"{households}.le_population",
                expectation="ExpectColumnPairValuesAToBeGreaterThanB",
                kwargs={
                    "column_A": pop,
                    "column_B": households,
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
                severity=WARNING,
                columns=(pop, households),
                description=f"{households} ≤ {pop}",
            )
        )
        elderly = (
            "registered_age_65_plus" if feed.name == "household_registration" else "residents_age_65_plus"
        )
        rules.append(
            Rule(
                name=f"{elderly}.le_population",
                expectation="ExpectColumnPairValuesAToBeGreaterThanB",
                kwargs={
                    "column_A": pop,
                    "column_B": elderly,
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
                severity=WARNING,
                columns=(pop, elderly),
                description=f"{elderly} ≤ {pop}",
            )
        )
    if feed.snapshot and delivery_date is not None:
        period = feed.period_column
        upper = dt.datetime.combine(delivery_date, dt.time.max)
        rules.append(
            Rule(
                name=f"{period}.not_after_delivery",
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": period, "max_value": upper},
                severity=WARNING,
                columns=(period,),
                description=f"{period} not after the delivery date",
            )
        )
        if feed.name == "resident_population":
            oldest = dt.datetime.combine(
                delivery_date - dt.timedelta(days=SNAPSHOT_MAX_AGE_DAYS), dt.time.min
            )
            rules.append(
                Rule(
                    name="as_of_date.fresh",
                    expectation="ExpectColumnValuesToBeBetween",
                    kwargs={"column": "as_of_date", "min_value": oldest},
                    severity=WARNING,
                    columns=("as_of_date",),
                    description=(f"snapshot not older than {SNAPSHOT_MAX_AGE_DAYS} days before delivery"),
                )
            )
    if feed.name == "case_log":
        rules += [
            Rule(
                name="timestamps.in_order",
                expectation="ExpectTimestampsInOrder",
                kwargs={
                    "column_list": [
                        "reported_at",
                        "assigned_at",
                        "first_response_at",
                        "closed_at",
                    ]
                },
                severity=CRITICAL,
                columns=(
                    "reported_at",
                    "assigned_at",
                    "first_response_at",
                    "closed_at",
                ),
                description="reported ≤ assigned ≤ first response ≤ closed (nulls skipped)",
                mostly=critical_mostly(),
            ),
            Rule(
                name="updated_after_reported",
                expectation="ExpectTimestampsInOrder",
                kwargs={"column_list": ["reported_at", "updated_at"]},
                severity=CRITICAL,
                columns=("reported_at", "updated_at"),
                description="a case version is not older than the report",
                mostly=critical_mostly(),
            ),
            Rule(
                name="closed_cases_have_closed_at",
                expectation="ExpectColumnValuesToNotBeNull",
                kwargs={
                    "column": "closed_at",
                    "row_condition": 'status == "closed"',
                    "condition_parser": "pandas",
                },
                severity=WARNING,
                columns=("closed_at", "status"),
                description="a closed case says when it was closed",
            ),
        ]
    return rules


def rules_for(
    feed: str,
    *,
    unit_codes_reference: str | None = None,
    delivery_date: dt.date | None = None,
    previous_row_count: int | None = None,
) -> list[Rule]:
    """All rules of ``feed``'s suite for one delivery.

    ``unit_codes_reference`` is a reference returned by
    ``expectations.custom.register_reference_set`` (None: only the code format is checked).
    """
    if feed == MARTS_SUITE:
        return marts_rules()
    f = get_feed(feed)
    rules = (
        _row_count_rules(previous_row_count)
        + _schema_rules(f)
        + _unit_code_rules(f, unit_codes_reference)
        + _enum_rules(f)
        + _feed_rules(f, delivery_date)
    )
    names = [r.name for r in rules]
    assert len(names) == len(set(names)), f"duplicate rule names in {feed}"
    return rules


# --------------------------------------------------------------------------------------------
# The published marts (run after dbt, on the whole table; no ``mostly``: a mart is derived data,
# any violation is a bug in the warehouse, not a bad row from a supplier)

MARTS_SUITE = "marts"
MARTS_TABLE = "marts.mart_staffing_mismatch"
MARTS_KEY = ("unit_code", "month")
# Floating-point slack for shares, indices and sums over a county's units.
MARTS_TOLERANCE = 1e-6
_MARTS_REQUIRED = (
    "unit_code",
    "month",
    "county_code",
    "unit_level",
    "in_allocation_base",
    "staff_fte",
    "staff_share",
    "resident_share",
    "registered_share",
    "fair_share_staff",
    "reallocation_delta",
    "d_resident",
    "d_registered",
)
_MARTS_KINDS = {
    "unit_code": "string",
    "county_code": "string",
    "month": "datetime",
    "staff_fte": "numeric",
    "staff_share": "numeric",
    "resident_share": "numeric",
    "registered_share": "numeric",
    "reallocation_delta": "numeric",
    "d_resident": "numeric",
    "d_registered": "numeric",
}


def marts_rules() -> list[Rule]:
    """The ``marts`` suite: invariants of ``marts.mart_staffing_mismatch`` (DESIGN §5)."""
    rules: list[Rule] = [
        Rule(
            name="rows.not_empty",
            expectation="ExpectTableRowCountToBeBetween",
            kwargs={"min_value": 1},
            severity=CRITICAL,
            scope="frame",
            description="the mart has rows",
        )
    ]
    for col in _MARTS_REQUIRED:
        rules.append(
            Rule(
                name=f"{col}.exists",
                expectation="ExpectColumnToExist",
                kwargs={"column": col},
                severity=CRITICAL,
                scope="schema",
                columns=(col,),
                description="column present",
            )
        )
    for col, kind in _MARTS_KINDS.items():
        rules.append(
            Rule(
                name=f"{col}.type",
                expectation="ExpectColumnDtypeKindToBeInSet",
                kwargs={"column": col, "kinds": [kind, "null"]},
                severity=CRITICAL,
                scope="schema",
                columns=(col,),
                description=f"{col} holds {kind} values",
            )
        )
    for col in ("unit_code", "month", "county_code", "in_allocation_base"):
        rules.append(
            Rule(
                name=f"{col}.not_null",
                expectation="ExpectColumnValuesToNotBeNull",
                kwargs={"column": col},
                severity=CRITICAL,
                columns=(col,),
                description="value present",
            )
        )
    rules += [
        Rule(
            name="key.unique",
            expectation="ExpectCompoundColumnsToBeUnique",
            kwargs={"column_list": list(MARTS_KEY)},
            severity=CRITICAL,
            scope="frame",
            columns=MARTS_KEY,
            description="one row per unit_code and month",
        ),
        Rule(
            name="unit_code.format",
            expectation="ExpectColumnValuesToMatchRegex",
            kwargs={"column": "unit_code", "regex": UNIT_CODE_REGEX},
            severity=CRITICAL,
            columns=("unit_code",),
            description="12-digit statistical division code",
        ),
        Rule(
            name="unit_level.in_enum",
            expectation="ExpectColumnValuesToBeInSet",
            kwargs={"column": "unit_level", "value_set": ["village", "township"]},
            severity=CRITICAL,
            columns=("unit_level",),
            description="village (villages and communities) or township (offices)",
        ),
    ]
    for col in ("staff_fte", "resident_population", "registered_population"):
        rules.append(
            Rule(
                name=f"{col}.non_negative",
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": col, "min_value": 0},
                severity=CRITICAL,
                columns=(col,),
                description=f"{col} ≥ 0",
            )
        )
    for col in ("staff_share", "resident_share", "registered_share"):
        rules.append(
            Rule(
                name=f"{col}.range",
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": col, "min_value": 0, "max_value": 1},
                severity=CRITICAL,
                columns=(col,),
                description=f"{col} in [0, 1]",
            )
        )
    for col in ("d_resident", "d_registered"):
        rules.append(
            Rule(
                name=f"{col}.range",
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={
                    "column": col,
                    "min_value": 0,
                    "max_value": 1 + MARTS_TOLERANCE,
                },
                severity=CRITICAL,
                columns=(col,),
                description=f"dissimilarity index {col} in [0, 1]",
            )
        )
    group = ["county_code", "month"]
    rules += [
        Rule(
            name="reallocation_delta.sums_to_zero",
            expectation="ExpectColumnSumWithinGroupsToEqual",
            kwargs={
                "column_list": [*group, "reallocation_delta"],
                "value": 0.0,
                "tolerance": MARTS_TOLERANCE,
                "ignore_row_if": "any_value_is_missing",
            },
            severity=CRITICAL,
            scope="frame",  # a group must be seen whole
            columns=(*group, "reallocation_delta"),
            description=(
                "the reallocation plan keeps each county's total: Σ reallocation_delta ≈ 0 "
                "per county and month"
            ),
        ),
        Rule(
            name="resident_share.sums_to_one",
            expectation="ExpectColumnSumWithinGroupsToEqual",
            kwargs={
                "column_list": [*group, "resident_share"],
                "value": 1.0,
                "tolerance": MARTS_TOLERANCE,
                "ignore_row_if": "any_value_is_missing",
            },
            severity=CRITICAL,
            scope="frame",  # a group must be seen whole
            columns=(*group, "resident_share"),
            description="resident shares of a county's allocation base sum to 1",
        ),
        Rule(
            name="staff_share.sums_to_one",
            expectation="ExpectColumnSumWithinGroupsToEqual",
            kwargs={
                "column_list": [*group, "staff_share"],
                "value": 1.0,
                "tolerance": MARTS_TOLERANCE,
                "ignore_row_if": "any_value_is_missing",
            },
            severity=CRITICAL,
            scope="frame",  # a group must be seen whole
            columns=(*group, "staff_share"),
            description="staff shares of a county's allocation base sum to 1",
        ),
    ]
    return rules


SUITE_NAMES: tuple[str, ...] = (*FEEDS, MARTS_SUITE)


def build_suite(name: str, rules: list[Rule]):
    """A GX ExpectationSuite named ``name`` holding ``rules`` (imports Great Expectations)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from expectations import custom
    from expectations.custom._render import SEVERITY_LABELS, SEVERITY_MEANING, mostly_text

    expectations = []
    for rule in rules:
        own = getattr(custom, rule.expectation, None)
        cls = own or getattr(gxe, rule.expectation)
        meta = {
            "severity": rule.severity,
            "rule": rule.name,
            "description": rule.description,
        }
        kwargs = dict(rule.kwargs)
        if rule.mostly is not None:
            kwargs["mostly"] = rule.mostly
        label = SEVERITY_LABELS.get(rule.severity, rule.severity)
        # Data Docs print `description` instead of GX's kwargs template: the rule in plain words,
        # after its severity. Custom expectations print the same through their own renderer.
        description = None if own else f"{label}: {rule.description}{mostly_text(kwargs)}."
        notes = [
            f"**Severity: {rule.severity}**: {SEVERITY_MEANING.get(rule.severity, rule.severity)}.",
            f"Rule `{rule.name}`.",
        ]
        expectations.append(
            cls(**kwargs, severity=rule.severity, meta=meta, description=description, notes=notes)
        )
    # Passing the list to the constructor skips add_expectation's quadratic duplicate check
    # (0.3 s for 43 expectations). The constructor logs and drops invalid ones: refuse that.
    suite = gx.ExpectationSuite(name=name, expectations=expectations)
    if len(suite.expectations) != len(rules):
        raise ValueError(f"suite {name}: {len(rules) - len(suite.expectations)} invalid rule(s)")
    return suite
