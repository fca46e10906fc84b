"""ExpectColumnValuesToBeInReferenceSet: membership in a large, process-registered set of codes.

The built-in ``ExpectColumnValuesToBeInSet`` carries its value set inside the expectation config. With
the ~660,000 statistical division codes that costs ~100 s per validation in GX 1.24 (the set is
copied, hashed and serialised with every metric and result) and writes megabytes into every stored
validation result. This expectation carries only a short reference (name, size, content digest); the
set itself is registered once per process with :func:`register_reference_set`.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable
from typing import ClassVar

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from ._render import plain_renderer

_REFERENCE_SETS: dict[str, pd.Index] = {}
# Registering the same (unchanged) set object again is free: id -> (weakref, size, reference).
_BY_OBJECT: dict[tuple[str, int], tuple[weakref.ref, int, str]] = {}


def register_reference_set(name: str, values: Iterable[str]) -> str:
    """Register a set of allowed values and return the reference to pass to the expectation.

    The reference is ``<name>:<count>:<sha256 prefix of the sorted values>``, so a result states
    exactly which set it was validated against without containing it. Hashing 660,000 codes
    takes ~0.7 s; passing the same set or frozenset object again (same size) reuses the result.
    """
    key = (name, id(values))
    cached = _BY_OBJECT.get(key)
    if cached is not None and cached[0]() is values and cached[1] == len(values):  # type: ignore[arg-type]
        return cached[2]
    reference = _register(name, values)
    try:
        _BY_OBJECT[key] = (weakref.ref(values), len(values), reference)  # type: ignore[arg-type]
    except TypeError:  # not weak-referenceable (e.g. a list): no caching
        pass
    return reference


def _register(name: str, values: Iterable[str]) -> str:
    ordered = sorted({str(v) for v in values})
    digest = hashlib.sha256("\n".join(ordered).encode("utf-8")).hexdigest()[:16]
    reference = f"{name}:{len(ordered)}:{digest}"
    if reference not in _REFERENCE_SETS:
        _REFERENCE_SETS[reference] = pd.Index(ordered, dtype="string[pyarrow]")
    return reference


def get_reference_set(reference: str) -> pd.Index:
    try:
        return _REFERENCE_SETS[reference]
    except KeyError:
        raise KeyError(
            f"reference set {reference!r} is not registered in this process; "
            "call register_reference_set() before validating"
        ) from None


class ColumnValuesInReferenceSet(ColumnMapMetricProvider):
    condition_metric_name = "column_values.in_reference_set"
    condition_value_keys = ("reference",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, reference: str, **kwargs) -> pd.Series:
        allowed = get_reference_set(reference)
        found = allowed.get_indexer(column.astype("string[pyarrow]")) >= 0
        return pd.Series(found, index=column.index)


class ExpectColumnValuesToBeInReferenceSet(ColumnMapExpectation):
    """Expect each non-null value to be in the registered reference set named by ``reference``."""

    reference: str

    map_metric: ClassVar[str] = "column_values.in_reference_set"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "reference")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "reference")

    library_metadata: ClassVar[dict] = {
        "maturity": "experimental",
        "tags": ["grassroots", "reference data"],
        "contributors": ["grassroots"],
    }

    _prescriptive_renderer = plain_renderer(
        lambda kw: f"every {kw.get('column')} is a code of the reference list “{kw.get('reference')}”"
    )
