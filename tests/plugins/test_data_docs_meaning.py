"""Data Docs say what the project means: severity on every verdict, warning-only runs "passed with
warnings", custom expectations in plain words (read from the generated HTML)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest

CODES = [f"1101050010{i:02d}" for i in range(1, 21)]
CUSTOM_TYPES = (
    "expect_timestamps_in_order",
    "expect_column_values_to_be_in_reference_set",
    "expect_column_values_to_be_valid_chinese_id_number",
    "expect_column_dtype_kind_to_be_in_set",
    "expect_column_sum_within_groups_to_equal",
)


def _case_log(n: int = 20) -> pd.DataFrame:
    reported = pd.Timestamp("2024-03-04 08:00") + pd.to_timedelta(range(n), unit="min")
    return pd.DataFrame(
        {
            "case_id": [f"C{i:06d}" for i in range(n)],
            "unit_code": [CODES[i % len(CODES)] for i in range(n)],
            "channel": ["hotline_12345", "grid_patrol"] * (n // 2),
            "category": ["utilities"] * n,
            "reported_at": reported,
            "closed_at": reported + pd.Timedelta("3h"),
            "status": ["closed"] * n,
            "escalated_to_level": ["none"] * n,
            "updated_at": reported + pd.Timedelta("4h"),
        }
    ).convert_dtypes(dtype_backend="pyarrow")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """good: passes; warn: fails one warning expectation only; broken: fails a critical one."""
    tmp = tmp_path_factory.mktemp("meaning")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRASSROOTS_GX_DIR", str(tmp / "gx"))
        mp.setenv("GRASSROOTS_REPORTS_DIR", str(tmp / "reports"))
        from grassroots import data_docs, validation

        context = validation.get_context()
        reports = {}
        for name, frame in (
            ("good", _case_log()),
            ("warn", _case_log().assign(category="no_such_category")),
            ("broken", _case_log().assign(channel="fax")),
        ):
            reports[name] = validation.validate_delivery(
                "case_log",
                frame,
                valid_unit_codes=frozenset(CODES),
                file_name=f"{name}.csv",
                delivery_date="2024-03-05",
                run_id="meaning",
                context=context,
            )
        index = data_docs.build("meaning", context=context)
    return index.parent, reports


def _page(site: Path, name: str) -> str:
    (page,) = site.glob(f"validations/case_log/meaning/*/2024-03-05_{name}.csv.html")
    return page.read_text(encoding="utf-8")


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _status(page: str) -> str:
    return re.search(r"Status:\s*(.*?)\s*$", _text(page), re.MULTILINE | re.DOTALL).group(1).split("\n")[0]


def test_the_fixture_is_what_it_claims(site) -> None:
    _, reports = site
    failed = {n: {o.severity for o in r.results if not o.success} for n, r in reports.items()}
    assert failed == {"good": set(), "warn": {"warning"}, "broken": {"critical"}}


def test_warning_only_runs_are_labelled_passed_with_warnings(site) -> None:
    root, _ = site
    assert _status(_page(root, "warn")).strip() == "Passed with warnings"
    assert _status(_page(root, "broken")).strip() == "Failed"
    assert _status(_page(root, "good")).strip() == "Succeeded"
    index = (root / "index.html").read_text(encoding="utf-8")
    labels = dict(
        re.findall(
            r"'_batch_identifier_sort': '2024-03-05_(\w+)\.csv'.*?'_validation_success_text': '([^']*)'",
            index,
        )
    )
    assert labels == {"good": "Success", "warn": "Passed with warnings", "broken": "Failed"}


def test_every_verdict_shows_its_severity(site) -> None:
    root, reports = site
    for name, report in reports.items():
        text = _text(_page(root, name))
        shown = len(re.findall(r"(?:Critical|Warning) \((?:a failure blocks|reported)", text))
        assert shown == len(report.results), name
        failed_warnings = [o for o in report.results if not o.success and o.severity == "warning"]
        assert text.count("Warning (reported; the delivery is still published)") >= len(failed_warnings)


def test_suite_pages_carry_severity_notes_and_plain_custom_expectations(site) -> None:
    root, _ = site
    suite_page = (root / "expectations" / "case_log.html").read_text(encoding="utf-8")
    suite = _suite_rules()
    text = _text(suite_page)
    assert text.count("Severity: critical") == suite["critical"]
    assert text.count("Severity: warning") == suite["warning"]
    # custom expectations in words, never as their type name and raw kwargs
    for page in [suite_page, *(_page(root, n) for n in ("good", "warn", "broken"))]:
        assert not [t for t in CUSTOM_TYPES if t in page]
    assert "reported_at ≤ assigned_at ≤ first_response_at ≤ closed_at" in text
    assert "is a code of the reference list" in text


def _suite_rules() -> dict[str, int]:
    import datetime as dt

    from grassroots.validation import import_expectations

    suites, _ = import_expectations()
    rules = suites.rules_for(
        "case_log", unit_codes_reference="division_codes_2023", delivery_date=dt.date.today()
    )
    return {s: sum(r.severity == s for r in rules) for s in ("critical", "warning")}
