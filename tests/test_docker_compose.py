"""Static checks of the production compose file (no Docker engine here: the file itself is checked)."""

from __future__ import annotations

import re
import shutil
import subprocess
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
            # (a *_FILE variable names where a secret is kept, not the secret)
            if any(word in key for word in ("PASSWORD", "SECRET", "FERNET", "PII_KEY")) and not key.endswith(
                "_FILE"
            ):
                assert str(value).startswith("${"), f"{name}: {key} has a literal value"
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert {"GRASSROOTS_PII_KEY", "POSTGRES_PASSWORD", "WAREHOUSE_PASSWORD"} <= set(example)
    assert all(v in ("", "change-me") or v.startswith("change-me") for v in example.values()), example


def _compose_cli() -> list[str]:
    """Docker's `docker compose` plugin where it exists, else Debian's docker-compose (installed by
    `make test`); both validate the file against the Compose schema without a Docker engine."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    assert legacy, "neither `docker compose` nor docker-compose: run scripts/ensure_debian_tools.sh"
    return [legacy]


def _config(tmp_path: Path, env_lines: list[str]) -> subprocess.CompletedProcess:
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / ".env").write_text("\n".join(env_lines) + "\n", encoding="utf-8")
    return subprocess.run(
        [*_compose_cli(), "config"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_compose_config_validates_with_the_example_env(tmp_path: Path) -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    proc = _config(tmp_path, example)
    assert proc.returncode == 0, proc.stderr
    resolved = yaml.safe_load(proc.stdout)
    api = resolved["services"]["airflow-api-server"]
    assert api["environment"]["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == "/auth/passwords.json"
    # every Airflow container shares the data volume (any worker can run any task)
    for name in ("airflow-worker", "airflow-scheduler", "airflow-api-server"):
        mounts = [str(v) for v in resolved["services"][name]["volumes"]]
        assert any(":/data" in m or "target: /data" in m or m.endswith("/data") for m in mounts) or any(
            isinstance(v, dict) and v.get("target") == "/data" for v in resolved["services"][name]["volumes"]
        ), (name, mounts)


def test_compose_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    proc = _config(tmp_path, [line for line in example if not line.startswith("WAREHOUSE_PASSWORD=")])
    assert proc.returncode != 0
    assert "WAREHOUSE_PASSWORD" in proc.stderr
