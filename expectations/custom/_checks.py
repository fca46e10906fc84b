"""Vectorised checks behind the custom expectations, free of any Great Expectations import.

Each function takes a pandas Series (nulls already removed by GX, but handled anyway) and returns a
boolean numpy array: True where the value is acceptable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# GB 11643-1999: weight of position i (0-based, left to right) is 2**(17 - i) mod 11.
ID_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
CHECK_CHARS = "10X98765432"  # index: weighted sum mod 11
_ID_PATTERN = r"[0-9]{17}[0-9X]"
_ID_PATTERN_LOWER_X = r"[0-9]{17}[0-9Xx]"


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of a resident ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * int(w) for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def valid_chinese_id_numbers(values: pd.Series, *, allow_lowercase_x: bool = False) -> np.ndarray:
    """True where a value is an 18-character GB 11643 resident ID with a correct check character.

    Only the format (17 digits + digit or 'X') and the check character are tested, not whether the
    region code or birth date exist. Null values count as valid (GX filters them before this runs).
    """
    s = values.astype("string")
    nulls = s.isna().to_numpy(dtype=bool, na_value=True)
    pattern = _ID_PATTERN_LOWER_X if allow_lowercase_x else _ID_PATTERN
    well_formed = s.str.fullmatch(pattern).to_numpy(dtype=bool, na_value=False)
    ok = nulls.copy()
    if well_formed.any():
        chosen = s[well_formed]
        if allow_lowercase_x:
            chosen = chosen.str.upper()
        raw = np.frombuffer("".join(chosen.tolist()).encode("ascii"), dtype=np.uint8)
        raw = raw.reshape(-1, 18)
        digits = raw[:, :17].astype(np.int64) - ord("0")
        expected = (digits @ ID_WEIGHTS) % 11  # index into CHECK_CHARS
        check_codes = np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)
        ok[well_formed] = check_codes[expected] == raw[:, 17]
    return ok


def timestamps_in_order(frame: pd.DataFrame) -> np.ndarray:
    """True where the non-null values of each row are non-decreasing from left to right.

    Nulls are skipped: each non-null value is compared with the latest non-null value before it, so
    ``reported ≤ closed`` is still checked when ``assigned`` and ``first_response`` are missing.
    """
    ok = np.ones(len(frame), dtype=bool)
    running_max: pd.Series | None = None
    for name in frame.columns:
        col = frame[name]
        if running_max is None:
            running_max = col
            continue
        bad = (col < running_max).to_numpy(dtype=bool, na_value=False)
        ok &= ~bad
        newer = (col > running_max).to_numpy(dtype=bool, na_value=False) | (
            running_max.isna().to_numpy(dtype=bool) & col.notna().to_numpy(dtype=bool)
        )
        running_max = running_max.mask(newer, col)
    return ok


def dtype_kind(column: pd.Series) -> str:
    """A coarse kind for a pandas column: numeric, datetime, string, boolean, null or other.

    ``null`` is an object column with no values at all (nothing to contradict any type).
    """
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    text = str(dtype)
    if text.startswith(("date32", "date64", "timestamp")):
        return "datetime"
    is_object = str(dtype) == "object"
    if pd.api.types.is_string_dtype(dtype) and not is_object:
        return "string"
    if is_object:
        # Decide from the values: python dates/datetimes, strings or numbers.
        sample = column.dropna()
        if sample.empty:
            return "null"
        import datetime as _dt

        kinds = {type(v) for v in sample.iloc[:1000]}
        if all(issubclass(k, (_dt.date, pd.Timestamp)) for k in kinds):
            return "datetime"
        if all(issubclass(k, str) for k in kinds):
            return "string"
        if all(issubclass(k, (int, float, np.number)) and not issubclass(k, bool) for k in kinds):
            return "numeric"
    return "other"


def _group_totals(frame: pd.DataFrame) -> np.ndarray:
    """Per row, the sum of the last column over the row's group (all other columns; the whole
    frame when there are none). Null summands count as 0."""
    if len(frame) == 0:
        return np.zeros(0)
    values = pd.to_numeric(frame.iloc[:, -1], errors="coerce").astype("float64").fillna(0.0).to_numpy()
    keys = list(frame.columns[:-1])
    if not keys:
        return np.full(len(frame), values.sum())
    labels = frame.groupby(keys, dropna=False, sort=False, observed=True).ngroup().to_numpy()
    return np.bincount(labels, weights=values)[labels]


def group_sums_equal(frame: pd.DataFrame, *, value: float = 0.0, tolerance: float = 1e-6) -> np.ndarray:
    """True where the sum of the last column over the row's group equals ``value`` (± tolerance).

    The group is given by all columns but the last (e.g. county_code, month, reallocation_delta:
    the reallocation deltas of each county and month sum to zero). Every row of a group gets the
    group's verdict, so the unexpected rows are all the rows of the groups that do not add up.
    Null summands count as 0 (GX drops rows with missing values first when asked to).
    """
    return np.abs(_group_totals(frame) - value) <= tolerance


def group_sums_at_most(frame: pd.DataFrame, *, max_value: float = 1.0, tolerance: float = 1e-9) -> np.ndarray:
    """True where the sum of the last column over the row's group is at most ``max_value`` (+ tolerance).

    The group is given by all columns but the last (e.g. id_number, snapshot_date, fte: one person's
    FTE over all units of a roster snapshot). Every row of a group gets the group's verdict, so the
    unexpected rows are all the posts of the persons above the bound. Null summands count as 0.
    """
    return _group_totals(frame) <= max_value + tolerance
