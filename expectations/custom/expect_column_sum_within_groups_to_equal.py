"""ExpectColumnSumWithinGroupsToEqual: a column sums to a value within each group of rows.

For the published marts: the reallocation deltas of each county and month sum to zero (the plan
moves posts without changing the county's total), and the shares of a county's allocation base
sum to one. A row-wise (multicolumn map) expectation, so GX counts and samples the rows of the
groups that do not add up.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import MulticolumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    MulticolumnMapMetricProvider,
)
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (
    multicolumn_condition_partial,
)

from ._checks import group_sums_equal
from ._render import plain_renderer


class MulticolumnSumWithinGroupsEquals(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.sum_within_groups_equals"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_list",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ("value", "tolerance")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        column_list: pd.DataFrame,
        value: float = 0.0,
        tolerance: float = 1e-6,
        **kwargs,
    ) -> pd.Series:
        ok = group_sums_equal(column_list, value=float(value), tolerance=float(tolerance))
        return pd.Series(ok, index=column_list.index)


class ExpectColumnSumWithinGroupsToEqual(MulticolumnMapExpectation):
    """Expect the last column of ``column_list`` to sum to ``value`` (± ``tolerance``) within each
    group formed by the other columns, e.g. ``["county_code", "month", "reallocation_delta"]``.

    Rows with a missing value are left out first (``ignore_row_if="any_value_is_missing"``), so
    units outside a county's allocation base (null delta) do not take part.
    """

    value: float = 0.0
    tolerance: float = 1e-6
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "any_value_is_missing"

    map_metric: ClassVar[str] = "multicolumn_values.sum_within_groups_equals"
    success_keys: ClassVar[tuple[str, ...]] = (
        "column_list",
        "value",
        "tolerance",
        "ignore_row_if",
        "mostly",
    )
    args_keys: ClassVar[tuple[str, ...]] = ("column_list", "value", "tolerance")

    library_metadata: ClassVar[dict] = {
        "maturity": "experimental",
        "tags": ["grassroots", "marts"],
        "contributors": ["grassroots"],
    }

    _prescriptive_renderer = plain_renderer(
        lambda kw: (
            f"{(kw.get('column_list') or ['?'])[-1]} sums to {kw.get('value', 0.0):g} "
            f"(± {kw.get('tolerance', 1e-6):g}) within each "
            f"{' and '.join((kw.get('column_list') or ['?'])[:-1]) or 'table'}"
        )
    )
