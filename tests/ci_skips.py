"""Under CI=true a skip is a failure: a test that needs PostgreSQL, dbt or a package and skips when it is
missing would otherwise turn a broken CI machine green (issue #24).

Loaded by tests/conftest.py. Outside CI a skip stays a skip (a laptop without PostgreSQL can still run
the rest), and `make test` prints how many there were.

PLATFORM_LACKS is the allow-list of what a CI machine may genuinely lack: skip-reason prefixes, each
with why. It is empty: the one known lack, a Docker engine, is covered without containers
(tests/test_docker_compose.py, tests/e2e/test_celery_postgres_stack.py), so nothing is skipped for it.
An entry added here must name something the platform cannot provide, never a service `make test`
starts (PostgreSQL, Redis) or a tool it installs (dbt, Chromium, docker-compose).
"""

from __future__ import annotations

import os

import pytest

PLATFORM_LACKS: dict[str, str] = {}


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _reason(longrepr) -> str:
    # A skip's longrepr is (path, lineno, "Skipped: reason"); anything else, its text.
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


def allowed(reason: str) -> bool:
    return any(reason.startswith(prefix) for prefix in PLATFORM_LACKS)


def _fail_if_skipped(report) -> None:
    if not (in_ci() and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = _reason(report.longrepr)
    if not allowed(reason):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which fails the run (tests/ci_skips.py): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    _fail_if_skipped(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield  # a module-level importorskip / pytest.skip(allow_module_level=True)
    _fail_if_skipped(outcome.get_result())
