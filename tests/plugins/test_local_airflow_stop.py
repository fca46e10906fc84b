"""`make airflow`'s wrapper stops a process group with SIGTERM, and says so when it has to escalate
to SIGKILL (the UI browser test relies on that line's absence)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grassroots.local_airflow import stop_group

# A child that exits on SIGTERM, and one that ignores it (as a component stuck in shutdown would).
# Each prints "ready" once its handlers are set, so the signal cannot arrive during start-up.
POLITE = "import time\nprint('ready', flush=True)\nwhile True: time.sleep(0.1)"
STUBBORN = (
    "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\nwhile True: time.sleep(0.1)"
)


def _group(code: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", code], start_new_session=True, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_sigterm_is_enough_for_a_polite_group(capsys: pytest.CaptureFixture[str]) -> None:
    proc = _group(POLITE)
    assert stop_group(proc, grace=10.0) is True
    assert proc.poll() is not None
    assert "SIGKILL" not in capsys.readouterr().out


def test_a_group_ignoring_sigterm_is_killed_and_the_wrapper_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    proc = _group(STUBBORN)
    assert stop_group(proc, grace=1.0) is False
    assert proc.poll() is not None
    assert "SIGKILL to what SIGTERM left running after 1 s" in capsys.readouterr().out
