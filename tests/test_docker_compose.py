"""Static checks of the production compose file (no Docker engine here: the file itself is checked)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]


def test_the_production_services_are_there() -> None:
    assert {
        "airflow-init",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
        "redis",
        "airflow-db",
        "warehouse-db",
    } <= set(SERVICES)
    worker_env = SERVICES["airflow-worker"]["environment"]
    assert worker_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert worker_env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
    assert worker_env["GRASSROOTS_DBT_TARGET"] == "postgres"


def test_nothing_is_published_beyond_localhost() -> None:
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_no_default_secrets() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for var in ("POSTGRES_PASSWORD", "WAREHOUSE_PASSWORD"):
        # required from .env: compose refuses to start without them
        assert re.search(r"\$\{" + var + r":\?", text), var
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "SECRET", "FERNET", "PII_KEY")):
                assert str(value).startswith("${"), f"{name}: {key} has a literal value"
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert {"GRASSROOTS_PII_KEY", "POSTGRES_PASSWORD", "WAREHOUSE_PASSWORD"} <= set(example)
    assert all(v in ("", "change-me") or v.startswith("change-me") for v in example.values()), example
