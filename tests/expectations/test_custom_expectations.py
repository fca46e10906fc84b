"""The custom Great Expectations classes of expectations/custom, on pandas DataFrames."""

from __future__ import annotations

import pandas as pd
import pytest

from grassroots import validation

# GB 11643: independent re-statement of the rule, so the test does not trust the code under test.
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def with_check_digit(first17: str) -> str:
    return first17 + CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def id_ending_in_x() -> str:
    for seq in range(1000):
        candidate = with_check_digit(f"44030619850312{seq:03d}")
        if candidate.endswith("X"):
            return candidate
    raise AssertionError("no X found")  # pragma: no cover


VALID_X = id_ending_in_x()
VALID = [
    "11010519491231002X",  # the textbook example, check character X
    VALID_X,
    with_check_digit("32010219900101123"),
    with_check_digit("65010219700707001"),
]
INVALID = [
    "110105194912310021",  # wrong check digit
    VALID[2][:-1] + str((int(VALID[2][-1]) + 1) % 10),  # off by one
    "11010519491231002",  # 17 characters
    "1101051949123100211",  # 19 characters
    "11010519491231002Y",  # not a check character
    "A1010519491231002X",  # not a digit
]


@pytest.fixture(scope="module")
def gx(tmp_path_factory):
    context = validation.get_context(tmp_path_factory.mktemp("gx"))
    _suites, custom = validation.import_expectations()
    return context, custom


def run(gx, frame: pd.DataFrame, expectation, name: str = "custom_test"):
    context, _ = gx
    datasource = context.data_sources.get("grassroots")
    try:
        asset = datasource.get_asset(name)
    except LookupError:
        asset = datasource.add_dataframe_asset(name)
        asset.add_batch_definition_whole_dataframe("whole")
    batch = asset.get_batch_definition("whole").get_batch(batch_parameters={"dataframe": frame})
    return batch.validate(expectation, result_format="SUMMARY")


def test_textbook_id_has_check_character_x():
    assert with_check_digit("11010519491231002") == "11010519491231002X"
    assert VALID_X.endswith("X")


@pytest.fixture(scope="module")
def checks(gx):
    """The pure vectorised checks (expectations/custom/_checks.py), imported the runner's way."""
    import importlib

    return importlib.import_module("expectations.custom._checks")


def test_pure_id_check_matches_independent_rule(checks):
    for value in VALID:
        assert checks.id_check_char(value[:17]) == value[-1]
    ok = checks.valid_chinese_id_numbers(pd.Series(VALID + INVALID + [None], dtype="string"))
    assert ok.tolist() == [True] * len(VALID) + [False] * len(INVALID) + [True]


def test_lowercase_x_only_when_allowed(checks):
    lower = pd.Series([VALID_X.lower()])
    assert not checks.valid_chinese_id_numbers(lower)[0]
    assert checks.valid_chinese_id_numbers(lower, allow_lowercase_x=True)[0]


def test_valid_ids_pass(gx):
    _, custom = gx
    frame = pd.DataFrame({"id_number": pd.array(VALID + [None], dtype="string[pyarrow]")})
    res = run(gx, frame, custom.ExpectColumnValuesToBeValidChineseIdNumber(column="id_number"))
    assert res.success, res.result
    assert res.result["unexpected_count"] == 0
    assert res.result["missing_count"] == 1


def test_invalid_ids_fail(gx):
    _, custom = gx
    frame = pd.DataFrame({"id_number": pd.array(VALID + INVALID, dtype="string[pyarrow]")})
    res = run(gx, frame, custom.ExpectColumnValuesToBeValidChineseIdNumber(column="id_number"))
    assert not res.success
    assert res.result["unexpected_count"] == len(INVALID)
    assert sorted(res.result["partial_unexpected_list"]) == sorted(INVALID)


def test_ids_in_object_dtype(gx):
    _, custom = gx
    frame = pd.DataFrame({"id_number": pd.Series([VALID[0], INVALID[0]], dtype=object)})
    res = run(gx, frame, custom.ExpectColumnValuesToBeValidChineseIdNumber(column="id_number"))
    assert res.result["unexpected_count"] == 1


T = pd.Timestamp
COLS = ["reported_at", "assigned_at", "first_response_at", "closed_at"]


def times(*rows):
    return pd.DataFrame([[None if v is None else T(v) for v in row] for row in rows], columns=COLS).astype(
        "datetime64[us]"
    )


def test_timestamps_in_order_with_nulls(gx):
    _, custom = gx
    frame = times(
        (
            "2024-03-01 08:00",
            "2024-03-01 09:00",
            "2024-03-01 10:00",
            "2024-03-02 08:00",
        ),
        ("2024-03-01 08:00", None, None, None),  # only reported
        ("2024-03-01 08:00", None, "2024-03-01 10:00", None),  # gaps
        (
            "2024-03-01 08:00",
            "2024-03-01 08:00",
            "2024-03-01 08:00",
            "2024-03-01 08:00",
        ),  # equal
    )
    res = run(gx, frame, custom.ExpectTimestampsInOrder(column_list=COLS))
    assert res.success, res.result


def test_timestamps_out_of_order(gx):
    _, custom = gx
    frame = times(
        (
            "2024-03-01 08:00",
            "2024-03-01 09:00",
            "2024-03-01 10:00",
            "2024-03-02 08:00",
        ),  # ok
        ("2024-03-02 08:00", None, None, "2024-03-01 08:00"),  # closed before reported
        (
            "2024-03-01 08:00",
            "2024-03-01 07:00",
            None,
            None,
        ),  # assigned before reported
        (
            "2024-03-01 08:00",
            "2024-03-01 09:00",
            None,
            "2024-03-01 08:30",
        ),  # closed < assigned
        (None, None, None, None),  # all missing: ignored
    )
    res = run(gx, frame, custom.ExpectTimestampsInOrder(column_list=COLS))
    assert not res.success
    assert res.result["unexpected_count"] == 3
    assert res.result["partial_unexpected_index_list"] == [1, 2, 3]


def test_timestamps_pyarrow_dtype(gx):
    _, custom = gx
    frame = times(("2024-03-02 08:00", None, None, "2024-03-01 08:00")).convert_dtypes(
        dtype_backend="pyarrow"
    )
    res = run(gx, frame, custom.ExpectTimestampsInOrder(column_list=COLS))
    assert res.result["unexpected_count"] == 1


def test_reference_set_membership(gx):
    _, custom = gx
    codes = frozenset(f"{110101001000 + i:012d}" for i in range(5000))
    ref = custom.register_reference_set("division_codes", codes)
    assert ref.startswith("division_codes:5000:")
    assert custom.register_reference_set("division_codes", codes) == ref  # cached, same answer
    frame = pd.DataFrame(
        {"unit_code": pd.array(["110101001000", "110101004999", "999999999999", None], "string")}
    )
    res = run(
        gx,
        frame,
        custom.ExpectColumnValuesToBeInReferenceSet(column="unit_code", reference=ref),
    )
    assert res.result["unexpected_count"] == 1
    assert res.result["partial_unexpected_list"] == ["999999999999"]


def test_unregistered_reference_set_fails(gx):
    _, custom = gx
    frame = pd.DataFrame({"unit_code": ["110101001000"]})
    exp = custom.ExpectColumnValuesToBeInReferenceSet(column="unit_code", reference="nope:1:x")
    res = run(gx, frame, exp)
    assert not res.success
    # GX 1.24 nests metric-resolution errors under the metric's id.
    infos = list(res.exception_info.values())
    assert infos and infos[0]["raised_exception"]
    assert "not registered" in infos[0]["exception_message"]


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pd.Series([1, 2], dtype="int64"), "numeric"),
        (pd.Series([1, None], dtype="Int64"), "numeric"),
        (pd.Series([0.5], dtype="double[pyarrow]"), "numeric"),
        (pd.Series(["a"], dtype="string[pyarrow]"), "string"),
        (pd.Series(["a"], dtype="str"), "string"),
        (pd.Series([T("2024-01-01")]), "datetime"),
        (pd.Series([T("2024-01-01")]).astype("timestamp[us][pyarrow]"), "datetime"),
        (pd.Series([pd.Timestamp("2024-01-01").date()], dtype=object), "datetime"),
        (pd.Series([None, None], dtype=object), "null"),
        (pd.Series(["12"], dtype=object), "string"),
    ],
)
def test_dtype_kind(checks, values, kind):
    assert checks.dtype_kind(values) == kind


def test_dtype_kind_expectation(gx):
    _, custom = gx
    frame = pd.DataFrame({"n": ["1", "2"]})
    res = run(gx, frame, custom.ExpectColumnDtypeKindToBeInSet(column="n", kinds=["numeric"]))
    assert not res.success
    assert res.result["observed_value"] == "string"


# --------------------------------------------------------------------------------------------
# Check digit 'X' in both directions, and mostly


def test_x_check_digit_expected_but_digit_given(gx):
    """An ID whose correct check character is X fails with any digit in its place, and a
    digit-checked ID fails with X."""
    _, custom = gx
    wrong = [VALID_X[:-1] + d for d in "0123456789"]
    digit_id = VALID[2]
    wrong.append(digit_id[:-1] + "X")
    frame = pd.DataFrame({"id_number": pd.array([VALID_X, *wrong], dtype="string")})
    res = run(gx, frame, custom.ExpectColumnValuesToBeValidChineseIdNumber(column="id_number"))
    assert res.result["unexpected_count"] == len(wrong)
    assert VALID_X not in res.result["partial_unexpected_list"]


def test_id_check_mostly_tolerates_a_few_bad_rows(gx):
    _, custom = gx
    values = [VALID[i % len(VALID)] for i in range(39)] + [INVALID[0]]
    frame = pd.DataFrame({"id_number": pd.array(values, dtype="string")})
    exp = custom.ExpectColumnValuesToBeValidChineseIdNumber(column="id_number", mostly=0.95)
    res = run(gx, frame, exp)
    assert res.success and res.result["unexpected_count"] == 1


def test_timestamps_mostly(gx):
    _, custom = gx
    good = ["2024-01-01 08:00", "2024-01-01 09:00", None, "2024-01-01 12:00"]
    bad = ["2024-01-01 08:00", None, None, "2024-01-01 07:00"]
    frame = times(*([good] * 19 + [bad]))
    res = run(gx, frame, custom.ExpectTimestampsInOrder(column_list=COLS, mostly=0.95))
    assert res.success and res.result["unexpected_count"] == 1
    res = run(gx, frame, custom.ExpectTimestampsInOrder(column_list=COLS))
    assert not res.success


# --------------------------------------------------------------------------------------------
# ExpectColumnSumWithinGroupsToEqual (the marts suite)


def _groups(values, counties=("A", "A", "B", "B", "C")):
    return pd.DataFrame(
        {
            "county_code": list(counties),
            "month": pd.to_datetime(["2024-03-01"] * len(counties)),
            "delta": values,
        }
    ).convert_dtypes(dtype_backend="pyarrow")


def test_pure_group_sums(checks):
    ok = checks.group_sums_equal(_groups([1.5, -1.5, 0.25, -0.2, 0.0]), value=0.0)
    assert ok.tolist() == [True, True, False, False, True]
    ok = checks.group_sums_equal(_groups([0.4, 0.6, 1.0, 0.0, 1.0]), value=1.0, tolerance=1e-9)
    assert ok.tolist() == [True] * 5
    empty = _groups([0.0], counties=("A",)).iloc[:0]
    assert checks.group_sums_equal(empty, value=0.0).tolist() == []


def test_group_sum_expectation(gx):
    _, custom = gx
    cols = ["county_code", "month", "delta"]
    frame = _groups([1.5, -1.5, 0.25, -0.2, None])
    res = run(
        gx,
        frame,
        custom.ExpectColumnSumWithinGroupsToEqual(column_list=cols, value=0.0, tolerance=1e-6),
    )
    assert not res.success
    # The two rows of county B; the null row is left out (ignore_row_if any missing).
    assert res.result["unexpected_count"] == 2
    assert res.result["element_count"] == 5
    fine = run(
        gx,
        _groups([1.5, -1.5, 0.2, -0.2, None]),
        custom.ExpectColumnSumWithinGroupsToEqual(column_list=cols, value=0.0),
    )
    assert fine.success and fine.result["unexpected_count"] == 0
