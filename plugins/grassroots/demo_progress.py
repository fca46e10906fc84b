"""Task progress of an `airflow dags test` run, read from its log as it is written.

`make demo` runs each DAG with `airflow dags test`, whose output goes to a log file; a DAG can take
minutes, so the demo follows the log and prints each task when it starts and when it ends, with the
state Airflow itself recorded (success, failed, up_for_retry, skipped, …). Nothing is inferred: the
lines are Airflow's own "[DAG TEST] starting/end task" and "Task instance state updated" records.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
_STATE = re.compile(r"Task instance state updated\b.*\bnew_state=(\w+)")
_END = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")


@dataclass
class TaskProgress:
    """Follows one DAG test log; `poll()` returns the task events that appeared since last time."""

    dag_id: str
    log_path: Path
    _offset: int = 0
    _partial: str = ""
    _state: str | None = None
    _started: dict[str, float] = field(default_factory=dict)

    def poll(self) -> list[str]:
        try:
            with self.log_path.open("rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        text = self._partial + chunk.decode("utf-8", errors="replace")
        lines = text.split("\n")
        self._partial = lines.pop()  # an unfinished last line waits for the next poll
        events = []
        for line in lines:
            if m := _START.search(line):
                self._started[m.group(1)] = time.monotonic()
                self._state = None
                events.append(f"{self.dag_id}.{m.group(1)}: running")
            elif m := _STATE.search(line):
                self._state = m.group(1)
            elif m := _END.search(line):
                task = m.group(1)
                took = time.monotonic() - self._started.pop(task, time.monotonic())
                events.append(f"{self.dag_id}.{task}: {self._state or 'ended'} ({took:.0f}s)")
                self._state = None
        return events
