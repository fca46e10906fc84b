"""Failure alerts: logged as one JSON line, posted to a webhook, mailed through the SMTP connection."""

from __future__ import annotations

import json
import logging
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from grassroots.orchestration.common import alert_on_failure


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to accept one message: a real peer for smtplib, no mail sent."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        envelope: dict = {"rcpt": [], "data": b""}
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == b"MAIL":
                envelope["from"] = line.decode().strip()
                self.wfile.write(b"250 OK\r\n")
            elif verb == b"RCPT":
                envelope["rcpt"].append(line.decode().split("<", 1)[1].split(">", 1)[0])
                self.wfile.write(b"250 OK\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    envelope["data"] += chunk
                self.server.messages.append(envelope)  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture()
def smtp_server() -> Iterator[socketserver.TCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture()
def webhook() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", received
    server.shutdown()
    server.server_close()


def _context(error: str) -> dict:
    ti = SimpleNamespace(dag_id="grassroots_warehouse", task_id="dbt_marts", try_number=3)
    return {"task_instance": ti, "run_id": "scheduled__2024-02-01", "exception": RuntimeError(error)}


def test_alert_goes_to_log_webhook_and_email(
    smtp_server, webhook, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url, received = webhook
    monkeypatch.setenv("GRASSROOTS_ALERT_WEBHOOK", url)
    monkeypatch.setenv("AIRFLOW_VAR_GRASSROOTS_ALERT_EMAIL", "oncall@example.org")
    conn = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": smtp_server.server_address[1],
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@example.org"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_GRASSROOTS_SMTP", json.dumps(conn))
    with caplog.at_level(logging.ERROR, logger="grassroots.alerts"):
        alert_on_failure(_context("model mart_workload failed: division by zero"))

    logged = [r.getMessage() for r in caplog.records if "GRASSROOTS_ALERT" in r.getMessage()]
    assert len(logged) == 1
    alert = json.loads(logged[0].split("GRASSROOTS_ALERT ", 1)[1])
    assert alert["dag_id"] == "grassroots_warehouse" and alert["task_id"] == "dbt_marts"
    assert received == [alert]
    [mail] = smtp_server.messages
    assert mail["rcpt"] == ["oncall@example.org"]
    body = mail["data"].decode()
    assert "Subject: [grassroots] task_failed: grassroots_warehouse.dbt_marts" in body
    assert "X-Grassroots-Alert: task_failed" in body


def test_broken_channels_are_logged_not_raised(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setenv("GRASSROOTS_ALERT_WEBHOOK", "http://127.0.0.1:9/nothing-listens-here")
    monkeypatch.setenv("AIRFLOW_VAR_GRASSROOTS_ALERT_EMAIL", "oncall@example.org")
    monkeypatch.delenv("AIRFLOW_CONN_GRASSROOTS_SMTP", raising=False)
    with caplog.at_level(logging.ERROR, logger="grassroots.alerts"):
        alert_on_failure(_context("boom"))
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "GRASSROOTS_ALERT" in messages
    assert "alert webhook" in messages and "failed" in messages
    assert "alert e-mail to oncall@example.org via connection grassroots_smtp failed" in messages
