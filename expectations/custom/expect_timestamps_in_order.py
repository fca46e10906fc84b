"""ExpectTimestampsInOrder: listed timestamp columns are non-decreasing along each row (nulls skipped)."""

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

from ._checks import timestamps_in_order
from ._render import plain_renderer


class MulticolumnTimestampsInOrder(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.timestamps_in_order"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_list",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ()

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list: pd.DataFrame, **kwargs) -> pd.Series:
        return pd.Series(timestamps_in_order(column_list), index=column_list.index)


class ExpectTimestampsInOrder(MulticolumnMapExpectation):
    """Expect the timestamps in ``column_list`` to be in order along each row: every non-null value
    is at or after the latest non-null value in the columns before it (e.g. reported_at ≤
    assigned_at ≤ first_response_at ≤ closed_at). Nulls are allowed and skipped, so a case closed
    before it was reported fails even when it was never assigned.
    """

    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = (
        "all_values_are_missing"
    )

    map_metric: ClassVar[str] = "multicolumn_values.timestamps_in_order"
    success_keys: ClassVar[tuple[str, ...]] = ("column_list", "ignore_row_if", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column_list",)

    library_metadata: ClassVar[dict] = {
        "maturity": "experimental",
        "tags": ["grassroots", "timestamps"],
        "contributors": ["grassroots"],
    }

    _prescriptive_renderer = plain_renderer(
        lambda kw: (
            f"on every row, {' ≤ '.join(kw.get('column_list') or [])} "
            "(times in this order; missing ones are skipped)"
        )
    )
