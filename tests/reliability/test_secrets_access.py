"""Secrets and access: nothing secret in the repository or its defaults; the production stack
authenticates and publishes nothing beyond localhost; analysts read the marts and nothing else."""

from __future__ import annotations

import re
import subprocess

import pytest
import reliability_helpers as rh
import yaml

ROOT = rh.ROOT

# Shapes of real secrets (private keys, cloud and service tokens, URLs with a password inside).
SECRET_SHAPES = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "password in a URL": re.compile(
        r"\b(?:postgres(?:ql)?|redis|mysql|amqp)(?:\+\w+)?://[^:/\s'\"]+:([^@/\s'\"$]{3,})@"
    ),
    # `_` before the name too: GRASSROOTS_PII_KEY=…, AIRFLOW__CORE__FERNET_KEY=… are assignments as well.
    "assigned secret": re.compile(
        r"(?i)(?:\b|_)(?:password|passwd|secret|fernet_key|pii_key|api_key|token)\b[\"']?\s*[:=]\s*[\"']?"
        r"([A-Za-z0-9+/_\-]{12,})"
    ),
}
# The known non-secret keys, by value: the tests' pseudonymisation keys. They may appear under tests/
# only; anything else that looks like a secret is a finding, in tests/ as elsewhere.
KNOWN_TEST_KEYS = {
    "test-key-0123456789abcdef-not-a-real-secret",  # tests/conftest.py TEST_PII_KEY (and unit tests)
    "reliability-test-key-0123456789abcdef",  # tests/reliability/reliability_helpers.py TEST_PII_KEY
    "report-test-key-0123456789abcdef",  # tests/report/report_demo.py REPORT_PII_KEY
    "e2e-test-key-0123456789abcdef",  # tests/e2e/test_pipeline_through_airflow.py
    "celery-e2e-key-0123456789abcdef",  # tests/e2e/test_celery_postgres_stack.py
    "first-nights-test-key-0123456789abcdef",  # tests/dags/test_first_nights_through_airflow.py
}
THIS_FILE = "tests/reliability/test_secrets_access.py"
# A value that is a constant's name (`"GRASSROOTS_PII_KEY": TEST_PII_KEY`) is a reference, not a key.
CONSTANT_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")


def _tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    # include/reference/: the official division and census tables (Parquet), no code or configuration.
    return [f for f in out.stdout.splitlines() if f and not f.startswith("include/reference/")]


def _is_known(rel: str, value: str) -> bool:
    if value in KNOWN_TEST_KEYS and rel.startswith("tests/"):
        return True
    if rel == ".env.example" and value.startswith("change-me"):
        return True  # its placeholders, checked one by one below
    return bool(CONSTANT_NAME.fullmatch(value))


def find_secrets(rel: str, text: str) -> list[str]:
    findings = []
    for what, shape in SECRET_SHAPES.items():
        for m in shape.finditer(text):
            value = m.group(1) if m.groups() else m.group(0)
            if not _is_known(rel, value):
                line = text[text.rfind("\n", 0, m.start()) + 1 : text.find("\n", m.end())]
                findings.append(f"{rel}: {what}: {line.strip()[:120]}")
    return findings


def test_no_secret_in_the_repository() -> None:
    findings = []
    seen: dict[str, set[str]] = {}
    files = _tracked_files()
    assert any(f.startswith("tests/reliability/") for f in files), "tests/ must be scanned too"
    for rel in files:
        path = ROOT / rel
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        findings += find_secrets(rel, text)
        for value in KNOWN_TEST_KEYS:
            if value in text and rel != THIS_FILE:  # this file defines the allow-list
                seen.setdefault(value, set()).add(rel)
    assert not findings, findings
    # The allow-list is exact: each test key is used, and under tests/ only (not in plugins/, dags/).
    assert set(seen) == KNOWN_TEST_KEYS, KNOWN_TEST_KEYS - set(seen)
    assert all(rel.startswith("tests/") for where in seen.values() for rel in where), seen
    # Positive controls: a secret of each kind is found, in a test file as anywhere, even on a line
    # saying "test" or "example" (those words no longer exempt a line).
    fake = "".join(reversed("Tn4WpL7xKm2Rv8qZ"))  # built here, so this file holds no such literal
    planted = (
        f"password = '{fake}'  # example\npostgresql://grassroots:{fake}@db/x\n"
        f'"GRASSROOTS_PII_KEY": "{fake}",  # test\nAIRFLOW__CORE__FERNET_KEY={fake}\n'
    )
    found = find_secrets("tests/test_example.py", planted)
    assert len(found) == 4 and all(fake in f for f in found), found
    # A known test key outside tests/ is a finding too.
    assert find_secrets("plugins/grassroots/pii.py", f'PII_KEY = "{min(KNOWN_TEST_KEYS)}"')
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    values = [ln.split("=", 1)[1] for ln in example.splitlines() if ln and not ln.startswith("#")]
    assert all(v == "" or v.startswith("change-me") for v in values), values
    rh.record(
        "secrets",
        "1-repository",
        "secrets in the repository and its defaults",
        "every tracked file scanned, tests/ included, for private keys, tokens and assigned passwords: "
        f"none beyond the {len(KNOWN_TEST_KEYS)} test keys of the allow-list, used under tests/ only; "
        ".env.example holds placeholders only",
    )


AIRFLOW_SERVICES = ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-worker")


def auth_problems(compose: dict) -> list[str]:
    """What lets someone into the UI/API without a login, read from the parsed compose configuration
    (each Airflow service's environment, anchors merged) and Airflow's own defaults."""
    from airflow.configuration import conf

    default_all_admins = str(conf.get_default_value("core", "simple_auth_manager_all_admins"))
    problems = []
    for name in AIRFLOW_SERVICES:
        env = {k: str(v) for k, v in (compose["services"][name].get("environment") or {}).items()}
        manager = env.get("AIRFLOW__CORE__AUTH_MANAGER", "")
        if not manager.endswith(("SimpleAuthManager", "FabAuthManager", "KeycloakAuthManager")):
            problems.append(f"{name}: no auth manager configured ({manager!r})")
        if env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", default_all_admins).lower() != "false":
            problems.append(f"{name}: simple auth manager in all-admins mode (no login)")
        if manager.endswith("SimpleAuthManager") and not (
            env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS")
            and env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
        ):
            problems.append(f"{name}: simple auth manager without users and a passwords file")
    return problems


def test_production_stack_authenticates_and_stays_on_localhost() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    published = []
    for name, service in services.items():
        for port in service.get("ports", []):
            spec = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port.get('published')}"
            assert str(spec).startswith("127.0.0.1:"), f"{name} publishes {spec} beyond localhost"
            published.append(name)
    for db in ("airflow-db", "warehouse-db"):
        env = services[db].get("environment") or {}
        assert "POSTGRES_HOST_AUTH_METHOD" not in env or env["POSTGRES_HOST_AUTH_METHOD"] != "trust", db
    # Authentication: an auth manager with users (never "all admins") on every Airflow service, read
    # from the parsed configuration (a comment mentioning it proves nothing).
    assert auth_problems(compose) == []
    # Positive control: the same check refuses the all-admins mode and a missing auth manager.
    api = services["airflow-api-server"]
    all_admins = {**api["environment"], "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"}
    no_manager = {k: v for k, v in api["environment"].items() if k != "AIRFLOW__CORE__AUTH_MANAGER"}
    for env in (all_admins, no_manager):
        broken = {**services, "airflow-api-server": {**api, "environment": env}}
        assert auth_problems({"services": broken}), env
    # The .env the stack reads (env_file) does not switch the login off either.
    example = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS" not in {ln.split("=", 1)[0] for ln in example}
    rh.record(
        "secrets",
        "2-compose",
        "production compose stack: authentication and published ports",
        f"UI/API behind an auth manager on the {len(AIRFLOW_SERVICES)} Airflow services (parsed compose "
        "configuration, no all-admins mode); every published port on 127.0.0.1; "
        "no trust authentication on the databases",
    )


ANALYST_DB = "grassroots_rel_analyst"


@pytest.mark.postgres
def test_analyst_role_reads_marts_only() -> None:
    psycopg2 = pytest.importorskip("psycopg2")
    from grassroots.pg_roles import ROLE, grant_analyst_role

    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres", connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{ANALYST_DB}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{ANALYST_DB}"')
    admin.close()
    con = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=ANALYST_DB)
    try:
        with con.cursor() as cur:
            for schema in ("raw", "audit", "staging", "intermediate", "marts"):
                cur.execute(f"CREATE SCHEMA {schema}")
            cur.execute("CREATE TABLE raw.staff_roster (staff_id text, id_number_hash text, phone_hash text)")
            cur.execute("INSERT INTO raw.staff_roster VALUES ('S1', 'ab12', 'cd34')")
            cur.execute("CREATE TABLE audit.quarantine (source_file text, sample text)")
            cur.execute("CREATE TABLE staging.stg (x int)")
            cur.execute("CREATE TABLE marts.mart_staffing (unit_code text, staff_fte double precision)")
            cur.execute("INSERT INTO marts.mart_staffing VALUES ('350206001001', 2.5)")
            # a grant made by hand earlier is taken back
            cur.execute(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') "
                f"THEN CREATE ROLE {ROLE} NOLOGIN; END IF; END $$"
            )
            cur.execute(f"GRANT USAGE ON SCHEMA audit TO {ROLE}")
            cur.execute(f"GRANT SELECT ON audit.quarantine TO {ROLE}")
        con.commit()
        grant_analyst_role(con)
        grant_analyst_role(con)  # idempotent
        with con.cursor() as cur:  # a mart dbt creates after the grant is readable too
            cur.execute("CREATE TABLE marts.mart_workload (unit_code text, cases_received int)")
            cur.execute("INSERT INTO marts.mart_workload VALUES ('350206001001', 3)")
        con.commit()

        def as_analyst(sql: str):
            with con.cursor() as cur:
                cur.execute(f"SET ROLE {ROLE}")
                try:
                    cur.execute(sql)
                    return cur.fetchall()
                finally:
                    con.rollback()

        assert as_analyst("SELECT * FROM marts.mart_staffing") == [("350206001001", 2.5)]
        assert as_analyst("SELECT * FROM marts.mart_workload") == [("350206001001", 3)]
        denied = []
        for table in ("raw.staff_roster", "audit.quarantine", "staging.stg"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                as_analyst(f"SELECT * FROM {table}")
            denied.append(table)
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            as_analyst("CREATE TABLE marts.mine (x int)")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            as_analyst("DELETE FROM marts.mart_staffing")
    finally:
        con.close()
    rh.record(
        "secrets",
        "3-analyst-role",
        "PostgreSQL role analyst (grassroots.pg_roles)",
        "SELECT on marts (also on a mart created later); denied on raw, audit and staging, "
        "even after an earlier hand-made grant; cannot write or create in marts",
    )
