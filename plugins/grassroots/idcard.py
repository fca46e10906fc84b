"""Resident identity numbers (公民身份号码) per GB 11643-1999.

An 18-character number: 6-digit area code, 8-digit birth date (YYYYMMDD), 3-digit sequence (odd =
male), and a check character computed as ISO 7064 MOD 11-2: the weighted sum of the first 17 digits
with weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, mod 11, mapped through "10X98765432".

Three forms of the same rule, which the tests hold to agree with each other:

- ``check_digit`` / ``is_valid_id_number``: scalar Python, for single values and tests;
- ``check_digits``: numpy-vectorised, for generating many numbers;
- ``id_check_sql``: a DuckDB SQL boolean expression, for validating whole deliveries in the engine.

A lowercase ``x`` is accepted as the check character (suppliers' systems often lowercase it);
everything else must be ASCII digits. The birth date must be a real calendar date between
1900-01-01 and today.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
MIN_BIRTH_YEAR = 1900

_DIGITS = frozenset("0123456789")


def check_digit(first17: str) -> str:
    """The GB 11643 check character for a 17-digit prefix."""
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def birth_date(id_number: str) -> _dt.date | None:
    """The birth date encoded in an 18-character number, or None if it is not a real date."""
    try:
        return _dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def is_valid_id_number(s: object, today: _dt.date | None = None) -> bool:
    """True if ``s`` is a well-formed 18-character ID number with a correct check character."""
    if not isinstance(s, str) or len(s) != 18:
        return False
    first17, last = s[:17], s[17].upper()
    if not set(first17) <= _DIGITS or last not in CHECK_CHARS:
        return False
    born = birth_date(s)
    if born is None or born.year < MIN_BIRTH_YEAR or born > (today or _dt.date.today()):
        return False
    return check_digit(first17) == last


def check_digits(first17: np.ndarray) -> np.ndarray:
    """Vectorised ``check_digit`` over an array of 17-digit strings; returns an array of 1-char str."""
    prefixes = np.asarray(first17, dtype="U17")
    if prefixes.size == 0:
        return np.asarray([], dtype="U1")
    codes = prefixes.astype("S17").view(np.uint8).reshape(-1, 17).astype(np.int64) - ord("0")
    if (codes < 0).any() or (codes > 9).any() or (np.char.str_len(prefixes) != 17).any():
        raise ValueError("every prefix must be exactly 17 ASCII digits")
    total = codes @ np.asarray(WEIGHTS, dtype=np.int64)
    return np.asarray(list(CHECK_CHARS), dtype="U1")[total % 11]


def with_check_digits(first17: np.ndarray) -> np.ndarray:
    """Complete 17-digit prefixes to 18-character ID numbers (vectorised)."""
    prefixes = np.asarray(first17, dtype="U17")
    return np.char.add(prefixes, check_digits(prefixes))


def id_check_sql(column: str) -> str:
    """A DuckDB boolean SQL expression: is ``column`` a valid ID number (never NULL)?

    ``column`` is inserted as given (quote it yourself if needed). Safe on any VARCHAR input: no
    cast in the expression can raise, and NULL input yields false.
    """
    c = column
    digit = "coalesce(try_cast(substr({c}, {i}, 1) AS INTEGER), 0)"
    weighted = " + ".join(f"{w} * " + digit.format(c=c, i=i) for i, w in enumerate(WEIGHTS, start=1))
    born = f"try_cast(substr({c}, 7, 4) || '-' || substr({c}, 11, 2) || '-' || substr({c}, 13, 2) AS DATE)"
    return (
        "coalesce(("
        f"length({c}) = 18"
        f" AND regexp_full_match({c}, '[0-9]{{17}}[0-9Xx]')"
        f" AND {born} BETWEEN DATE '{MIN_BIRTH_YEAR}-01-01' AND current_date"
        f" AND substr('{CHECK_CHARS}', (({weighted}) % 11) + 1, 1) = upper(substr({c}, 18, 1))"
        "), false)"
    )
