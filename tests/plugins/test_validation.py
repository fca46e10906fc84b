"""grassroots.validation: suites per feed, severities, PII masking and the audit frame."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
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
    return first17 + CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


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
            "as_of_date": [dt.date(2024, 2, 29)] * n,  # python dates: normalised by the runner
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
            "resident_population": pd.array([2500 + i for i in range(n)], dtype="int64[pyarrow]"),
            "resident_households": pd.array([900] * n, dtype="int64[pyarrow]"),
            "floating_population_in": pd.array([100] * n, dtype="int64[pyarrow]"),
            "residents_age_65_plus": pd.array([300] * n, dtype="int64[pyarrow]"),
            "vulnerable_persons": pd.array([None] + [20] * (n - 1), dtype="int64[pyarrow]"),
        }
    )


def case_log(n: int = N) -> pd.DataFrame:
    reported = pd.Timestamp("2024-03-04 08:00") + pd.to_timedelta(range(n), unit="min")
    closed = pd.Series(reported + pd.Timedelta("5h")).where([i % 3 != 0 for i in range(n)])
    return pd.DataFrame(
        {
            "case_id": [f"C{i:06d}" for i in range(n)],
            "unit_code": [CODES[i % N] for i in range(n)],
            "channel": ["hotline_12345", "grid_patrol", "mobile_app", "walk_in"] * (n // 4),
            "category": ["utilities", "consultation"] * (n // 2),
            "reported_at": reported,
            "assigned_at": reported + pd.Timedelta("1h"),
            "first_response_at": [
                None if i % 5 == 0 else t + pd.Timedelta("2h") for i, t in enumerate(reported)
            ],
            "closed_at": closed,
            "status": ["open" if i % 3 == 0 else "closed" for i in range(n)],
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


def check(context, feed, df, *, previous_row_count=None, file_name=None, run_id="test-run", **kw):
    return validation.validate_delivery(
        feed,
        df,
        valid_unit_codes=VALID_CODES,
        file_name=file_name or f"{feed}_{DELIVERY}.csv",
        delivery_date=DELIVERY,
        run_id=run_id,
        previous_row_count=previous_row_count,
        context=context,
        **kw,
    )


def failed(report):
    return {(o.rule, o.severity) for o in report.results if not o.success}


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_good_delivery_passes(context, feed):
    report = check(context, feed, GOOD[feed](), previous_row_count=N)
    assert failed(report) == set(), [o.describe() for o in report.results if not o.success]
    assert not report.critical_failed and report.warnings == 0
    report.raise_if_critical()
    assert report.stored


def _set(df, col, idx, value):
    """``df`` with ``col`` set to ``value`` in row(s) ``idx`` (an int or a list)."""
    df = df.copy()
    df[col] = df[col].astype(object)
    df.loc[idx, col] = value
    return df


# One bad row (2.5% of N) is quarantined by the ingest and must not block the delivery; four bad
# rows (10%) are a broken delivery and must (critical rules carry mostly=0.95).
ONE = [5]
BROKEN = [5, 13, 21, 29]


def _dup_key(df, rows):
    return pd.concat([df, df.iloc[rows]], ignore_index=True)


def _closed_before_reported(df, rows):
    df = df.copy()
    for i in rows:
        df.loc[i, "closed_at"] = df.loc[i, "reported_at"] - pd.Timedelta("1h")
    return df


def _bad_id(i: int) -> str:
    good = id_number(i)
    return good[:-1] + ("0" if good[-1] != "0" else "1")


def _bad_check_digit(df, rows):
    for i in rows:
        df = _set(df, "id_number", i, _bad_id(i))
    return df


def _exit_before_hire(df, rows):
    return _set(df, "exit_date", rows, pd.Timestamp("2010-01-01"))


# Critical row-level rules: (feed, mutate(df, rows), rule). Every class of bad row of DESIGN §7
# that the suite sees.
TOLERANT = [
    (
        "case_log",
        lambda d, r: _set(d, "unit_code", r, "999999999999"),
        "unit_code.known",
    ),
    (
        "case_log",
        lambda d, r: _set(d, "unit_code", r, "11010500101"),
        "unit_code.format",
    ),
    (
        "case_log",
        lambda d, r: _set(d, "handled_by_unit_code", r, "999999999999"),
        "handled_by_unit_code.known",
    ),
    ("case_log", lambda d, r: _set(d, "channel", r, "fax"), "channel.in_enum"),
    ("case_log", lambda d, r: _set(d, "satisfaction", r, "meh"), "satisfaction.in_enum"),
    ("case_log", _closed_before_reported, "timestamps.in_order"),
    ("case_log", _dup_key, "key.unique"),
    # An unparseable timestamp is null after typing.
    ("case_log", lambda d, r: _set(d, "reported_at", r, None), "reported_at.not_null"),
    ("staff_roster", lambda d, r: _set(d, "fte", r, 1.5), "fte.range"),
    ("staff_roster", lambda d, r: _set(d, "fte", r, 0.0), "fte.range"),
    (
        "staff_roster",
        lambda d, r: _set(d, "post_category", r, "mayor"),
        "post_category.in_enum",
    ),
    ("staff_roster", _bad_check_digit, "id_number.check_digit"),
    ("staff_roster", _dup_key, "key.unique"),
    ("staff_roster", _exit_before_hire, "hire_before_exit"),
    ("staff_roster", lambda d, r: _set(d, "staff_id", r, None), "staff_id.not_null"),
    (
        "household_registration",
        lambda d, r: _set(d, "registered_population", r, -5),
        "registered_population.non_negative",
    ),
    (
        "resident_population",
        lambda d, r: _set(d, "vulnerable_persons", r, -1),
        "vulnerable_persons.non_negative",
    ),
]
TOLERANT_IDS = [f"{t[0]}:{t[2]}" for t in TOLERANT]


@pytest.mark.parametrize(("feed", "mutate", "rule"), TOLERANT, ids=TOLERANT_IDS)
def test_broken_delivery_fails_critical_rule(context, feed, mutate, rule):
    report = check(context, feed, mutate(GOOD[feed](), BROKEN), store_results=False)
    assert (rule, "critical") in failed(report)
    outcome = next(o for o in report.results if o.rule == rule)
    assert outcome.unexpected_count >= len(BROKEN)
    assert report.critical_failed
    with pytest.raises(validation.ValidationFailed) as err:
        report.raise_if_critical()
    text = str(err.value)
    assert f"{feed}_{DELIVERY}.csv" in text and repr(feed) in text and rule in text
    assert err.value.suite == feed


@pytest.mark.parametrize("feed", sorted({t[0] for t in TOLERANT}))
def test_few_bad_rows_are_counted_but_do_not_block(context, feed):
    """One bad row per rule (each in its own row): every rule counts it, none blocks."""
    cases = [(mutate, rule) for f, mutate, rule in TOLERANT if f == feed]
    df = GOOD[feed]()
    for i, (mutate, _rule) in enumerate(cases):
        df = mutate(df, [2 + 3 * i])
    report = check(context, feed, df, store_results=False)
    frame = validation.results_frame(report)
    for _mutate, rule in cases:
        outcome = next(o for o in report.results if o.rule == rule)
        assert outcome.severity == "critical" and outcome.success, outcome.describe()
        assert outcome.unexpected_count >= 1, rule  # still shown to auditors
        row = frame[(frame["expectation"] == outcome.expectation_type) & (frame["column"] == outcome.column)]
        assert (row["unexpected_count"] >= 1).any(), rule
    assert not report.critical_failed, [o.describe() for o in report.critical_failures]
    report.raise_if_critical()


def test_critical_mostly_is_configurable(context, monkeypatch):
    df = _set(case_log(), "channel", ONE, "fax")
    monkeypatch.setenv("GRASSROOTS_CRITICAL_MOSTLY", "1.0")
    report = check(context, "case_log", df, store_results=False)
    assert ("channel.in_enum", "critical") in failed(report)
    monkeypatch.setenv("GRASSROOTS_CRITICAL_MOSTLY", "1.5")
    with pytest.raises(ValueError, match="GRASSROOTS_CRITICAL_MOSTLY"):
        check(context, "case_log", df, store_results=False)


# Outright critical (no mostly) and warning rules: one bad value is enough.
BAD = [
    (
        "case_log",
        lambda d: d.drop(columns=["status"]),
        "status.exists",
        "critical",
    ),
    (
        "household_registration",
        lambda d: d.assign(registered_households=d["registered_households"].astype(str)),
        "registered_households.type",
        "critical",
    ),
    (
        "case_log",
        lambda d: _set(d, "category", 0, "alien_landing"),
        "category.in_enum",
        "warning",
    ),
    (
        "case_log",
        lambda d: _set(d, "closed_at", 1, None),  # row 1 is closed
        "closed_cases_have_closed_at",
        "warning",
    ),
    (
        "staff_roster",
        lambda d: _set(d, "hire_date", 3, pd.Timestamp("2024-06-01")),
        "hired_by_snapshot",
        "warning",
    ),
    (
        "resident_population",
        lambda d: _set(d, "resident_population", 1, 350_000),
        "resident_population.plausible",
        "warning",
    ),
    (
        "resident_population",
        lambda d: _set(d, "residents_age_65_plus", 1, 100_000),
        "residents_age_65_plus.le_population",
        "warning",
    ),
    (
        "resident_population",
        lambda d: d.assign(as_of_date=pd.to_datetime(["2022-06-30"] * len(d))),
        "as_of_date.fresh",
        "warning",
    ),
    (
        "household_registration",
        lambda d: d.assign(as_of_date=[dt.date(2024, 4, 30)] * len(d)),
        "as_of_date.not_after_delivery",
        "warning",
    ),
]


@pytest.mark.parametrize(("feed", "mutate", "rule", "severity"), BAD, ids=[b[2] for b in BAD])
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
    # One absurd value is critical outright (no mostly), though it is one row of 40.
    assert ("registered_population.possible", "critical") in failed(report)
    assert ("registered_population.plausible", "warning") in failed(report)
    assert report.critical_failed
    outcome = next(o for o in report.results if o.rule == "registered_population.possible")
    assert outcome.unexpected_count == 1 and outcome.unexpected_sample == [10_000_000]
    assert outcome.unexpected_rows == [3]


def test_large_township_is_not_a_village(context):
    df = household_registration()
    df.loc[N, :] = ["110105001000", dt.date(2024, 2, 29), 250_000, 90_000, 30_000]
    df = df.astype({"registered_population": "int64", "registered_households": "int64"})
    assert failed(check(context, "household_registration", df, store_results=False)) == set()


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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_without_unit_codes_only_format_is_checked(context):
    df = _set(case_log(), "unit_code", BROKEN, "999999999999")
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
    df = _closed_before_reported(case_log(200), range(0, 200, 10))  # 20 of 200: broken
    # 15 duplicates across batches (30 rows of 215 share a key)
    df = pd.concat([df, df.iloc[150:165]], ignore_index=True)
    df = _set(df, "channel", list(range(100, 140, 2)), "fax")  # 20 rows, all in one slice
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


def test_batched_mostly_is_decided_on_the_whole_delivery(context):
    # 5 bad rows of 200 (2.5%: not blocking), all in one slice of 64 (7.8% of that slice).
    df = _set(case_log(200), "channel", [70, 71, 72, 73, 74], "fax")
    whole = check(context, "case_log", df, store_results=False)
    batched = check(context, "case_log", df, store_results=False, batch_rows=64)
    for report in (whole, batched):
        outcome = next(o for o in report.results if o.rule == "channel.in_enum")
        assert outcome.success and outcome.unexpected_count == 5
        assert not report.critical_failed


def test_results_frame_layout(context):
    report = check(
        context,
        "staff_roster",
        _set(staff_roster(), "fte", BROKEN, 1.5),
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
    row = frame[(frame["expectation"] == "expect_column_values_to_be_between") & (frame["column"] == "fte")]
    assert row["success"].tolist() == [False]
    assert row["unexpected_count"].tolist() == [len(BROKEN)]
    assert json.loads(row["unexpected_sample"].iloc[0]) == [1.5] * len(BROKEN)
    assert row["unexpected_percent"].iloc[0] == pytest.approx(100 * len(BROKEN) / N)
    assert frame["delivery_date"].iloc[0] == dt.date(2024, 3, 5)


def test_pii_never_in_clear(context, gx_root):
    df = staff_roster()
    bad_ids = {}
    for i in (2, 9, 17, 25):  # 10%: a broken delivery, so the error message is raised too
        good = id_number(i)
        bad_ids[i] = good[:-1] + ("0" if good[-1] != "0" else "1")
        df = _set(df, "id_number", i, bad_ids[i])
    df = _dup_key(df, [3])  # a duplicated person: their id_number appears in two rows
    report = check(context, "staff_roster", df, file_name="pii_roster.csv")
    frame = validation.results_frame(report)
    outcome = next(o for o in report.results if o.rule == "id_number.check_digit")
    assert outcome.unexpected_count == 4
    assert all(str(v).startswith("sha256:") and len(v) == 15 for v in outcome.unexpected_sample)
    assert outcome.unexpected_sample[0] == validation.mask_value(bad_ids[2])
    with pytest.raises(validation.ValidationFailed) as err:
        report.raise_if_critical()

    # Data Docs and the stored GX results must not hold them either.
    index = validation.build_data_docs(gx_root)
    assert index.exists()
    files = [p for p in (gx_root / "uncommitted").rglob("*") if p.suffix in {".json", ".html"}]
    assert any(p.suffix == ".json" for p in files) and any("pii_roster" in p.name for p in files)
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


def test_audit_rows_match_the_gx_results(context, gx_root):
    """Every audit.validation_results row says what the stored GX result object says."""
    df = _set(case_log(), "channel", BROKEN, "fax")
    df = _set(df, "category", [3], "alien_landing")
    df = _set(df, "unit_code", ONE, "999999999999")
    report = check(context, "case_log", df, file_name="gx_match.csv", run_id="gx-match")
    frame = validation.results_frame(report)
    [stored] = list((gx_root / "uncommitted" / "validations").rglob("*gx_match.csv.json"))
    gx = json.loads(stored.read_text("utf-8"))
    assert gx["meta"]["grassroots"] == {
        "file": "gx_match.csv",
        "feed": "case_log",
        "delivery_date": DELIVERY,
        "run_id": "gx-match",
        "part": "all",
    }
    by_rule = {r["expectation_config"]["meta"]["rule"]: r for r in gx["results"]}
    assert len(by_rule) == len(frame) == len(report.results)
    assert gx["success"] is (not report.critical_failed) is False
    for outcome, row in zip(report.results, frame.to_dict("records"), strict=True):
        res = by_rule[outcome.rule]
        cfg = res["expectation_config"]
        kwargs = cfg["kwargs"]
        assert row["expectation"] == cfg["type"]
        assert row["severity"] == cfg["severity"] == cfg["meta"]["severity"]
        assert row["success"] is res["success"], outcome.rule
        column = (
            kwargs.get("column")
            or ",".join(kwargs.get("column_list") or [])
            or ",".join(k for k in (kwargs.get("column_A"), kwargs.get("column_B")) if k)
            or None
        )
        assert row["column"] == column, outcome.rule
        result = res["result"]
        for key in ("element_count", "unexpected_count"):
            if key in result:
                assert row[key] == result[key], (outcome.rule, key)
        if "unexpected_percent" in result and result["unexpected_percent"] is not None:
            assert row["unexpected_percent"] == pytest.approx(result["unexpected_percent"])
        if result.get("partial_unexpected_list"):
            assert json.loads(row["unexpected_sample"]) == result["partial_unexpected_list"]
        assert row["run_id"] == "gx-match" and row["file"] == "gx_match.csv"
    failed_rows = frame[~frame["success"]]
    assert set(failed_rows["column"]) == {"channel", "category"}
    known = frame[frame["expectation"] == "expect_column_values_to_be_in_reference_set"]
    assert known[known["column"] == "unit_code"]["unexpected_count"].tolist() == [1]


# --------------------------------------------------------------------------------------------
# The published-marts suite


def _mart(bad: str | None = None) -> pd.DataFrame:
    """Two counties, two villages each, one month, plus a township office outside the base."""
    rows = []
    month = pd.Timestamp("2024-03-01")
    for county, units in (("110105", ("001001", "001002")), ("110106", ("002001", "002002"))):
        staff = [6.0, 4.0]
        residents = [3000, 7000]
        cs, cr = sum(staff), sum(residents)
        for (unit, s_fte), res in zip(zip(units, staff, strict=True), residents, strict=True):
            fair = cs * res / cr
            rows.append(
                {
                    "unit_code": f"{county}{unit}",
                    "month": month,
                    "county_code": f"{county}000000",
                    "unit_level": "village",
                    "in_allocation_base": True,
                    "resident_population": res,
                    "registered_population": res + 500,
                    "staff_fte": s_fte,
                    "staff_share": s_fte / cs,
                    "resident_share": res / cr,
                    "registered_share": (res + 500) / (cr + 1000),
                    "fair_share_staff": fair,
                    "reallocation_delta": fair - s_fte,
                    "d_resident": 0.3,
                    "d_registered": 0.25,
                }
            )
    rows.append(
        {
            **rows[0],
            "unit_code": "110105001000",
            "unit_level": "township",
            "in_allocation_base": False,
            "resident_population": None,
            "registered_population": None,
            "staff_fte": 12.0,
            "staff_share": None,
            "resident_share": None,
            "registered_share": None,
            "fair_share_staff": None,
            "reallocation_delta": None,
        }
    )
    df = pd.DataFrame(rows)
    if bad == "share":
        df.loc[1, "staff_share"] = 1.4
    elif bad == "delta":
        df.loc[2, "reallocation_delta"] += 2.0
    elif bad == "duplicate":
        df = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    elif bad == "d_index":
        df.loc[:, "d_resident"] = -0.1
    return df


def _warehouse(tmp_path, frame) -> str:
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    if frame is not None:
        con.register("f", frame)
        con.execute("CREATE TABLE marts.mart_staffing_mismatch AS SELECT * FROM f")
    con.close()
    return str(path)


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        (None, None),
        ("share", "staff_share.range"),
        ("delta", "reallocation_delta.sums_to_zero"),
        ("duplicate", "key.unique"),
        ("d_index", "d_resident.range"),
    ],
)
def test_validate_marts(context, tmp_path, bad, rule):
    path = _warehouse(tmp_path, _mart(bad))
    report = validation.validate_marts(path, f"marts-{bad}", context=context, as_of="2024-04-02")
    assert report.feed == report.suite == "marts"
    if rule is None:
        assert failed(report) == set(), [o.describe() for o in report.results if not o.success]
    else:
        assert (rule, "critical") in failed(report)
        with pytest.raises(validation.ValidationFailed, match=rule):
            report.raise_if_critical()
    con = duckdb.connect(path, read_only=True)
    rows = con.execute(
        "SELECT DISTINCT feed, suite, file, delivery_date FROM audit.validation_results WHERE run_id = ?",
        [f"marts-{bad}"],
    ).fetchall()
    n = con.execute("SELECT count(*) FROM audit.validation_results").fetchone()[0]
    con.close()
    assert rows == [("marts", "marts", "marts.mart_staffing_mismatch", dt.date(2024, 4, 2))]
    assert n == len(report.results)
    if bad is not None:
        return
    # Re-running the same run replaces its rows.
    validation.validate_marts(path, f"marts-{bad}", context=context, as_of="2024-04-02")
    con = duckdb.connect(path, read_only=True)
    assert con.execute("SELECT count(*) FROM audit.validation_results").fetchone()[0] == n
    con.close()


def test_validate_marts_without_the_mart_is_critical(context, tmp_path):
    report = validation.validate_marts(
        _warehouse(tmp_path, None), "no-mart", context=context, store_results=False
    )
    assert ("rows.not_empty", "critical") in failed(report)
    assert ("unit_code.exists", "critical") in failed(report)


def test_every_suite_builds(context):
    from expectations import suites

    assert set(suites.SUITE_NAMES) == {*FEEDS, "marts"}
    for name in suites.SUITE_NAMES:
        rules = suites.rules_for(name, unit_codes_reference="ref", delivery_date=dt.date(2024, 3, 5))
        suite = suites.build_suite(name, rules)
        assert len(suite.expectations) == len(rules)
        for rule, exp in zip(rules, suite.expectations, strict=True):
            assert exp.severity == rule.severity
            if rule.severity == "critical" and rule.scope == "row" and name != "marts":
                # Every critical row rule is tolerant, except the absurd-value rule.
                assert (rule.mostly is None) == rule.name.endswith(".possible"), rule.name
