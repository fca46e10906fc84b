"""ExpectColumnSumWithinGroupsToBeAtMost: a column sums to at most a value within each group of rows.

For the staff roster: one person's FTE over all the units of one delivery's snapshot is at most 1.0
(``["id_number", "snapshot_date", "fte"]``, active posts only by row condition; docs/methodology.md,
"One person's FTE across units"). A row-wise (multicolumn map) expectation, so GX counts and samples
every post of the persons above the bound (the ID number masked like any personal value).
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

from ._checks import group_sums_at_most
from ._render import plain_renderer


class MulticolumnSumWithinGroupsAtMost(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.sum_within_groups_at_most"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_list",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ("max_value", "tolerance")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        column_list: pd.DataFrame,
        max_value: float = 1.0,
        tolerance: float = 1e-9,
        **kwargs,
    ) -> pd.Series:
        ok = group_sums_at_most(column_list, max_value=float(max_value), tolerance=float(tolerance))
        return pd.Series(ok, index=column_list.index)


class ExpectColumnSumWithinGroupsToBeAtMost(MulticolumnMapExpectation):
    """Expect the last column of ``column_list`` to sum to at most ``max_value`` (+ ``tolerance``)
    within each group formed by the other columns, e.g. ``["id_number", "snapshot_date", "fte"]``.

    Rows with a missing value are left out first (``ignore_row_if="any_value_is_missing"``).
    """

    max_value: float = 1.0
    tolerance: float = 1e-9
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "any_value_is_missing"

    map_metric: ClassVar[str] = "multicolumn_values.sum_within_groups_at_most"
    success_keys: ClassVar[tuple[str, ...]] = (
        "column_list",
        "max_value",
        "tolerance",
        "ignore_row_if",
        "mostly",
    )
    args_keys: ClassVar[tuple[str, ...]] = ("column_list", "max_value", "tolerance")

    library_metadata: ClassVar[dict] = {
        "maturity": "experimental",
        "tags": ["grassroots", "staff_roster"],
        "contributors": ["grassroots"],
    }

    _prescriptive_renderer = plain_renderer(
        lambda kw: (
            f"{(kw.get('column_list') or ['?'])[-1]} sums to at most {kw.get('max_value', 1.0):g} "
            f"within each {' and '.join((kw.get('column_list') or ['?'])[:-1]) or 'table'}"
        )
    )
