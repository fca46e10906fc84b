"""ExpectColumnValuesToBeValidChineseIdNumber: 18-character resident ID with a GB 11643 check digit."""

from __future__ import annotations

from typing import ClassVar

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from ._checks import valid_chinese_id_numbers
from ._render import plain_renderer


class ColumnValuesValidChineseIdNumber(ColumnMapMetricProvider):
    """Row-wise: the value is 17 digits plus a check character ('0'-'9' or 'X') that matches."""

    condition_metric_name = "column_values.valid_chinese_id_number"
    condition_value_keys = ("allow_lowercase_x",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, allow_lowercase_x: bool = False, **kwargs) -> pd.Series:
        ok = valid_chinese_id_numbers(column, allow_lowercase_x=bool(allow_lowercase_x))
        return pd.Series(ok, index=column.index)


class ExpectColumnValuesToBeValidChineseIdNumber(ColumnMapExpectation):
    """Expect each non-null value to be an 18-character resident ID number whose last character is
    the GB 11643-1999 (ISO 7064 MOD 11-2) check character, 'X' standing for 10.

    Args:
        column: the column holding ID numbers (as text; leading zeros matter).
        allow_lowercase_x: accept 'x' as well as 'X' for a check value of 10 (default False).
        mostly: the usual share of rows that must pass.
    """

    allow_lowercase_x: bool = False

    map_metric: ClassVar[str] = "column_values.valid_chinese_id_number"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "allow_lowercase_x")
    args_keys: ClassVar[tuple[str, ...]] = ("column",)

    library_metadata: ClassVar[dict] = {
        "maturity": "experimental",
        "tags": ["grassroots", "pii", "gb11643"],
        "contributors": ["grassroots"],
    }

    _prescriptive_renderer = plain_renderer(
        lambda kw: (
            f"every {kw.get('column')} is an 18-character resident ID number whose last character "
            "is the GB 11643 check digit"
        )
    )
