"""`python -m grassroots.local_airflow`: `airflow standalone` for `make airflow`, made safe to stop.

`airflow standalone` starts its four components as `airflow <component>` found on PATH, so from a
fresh clone (virtualenv not activated) every one fails with FileNotFoundError; and it stops its
components only on Ctrl-C, so a SIGTERM leaves the scheduler, API server and their workers running.
This wrapper puts the virtualenv's bin first on PATH, pins the timezone to Asia/Shanghai, runs
standalone in its own process group and, on SIGTERM, SIGINT or SIGHUP, stops that whole group
(SIGTERM, then SIGKILL after a grace period). Standalone's own Ctrl-C handling is not used: it
exits before its components, whose output then has nowhere to go.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TIMEZONE = "Asia/Shanghai"
GRACE_SECONDS = 30.0  # uvicorn waits for open browser connections before it exits


def standalone_env(port: int, host: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment standalone needs: venv bin on PATH, timezone, address of the API server."""
    env = dict(os.environ if base is None else base)
    venv_bin = str(Path(sys.executable).parent)
    path = env.get("PATH", "")
    if venv_bin not in path.split(os.pathsep):
        env["PATH"] = os.pathsep.join(p for p in (venv_bin, path) if p)
    env.setdefault("AIRFLOW__CORE__DEFAULT_TIMEZONE", TIMEZONE)
    env["AIRFLOW__API__PORT"] = str(port)
    env["AIRFLOW__API__HOST"] = host
    # Task runners call the API server back; its default URL assumes port 8080.
    env.setdefault("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://127.0.0.1:{port}/execution/")
    return env


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of the group exists but is not ours (cannot happen here)
        return True
    return True


def stop_group(proc: subprocess.Popen, grace: float = GRACE_SECONDS) -> bool:
    """SIGTERM to every process of standalone's group (each component shuts down cleanly on it),
    SIGKILL to whatever is left after ``grace`` seconds. True when SIGTERM was enough."""
    pgid = proc.pid
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        if sig == signal.SIGKILL:
            print(f"grassroots: SIGKILL to what SIGTERM left running after {grace:.0f} s", flush=True)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            proc.poll()  # reap standalone itself, or the group never looks empty
            if not _group_alive(pgid):
                return sig == signal.SIGTERM
            time.sleep(0.2)
    proc.poll()
    return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m grassroots.local_airflow",
        description="Run `airflow standalone` (UI and API server, scheduler, dag-processor, triggerer) "
        "locally; SIGTERM or Ctrl-C stops every process it started.",
    )
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRASSROOTS_AIRFLOW_PORT", "8080")),
        help="port of the UI and API server (default: $GRASSROOTS_AIRFLOW_PORT or 8080)",
    )
    p.add_argument(
        "--host",
        default=os.environ.get("GRASSROOTS_AIRFLOW_HOST", "127.0.0.1"),
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    ns = p.parse_args(argv)
    env = standalone_env(ns.port, ns.host)
    airflow = str(Path(sys.executable).with_name("airflow"))
    proc = subprocess.Popen([airflow, "standalone"], env=env, start_new_session=True)
    # The handler only records the signal: stopping happens in the main loop, where Popen can
    # reap standalone (inside a handler interrupting Popen.wait it could not, and would wait).
    requested: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: requested.append(signum))
    print(
        f"grassroots: Airflow UI on http://{'localhost' if ns.host == '127.0.0.1' else ns.host}:{ns.port} "
        f"(user admin, password in {env.get('AIRFLOW_HOME', '~/airflow')}/"
        "simple_auth_manager_passwords.json.generated); DAGs start paused",
        flush=True,
    )
    while proc.poll() is None and not requested:
        time.sleep(0.2)
    if requested:
        print(f"grassroots: stopping Airflow ({signal.Signals(requested[0]).name})", flush=True)
    stop_group(proc)  # also when standalone died on its own: take its components with it
    return 0 if requested else (proc.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())
