"""A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (stdlib only).

Why this and not ``--screenshot``/``--dump-dom``: those cannot tell whether a stylesheet was
applied or a font loaded, and they give no list of the requests the page made. Over the pipe we
drive one page, record every network request (so a test can prove that nothing left the machine)
and ask the page itself for computed styles. Chromium reads JSON commands, each ending in a NUL
byte, from fd 3 and writes responses and events to fd 4; no port, no websocket, no extra package.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
)
INSTALL_HINT = (
    "Chromium is required for the browser tests and was not found. Install it with "
    "`apt-get update && apt-get install -y chromium` (Debian/Ubuntu; the Makefile and CI do "
    "this), or point GRASSROOTS_CHROMIUM at a Chromium/Chrome binary. Test tools must never "
    "download a browser."
)


def find_chromium() -> str | None:
    for candidate in (
        os.environ.get("GRASSROOTS_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        "/usr/bin/chromium",
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


class CDPError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, binary: str, user_data_dir: Path, *, width: int = 1400, height: int = 1000):
        # Put the pipe ends on high fds, then dup them onto 3 and 4 in the child.
        cmd_r, cmd_w = os.pipe()
        res_r, res_w = os.pipe()
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 16) for fd in (cmd_r, res_w)]
        for fd in (cmd_r, res_w):
            os.close(fd)
        child_cmd, child_res = high

        def _child_fds() -> None:  # runs in the child, before exec
            os.dup2(child_cmd, 3)
            os.dup2(child_res, 4)

        self.proc = subprocess.Popen(
            [
                binary,
                *HEADLESS_FLAGS,
                f"--user-data-dir={user_data_dir}",
                "--remote-debugging-pipe",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_child_fds,  # noqa: PLW1509 - single-threaded test process
            pass_fds=(3, 4),
        )
        os.close(child_cmd)
        os.close(child_res)
        self._out = cmd_w
        self._in = res_r
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session: str | None = None
        self.width, self.height = width, height

    # -- transport --------------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError("timed out waiting for Chromium")
            ready, _, _ = select.select([self._in], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise CDPError(f"Chromium closed the DevTools pipe: {err[-2000:]}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(
        self, method: str, params: dict | None = None, *, timeout: float = 30.0, session: bool = True
    ) -> dict:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CDPError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for_event(self, method: str, *, timeout: float = 30.0, after: int = 0) -> dict:
        deadline = time.monotonic() + timeout
        seen = after
        while True:
            for event in self.events[seen:]:
                if event["method"] == method:
                    return event
            seen = len(self.events)
            reply = self._read_message(deadline)
            if "method" in reply:
                self.events.append(reply)

    def pump(self, seconds: float) -> None:
        """Collect events for ``seconds`` (lets late requests show up in the log)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                reply = self._read_message(deadline)
            except CDPError:
                return
            if "method" in reply:
                self.events.append(reply)

    # -- page -------------------------------------------------------------------------------

    def open_page(self) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            session=False,
        )
        self.session = attached["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )

    def navigate(self, url: str, *, timeout: float = 30.0) -> None:
        mark = len(self.events)
        self.send("Page.navigate", {"url": url})
        self.wait_for_event("Page.loadEventFired", timeout=timeout, after=mark)

    def evaluate(self, expression: str, *, timeout: float = 30.0) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            raise CDPError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_until(self, expression: str, *, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            self.pump(0.2)
        return False

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def requests(self) -> list[str]:
        return [
            e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"
        ]

    def failures(self) -> list[str]:
        """Requests that failed or answered with an HTTP error."""
        urls = {
            e["params"]["requestId"]: e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        }
        out = [
            f"{urls.get(e['params']['requestId'], '?')}: {e['params'].get('errorText')}"
            for e in self.events
            if e["method"] == "Network.loadingFailed"
        ]
        out += [
            f"{e['params']['response']['url']}: HTTP {e['params']['response']['status']}"
            for e in self.events
            if e["method"] == "Network.responseReceived" and e["params"]["response"].get("status", 200) >= 400
        ]
        return out

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False, timeout=5)
        except (CDPError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._out, self._in):
            try:
                os.close(fd)
            except OSError:
                pass
