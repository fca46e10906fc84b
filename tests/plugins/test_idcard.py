"""GB 11643 ID numbers: scalar, numpy and SQL forms agree."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from grassroots.idcard import (
    check_digit,
    check_digits,
    id_check_sql,
    is_valid_id_number,
    with_check_digits,
)

# The standard's own example (GB 11643-1999 annex): check character X.
STANDARD_EXAMPLE = "11010519491231002X"


def _first_prefix_with(check: str) -> str:
    for i in range(10_000):
        prefix = f"110105199001{i % 28 + 1:02d}{i % 1000:03d}"
        if check_digit(prefix) == check:
            return prefix
    raise AssertionError("no prefix found")


def test_check_digit_known_values() -> None:
    assert check_digit("11010519491231002") == "X"
    # By hand: digits x weights = 28+36+0+15+0+16+2+9+48+0+0+9+0+5+0+0+2 = 170; 170 mod 11 = 5;
    # "10X98765432"[5] = "7".
    assert check_digit("44030419800101001") == "7"
    assert is_valid_id_number("440304198001010017")
    assert is_valid_id_number(STANDARD_EXAMPLE)


def test_constructed_x_check_digit() -> None:
    prefix = _first_prefix_with("X")
    assert is_valid_id_number(prefix + "X")
    assert is_valid_id_number(prefix + "x")  # lowercase accepted
    assert not is_valid_id_number(prefix + "0")


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002",  # 17 chars
        "11010519491231002X1",  # 19 chars
        "11010519491231002Y",  # bad check char
        "110105194912310021",  # wrong check digit
        "1101051949123100AX",  # letter in body
        "110105194913310022",  # month 13 (check digit adjusted below)
        "",
        None,
        110105194912310020,
    ],
)
def test_invalid_rejected(value: object) -> None:
    assert not is_valid_id_number(value)


def test_implausible_birth_dates_rejected_even_with_right_check_digit() -> None:
    for body in ("11010518991231002", "11010519490230002", "11010521000101002"):
        assert not is_valid_id_number(body + check_digit(body)), body
    assert is_valid_id_number("11010520240229002" + check_digit("11010520240229002"))


def test_check_digit_rejects_non_digits() -> None:
    with pytest.raises(ValueError):
        check_digit("1101051949123100A")


def test_numpy_form_matches_scalar() -> None:
    rng = np.random.default_rng(1)
    prefixes = np.char.zfill(rng.integers(0, 10**17, 2000, dtype=np.int64).astype("U17"), 17)
    expected = [check_digit(p) for p in prefixes]
    assert list(check_digits(prefixes)) == expected
    full = with_check_digits(prefixes[:3])
    assert [f[:17] for f in full] == list(prefixes[:3])


def _sample(n: int = 3000) -> list[str | None]:
    """Valid numbers plus many kinds of invalid ones."""
    rng = np.random.default_rng(7)
    base = dt.date(1950, 1, 1).toordinal()
    out: list[str | None] = []
    for i in range(n):
        born = dt.date.fromordinal(base + int(rng.integers(0, 27000)))
        prefix = f"{int(rng.integers(110000, 660000)):06d}{born:%Y%m%d}{int(rng.integers(0, 999)):03d}"
        good = prefix + check_digit(prefix)
        kind = i % 6
        if kind == 0:
            out.append(good)
        elif kind == 1:
            out.append(prefix + "0123456789X"[int(rng.integers(0, 11))])  # random check char
        elif kind == 2:
            out.append(good[:10] + "1332" + good[14:])  # impossible date
        elif kind == 3:
            out.append(good[:-1])  # truncated
        elif kind == 4:
            out.append(good.lower() if good.endswith("X") else good[:5] + "a" + good[6:])
        else:
            out.append(None if i % 12 == 5 else good + " ")
    out += [STANDARD_EXAMPLE, _first_prefix_with("X") + "X", "", "X" * 18]
    return out


def test_sql_expression_agrees_with_python() -> None:
    values = _sample()
    con = duckdb.connect()
    t = pa.table({"i": list(range(len(values))), "id_number": pa.array(values, pa.string())})
    con.register("t", t)
    got = dict(con.execute(f"SELECT i, {id_check_sql('id_number')} FROM t").fetchall())
    expected = {i: is_valid_id_number(v) for i, v in enumerate(values)}
    assert got == expected
    assert sum(expected.values()) > 500  # the sample has plenty of valid ones
    assert sum(not v for v in expected.values()) > 1000
    con.close()
