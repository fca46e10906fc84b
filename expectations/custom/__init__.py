"""Custom Great Expectations 1.x expectation classes (pandas engine).

Importing this package imports Great Expectations (~5 s) and registers the classes with it: import
it only from inside functions, never from a DAG file's top level.
"""

from .expect_column_dtype_kind_to_be_in_set import ExpectColumnDtypeKindToBeInSet
from .expect_column_sum_within_groups_to_be_at_most import (
    ExpectColumnSumWithinGroupsToBeAtMost,
)
from .expect_column_sum_within_groups_to_equal import (
    ExpectColumnSumWithinGroupsToEqual,
)
from .expect_column_values_to_be_in_reference_set import (
    ExpectColumnValuesToBeInReferenceSet,
    get_reference_set,
    register_reference_set,
)
from .expect_column_values_to_be_valid_chinese_id_number import (
    ExpectColumnValuesToBeValidChineseIdNumber,
)
from .expect_timestamps_in_order import ExpectTimestampsInOrder

__all__ = [
    "ExpectColumnDtypeKindToBeInSet",
    "ExpectColumnSumWithinGroupsToBeAtMost",
    "ExpectColumnSumWithinGroupsToEqual",
    "ExpectColumnValuesToBeInReferenceSet",
    "ExpectColumnValuesToBeValidChineseIdNumber",
    "ExpectTimestampsInOrder",
    "get_reference_set",
    "register_reference_set",
]
