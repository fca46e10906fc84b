"""grassroots.validation: suites per feed, severities, PII masking and the audit frame."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from grassroots import validation
from grassroots.feeds import FEEDS

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
DELIVERY = "2024-03-05"
N = 40
# Village-level codes (not ending in 000) plus their township.
CODES = [f"1101050010{i:02d}" for i in range(1, N + 1)] + ["110105001000"]
VALID_CODES = frozenset(CODES)


def id_number(i: int) -> str:
    first17 = f"1101051985{(i % 12) + 1:02d}{(i % 28) + 1:02d}{i % 1000:03d}"
    return (
        first17
        + CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]
    )


def staff_roster(n: int = N) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "staff_id": [f"S{i:05d}" for i in range(n)],
            "name": [f"张{i}" for i in range(n)],
            "id_number": [id_number(i) for i in range(n)],
            "phone": [f"1380013{i:04d}" for i in range(n)],
            "unit_code": [CODES[i % N] for i in range(n)],
            "post_category": ["community_worker", "grid_worker"] * (n // 2),
            "fte": [1.0, 0.5] * (n // 2),
            "hire_date": pd.to_datetime(["2019-05-01"] * n),
            "exit_date": pd.to_datetime([None] * (n - 1) + ["2024-01-31"]),
            "education": ["bachelor"] * n,
            "social_work_cert": ["none", "assistant"] * (n // 2),
            "snapshot_date": pd.to_datetime(["2024-02-29"] * n),
        }
    ).convert_dtypes(dtype_backend="pyarrow")


def household_registration(n: int = N) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_code": CODES[:n],
            "as_of_date": [dt.date(2024, 2, 29)]
            * n,  # python dates: normalised by the runner
            "registered_population": [3000 + 10 * i for i in range(n)],
            "registered_households": [1000 + i for i in range(n)],
            "registered_age_65_plus": [400] * n,
        }
    )


def resident_population(n: int = N) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_code": pd.array(CODES[:n], dtype="string[pyarrow]"),
            "as_of_date": pd.to_datetime(["2023-12-31"] * n),
            "resident_population": pd.array(
                [2500 + i for i in range(n)], dtype="int64[pyarrow]"
            ),
            "resident_households": pd.array([900] * n, dtype="int64[pyarrow]"),
            "floating_population_in": pd.array([100] * n, dtype="int64[pyarrow]"),
            "residents_age_65_plus": pd.array([300] * n, dtype="int64[pyarrow]"),
            "vulnerable_persons": pd.array(
                [None] + [20] * (n - 1), dtype="int64[pyarrow]"
            ),
        }
    )


def case_log(n: int = N) -> pd.DataFrame:
    reported = pd.Timestamp("2024-03-04 08:00") + pd.to_timedelta(range(n), unit="min")
    closed = pd.Series(reported + pd.Timedelta("5h")).where(
        [i % 3 != 0 for i in range(n)]
    )
    return pd.DataFrame(
        {
            "case_id": [f"C{i:06d}" for i in range(n)],
            "unit_code": [CODES[i % N] for i in range(n)],
            "channel": ["hotline_12345", "grid_patrol", "mobile_app", "walk_in"]
            * (n // 4),
            "category": ["utilities", "consultation"] * (n // 2),
            "reported_at": reported,
            "assigned_at": reported + pd.Timedelta("1h"),
            "first_response_at": [
                None if i % 5 == 0 else t + pd.Timedelta("2h")
                for i, t in enumerate(reported)
            ],
            "closed_at": closed,
            "status": ["closed", "open"] * (n // 2),
            "escalated_to_level": ["none", "township"] * (n // 2),
            "handled_by_unit_code": [CODES[i % N] for i in range(n)],
            "satisfaction": ["satisfied", None] * (n // 2),
            "reporter_phone": [f"1391234{i:04d}" for i in range(n)],
            "description": ["路灯不亮"] * n,
            "updated_at": reported + pd.Timedelta("6h"),
        }
    ).convert_dtypes(dtype_backend="pyarrow")


GOOD = {
    "staff_roster": staff_roster,
    "household_registration": household_registration,
    "resident_population": resident_population,
    "case_log": case_log,
}


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory):
    return tmp_path_factory.mktemp("gx")


@pytest.fixture(scope="module")
def context(gx_root):
    return validation.get_context(gx_root)


def check(context, feed, df, *, previous_row_count=None, file_name=None, **kw):
    return validation.validate_delivery(
        feed,
        df,
        valid_unit_codes=VALID_CODES,
        file_name=file_name or f"{feed}_{DELIVERY}.csv",
        delivery_date=DELIVERY,
        run_id="test-run",
        previous_row_count=previous_row_count,
        context=context,
        **kw,
    )


def failed(report):
    return {(o.rule, o.severity) for o in report.results if not o.success}


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_good_delivery_passes(context, feed):
    report = check(context, feed, GOOD[feed](), previous_row_count=N)
    assert failed(report) == set(), [
        o.describe() for o in report.results if not o.success
    ]
    assert not report.critical_failed and report.warnings == 0
    report.raise_if_critical()
    assert report.stored


def _set(df, col, idx, value):
    df = df.copy()
    df[col] = df[col].astype(object)
    df.loc[idx, col] = value
    return df


def _dup_key(df):
    return pd.concat([df, df.iloc[[3]]], ignore_index=True)


def _closed_before_reported(df):
    df = df.copy()
    df.loc[1, "closed_at"] = df.loc[1, "reported_at"] - pd.Timedelta("1h")
    return df


def _bad_check_digit(df):
    bad = id_number(7)[:-1] + ("0" if id_number(7)[-1] != "0" else "1")
    return _set(df, "id_number", 7, bad)


BAD = [
    (
        "case_log",
        lambda d: _set(d, "unit_code", 2, "999999999999"),
        "unit_code.known",
        "critical",
    ),
    (
        "case_log",
        lambda d: _set(d, "unit_code", 2, "11010500101"),
        "unit_code.format",
        "critical",
    ),
    ("case_log", lambda d: _set(d, "channel", 0, "fax"), "channel.in_enum", "critical"),
    (
        "case_log",
        lambda d: _set(d, "satisfaction", 0, "meh"),
        "satisfaction.in_enum",
        "warning",
    ),
    ("case_log", _closed_before_reported, "timestamps.in_order", "critical"),
    ("case_log", _dup_key, "key.unique", "critical"),
    ("case_log", lambda d: d.drop(columns=["status"]), "status.exists", "critical"),
    ("staff_roster", lambda d: _set(d, "fte", 4, 1.5), "fte.range", "critical"),
    (
        "staff_roster",
        lambda d: _set(d, "post_category", 4, "mayor"),
        "post_category.in_enum",
        "critical",
    ),
    ("staff_roster", _bad_check_digit, "id_number.check_digit", "critical"),
    ("staff_roster", _dup_key, "key.unique", "critical"),
    (
        "household_registration",
        lambda d: _set(d, "registered_population", 1, -5),
        "registered_population.non_negative",
        "critical",
    ),
    (
        "household_registration",
        lambda d: d.assign(
            registered_households=d["registered_households"].astype(str)
        ),
        "registered_households.type",
        "critical",
    ),
    (
        "resident_population",
        lambda d: _set(d, "vulnerable_persons", 1, -1),
        "vulnerable_persons.non_negative",
        "critical",
    ),
    (
        "resident_population",
        lambda d: _set(d, "resident_population", 1, 350_000),
        "resident_population.plausible",
        "warning",
    ),
    (
        "resident_population",
        lambda d: d.assign(as_of_date=pd.to_datetime(["2022-06-30"] * len(d))),
        "as_of_date.fresh",
        "warning",
    ),
]


@pytest.mark.parametrize(
    ("feed", "mutate", "rule", "severity"), BAD, ids=[b[2] for b in BAD]
)
def test_bad_delivery_fails_rule(context, feed, mutate, rule, severity):
    report = check(context, feed, mutate(GOOD[feed]()), store_results=False)
    assert (rule, severity) in failed(report)
    if severity == "critical":
        assert report.critical_failed
        with pytest.raises(validation.ValidationFailed) as err:
            report.raise_if_critical()
        text = str(err.value)
        assert f"{feed}_{DELIVERY}.csv" in text and repr(feed) in text and rule in text
        assert err.value.suite == feed
    else:
        assert not report.critical_failed and report.warnings >= 1
        report.raise_if_critical()  # warnings only: no exception


def test_village_of_ten_million(context):
    df = _set(household_registration(), "registered_population", 3, 10_000_000)
    report = check(context, "household_registration", df, store_results=False)
    assert ("registered_population.possible", "critical") in failed(report)
    assert ("registered_population.plausible", "warning") in failed(report)
    outcome = next(
        o for o in report.results if o.rule == "registered_population.possible"
    )
    assert outcome.unexpected_count == 1 and outcome.unexpected_sample == [10_000_000]
    assert outcome.unexpected_rows == [3]


def test_large_township_is_not_a_village(context):
    df = household_registration()
    df.loc[N, :] = ["110105001000", dt.date(2024, 2, 29), 250_000, 90_000, 30_000]
    df = df.astype({"registered_population": "int64", "registered_households": "int64"})
    assert (
        failed(check(context, "household_registration", df, store_results=False))
        == set()
    )


def test_empty_delivery_is_critical(context):
    report = check(context, "case_log", case_log().iloc[:0], previous_row_count=N)
    assert ("rows.not_empty", "critical") in failed(report)
    with pytest.raises(validation.ValidationFailed, match="rows.not_empty"):
        report.raise_if_critical()


@pytest.mark.parametrize(("previous", "expected"), [(100, True), (60, False)])
def test_row_count_change_is_a_warning(context, previous, expected):
    report = check(
        context,
        "case_log",
        case_log(),
        previous_row_count=previous,
        store_results=False,
    )
    assert (("rows.change_vs_previous", "warning") in failed(report)) is expected
    assert not report.critical_failed


def test_importing_the_runner_is_cheap():
    import subprocess
    import sys

    code = (
        "import sys, grassroots.validation; "
        "print('great_expectations' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_without_unit_codes_only_format_is_checked(context):
    df = _set(case_log(), "unit_code", 2, "999999999999")
    report = validation.validate_delivery(
        "case_log",
        df,
        valid_unit_codes=None,
        file_name="x.csv",
        delivery_date=DELIVERY,
        run_id="r",
        context=context,
        store_results=False,
    )
    assert failed(report) == set()
    assert "unit_code.known" not in {o.rule for o in report.results}


def test_batched_validation_merges_and_keeps_global_uniqueness(context):
    df = _closed_before_reported(case_log(200))
    df = pd.concat([df, df.iloc[[150]]], ignore_index=True)  # duplicate across batches
    df = _set(df, "channel", 120, "fax")
    whole = check(context, "case_log", df, store_results=False)
    batched = check(context, "case_log", df, store_results=False, batch_rows=64)
    assert (
        failed(batched)
        == failed(whole)
        == {
            ("key.unique", "critical"),
            ("timestamps.in_order", "critical"),
            ("channel.in_enum", "critical"),
        }
    )
    for a, b in zip(whole.results, batched.results, strict=True):
        assert (a.rule, a.element_count, a.unexpected_count) == (
            b.rule,
            b.element_count,
            b.unexpected_count,
        )
    assert validation.results_frame(batched)["expectation"].tolist() == (
        validation.results_frame(whole)["expectation"].tolist()
    )


def test_results_frame_layout(context):
    report = check(
        context,
        "staff_roster",
        _set(staff_roster(), "fte", 4, 1.5),
        store_results=False,
    )
    frame = validation.results_frame(report)
    assert list(frame.columns) == [
        "run_id",
        "feed",
        "delivery_date",
        "file",
        "suite",
        "expectation",
        "column",
        "severity",
        "success",
        "element_count",
        "unexpected_count",
        "unexpected_percent",
        "unexpected_sample",
    ]
    assert len(frame) == len(report.results)
    assert set(frame["severity"]) == {"critical", "warning"}
    row = frame[
        (frame["expectation"] == "expect_column_values_to_be_between")
        & (frame["column"] == "fte")
    ]
    assert row["success"].tolist() == [False]
    assert row["unexpected_count"].tolist() == [1]
    assert json.loads(row["unexpected_sample"].iloc[0]) == [1.5]
    assert row["unexpected_percent"].iloc[0] == pytest.approx(100 / N)
    assert frame["delivery_date"].iloc[0] == dt.date(2024, 3, 5)


def test_pii_never_in_clear(context, gx_root):
    df = staff_roster()
    bad_ids = {}
    for i in (2, 9):
        good = id_number(i)
        bad_ids[i] = good[:-1] + ("0" if good[-1] != "0" else "1")
        df = _set(df, "id_number", i, bad_ids[i])
    df = _dup_key(df)  # a duplicated person: their id_number appears in two rows
    report = check(context, "staff_roster", df, file_name="pii_roster.csv")
    frame = validation.results_frame(report)
    outcome = next(o for o in report.results if o.rule == "id_number.check_digit")
    assert outcome.unexpected_count == 2
    assert all(
        str(v).startswith("sha256:") and len(v) == 15 for v in outcome.unexpected_sample
    )
    assert outcome.unexpected_sample[0] == validation.mask_value(bad_ids[2])
    with pytest.raises(validation.ValidationFailed) as err:
        report.raise_if_critical()

    # Data Docs and the stored GX results must not hold them either.
    index = validation.build_data_docs(gx_root)
    assert index.exists()
    files = [
        p
        for p in (gx_root / "uncommitted").rglob("*")
        if p.suffix in {".json", ".html"}
    ]
    assert any(p.suffix == ".json" for p in files) and any(
        "pii_roster" in p.name for p in files
    )
    written = [p.read_text("utf-8") for p in files]
    texts = [frame.to_csv(), str(err.value), *written]
    for value in [
        *bad_ids.values(),
        *df["id_number"].dropna(),
        *df["phone"],
        *df["name"],
    ]:
        for text in texts:
            assert str(value) not in text


def test_pii_in_exception_messages_is_masked():
    info = {
        "m1": {
            "raised_exception": True,
            "exception_message": "bad value 11010519491231002X in id_number",
            "exception_traceback": "...11010519491231002X...",
        }
    }
    validation._scrub_exception(info)
    assert "11010519491231002X" not in json.dumps(info)
