"""Expectation suites as code: one per feed of DESIGN §3, every rule tagged critical or warning.

A suite is first described as plain :class:`Rule` records (no Great Expectations import, so this
module is cheap to import and easy to read), then turned into a GX ``ExpectationSuite`` by
:func:`build_suite`. Rules that depend on the delivery (division codes, delivery date, previous
row count) are filled in by :func:`rules_for` per run.

Severity: ``critical`` blocks publication of the delivery; ``warning`` is reported and audited.

Not covered here: the residence ratio (resident / registered population in [0.05, 20]) needs both
population feeds for the same unit and month; it belongs in the warehouse (a dbt test on the joined
population model), not in a single-delivery suite.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from grassroots.feeds import CASE_CATEGORIES, EDUCATION, FEEDS, Feed, get_feed

Severity = Literal["critical", "warning"]
CRITICAL: Severity = "critical"
WARNING: Severity = "warning"

# Plausible bounds for one village-level unit (社区/村): above the first is suspicious, above the
# second is impossible ("a village of ten million").
POPULATION_WARNING_MAX = 200_000
POPULATION_CRITICAL_MAX = 2_000_000
# A resident-population snapshot older than this, relative to the delivery, is stale.
SNAPSHOT_MAX_AGE_DAYS = 400
# Row count may change by at most this share against the previous delivery before a warning.
ROW_COUNT_MAX_CHANGE = 0.5

UNIT_CODE_REGEX = r"^[0-9]{12}$"
# Village-level unit codes do not end in 000 (township-level ones do).
VILLAGE_LEVEL_CONDITION = '~unit_code.str.endswith("000")'

_KIND_BY_SQL_TYPE = {
    "VARCHAR": "string",
    "DOUBLE": "numeric",
    "BIGINT": "numeric",
    "INTEGER": "numeric",
    "DATE": "datetime",
    "TIMESTAMP": "datetime",
}
# Enum columns whose unknown values are only a warning (everything else is critical).
_WARNING_ENUMS = {"satisfaction", "category", "education"}
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

    @property
    def column(self) -> str | None:
        """The column(s) the rule is about, as one string ('a,b' for several)."""
        return ",".join(self.columns) if self.columns else None


def _enum_rules(feed: Feed) -> list[Rule]:
    enums = dict(feed.enums)
    if feed.name == "case_log":
        enums.setdefault("category", CASE_CATEGORIES)
    if feed.name == "staff_roster":
        enums.setdefault("education", EDUCATION)
    return [
        Rule(
            name=f"{col}.in_enum",
            expectation="ExpectColumnValuesToBeInSet",
            kwargs={"column": col, "value_set": list(values)},
            severity=WARNING if col in _WARNING_ENUMS else CRITICAL,
            columns=(col,),
            description=f"{col} is one of the {len(values)} known values",
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
                    description="required value present",
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
                description="unit_code is a known division code",
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
                    severity=WARNING,
                    columns=("handled_by_unit_code",),
                    description="handling unit is a known division code",
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
                    f"({previous_row_count})"
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
            ),
            Rule(
                name="id_number.check_digit",
                expectation="ExpectColumnValuesToBeValidChineseIdNumber",
                kwargs={"column": "id_number"},
                severity=CRITICAL,
                columns=("id_number",),
                description="18-character resident ID with a valid GB 11643 check digit",
            ),
            Rule(
                name="hire_before_exit",
                expectation="ExpectTimestampsInOrder",
                kwargs={"column_list": ["hire_date", "exit_date"]},
                severity=WARNING,
                columns=("hire_date", "exit_date"),
                description="hire_date ≤ exit_date",
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
                name=f"{pop}.possible",
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={
                    "column": pop,
                    "max_value": POPULATION_CRITICAL_MAX,
                    "row_condition": VILLAGE_LEVEL_CONDITION,
                    "condition_parser": "pandas",
                },
                severity=CRITICAL,
                columns=(pop, "unit_code"),
                description=f"village-level {pop} ≤ {POPULATION_CRITICAL_MAX:,}",
            ),
        ]
        households = (
            "registered_households"
            if feed.name == "household_registration"
            else "resident_households"
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
                    description=(
                        f"snapshot not older than {SNAPSHOT_MAX_AGE_DAYS} days before delivery"
                    ),
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
            ),
            Rule(
                name="updated_after_reported",
                expectation="ExpectTimestampsInOrder",
                kwargs={"column_list": ["reported_at", "updated_at"]},
                severity=WARNING,
                columns=("reported_at", "updated_at"),
                description="a case version is not older than the report",
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


SUITE_NAMES: tuple[str, ...] = tuple(FEEDS)


def build_suite(name: str, rules: list[Rule]):
    """A GX ExpectationSuite named ``name`` holding ``rules`` (imports Great Expectations)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from expectations import custom

    expectations = []
    for rule in rules:
        cls = getattr(custom, rule.expectation, None) or getattr(gxe, rule.expectation)
        meta = {
            "severity": rule.severity,
            "rule": rule.name,
            "description": rule.description,
        }
        expectations.append(cls(**rule.kwargs, severity=rule.severity, meta=meta))
    # Passing the list to the constructor skips add_expectation's quadratic duplicate check
    # (0.3 s for 43 expectations). The constructor logs and drops invalid ones: refuse that.
    suite = gx.ExpectationSuite(name=name, expectations=expectations)
    if len(suite.expectations) != len(rules):
        raise ValueError(
            f"suite {name}: {len(rules) - len(suite.expectations)} invalid rule(s)"
        )
    return suite
