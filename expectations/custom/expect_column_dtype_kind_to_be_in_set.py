"""ExpectColumnDtypeKindToBeInSet: a coarse type check that works with numpy and pyarrow dtypes.

The built-in ``ExpectColumnValuesToBeInTypeList`` needs every concrete dtype spelled out
(``int64``, ``Int64``, ``int64[pyarrow]``, ``datetime64[us]``, ``timestamp[us][pyarrow]``...); the
feeds only need to know that a count is numeric and a date is a date.
"""

from __future__ import annotations

from typing import ClassVar

from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnAggregateExpectation
from great_expectations.expectations.metrics.column_aggregate_metric_provider import (
    ColumnAggregateMetricProvider,
    column_aggregate_value,
)

from ._checks import dtype_kind
from ._render import plain_renderer

KINDS = ("numeric", "datetime", "string", "boolean", "null", "other")


class ColumnDtypeKind(ColumnAggregateMetricProvider):
    metric_name = "column.dtype_kind"
    value_keys = ()

    @column_aggregate_value(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs) -> str:
        return dtype_kind(column)


class ExpectColumnDtypeKindToBeInSet(ColumnAggregateExpectation):
    """Expect the column's kind (one of KINDS) to be one of ``kinds``."""

    kinds: list[str]

    metric_dependencies: ClassVar[tuple[str, ...]] = ("column.dtype_kind",)
    success_keys: ClassVar[tuple[str, ...]] = ("kinds",)
    args_keys: ClassVar[tuple[str, ...]] = ("column", "kinds")

    library_metadata: ClassVar[dict] = {
        "maturity": "experimental",
        "tags": ["grassroots", "schema"],
        "contributors": ["grassroots"],
    }

    _prescriptive_renderer = plain_renderer(
        lambda kw: f"{kw.get('column')} holds values of the kind {' or '.join(kw.get('kinds') or [])}"
    )

    def _validate(self, metrics, runtime_configuration=None, execution_engine=None):
        kind = metrics["column.dtype_kind"]
        return {"success": kind in self.kinds, "result": {"observed_value": kind}}
