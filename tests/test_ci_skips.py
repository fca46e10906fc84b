"""The CI rule of tests/ci_skips.py, on a throw-away test directory run by a real pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

SAMPLE = """
import pytest

def test_passes():
    assert True

def test_skips_for_a_missing_service():
    pytest.skip("PostgreSQL not reachable")

@pytest.mark.xfail(reason="known bug", strict=True)
def test_expected_failure():
    assert False
"""
MODULE_SKIP = 'import pytest\npytest.importorskip("no_such_module_grassroots")\n'


def _run(tmp_path: Path, ci: str | None) -> tuple[str, str]:
    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n"
        "from ci_skips import pytest_make_collect_report, pytest_runtest_makereport  # noqa: F401\n"
    )
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    (tmp_path / "test_module_skip.py").write_text(MODULE_SKIP)
    env = {k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": ci} if ci else {})
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull, "-rfE"]
        + ["--continue-on-collection-errors", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.stdout.strip().splitlines()[-1], proc.stdout


@pytest.mark.parametrize(
    ("ci", "summary"),
    [
        (None, "1 passed, 2 skipped, 1 xfailed"),
        ("false", "1 passed, 2 skipped, 1 xfailed"),
        ("true", "1 failed, 1 passed, 1 xfailed, 1 error"),  # the module skip is a collection error
    ],
)
def test_skips_fail_only_under_ci(tmp_path: Path, ci: str | None, summary: str) -> None:
    last, out = _run(tmp_path, ci)
    assert last.startswith(summary), out
    if ci == "true":  # the failure names the rule and the skip's own reason
        assert "skipped under CI=true" in out and "PostgreSQL not reachable" in out, out
        assert "no_such_module_grassroots" in out, out
