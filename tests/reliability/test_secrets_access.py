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
    "assigned secret": re.compile(
        r"(?i)\b(?:password|passwd|secret|fernet_key|pii_key|api_key|token)\b[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9+/_\-]{12,})"
    ),
}
# Values that are clearly not secrets: placeholders, variable look-ups, test keys named as such.
NOT_SECRET = re.compile(
    r"(?i)change-?me|example|placeholder|not-a-real|test|demo|dummy|\$\{|env_var|environ|getenv"
)


def _tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [
        f
        for f in out.stdout.splitlines()
        if f and not f.startswith(("include/reference/", "tests/reliability/"))
    ]


def test_no_secret_in_the_repository() -> None:
    findings = []
    files = _tracked_files()
    for rel in files:
        path = ROOT / rel
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        for what, shape in SECRET_SHAPES.items():
            for m in shape.finditer(text):
                value = m.group(1) if m.groups() else m.group(0)
                line = text[text.rfind("\n", 0, m.start()) + 1 : text.find("\n", m.end())]
                if NOT_SECRET.search(value) or NOT_SECRET.search(line):
                    continue
                findings.append(f"{rel}: {what}: {line.strip()[:120]}")
    assert not findings, findings
    # Positive control: the scanner does find a secret of each kind.
    planted = "password = 'Zq8vR2mKx7LpW4nT'\npostgresql://grassroots:Zq8vR2mKx7LpW4nT@db/x\n"
    assert SECRET_SHAPES["assigned secret"].search(planted) and SECRET_SHAPES["password in a URL"].search(
        planted
    )
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    values = [ln.split("=", 1)[1] for ln in example.splitlines() if ln and not ln.startswith("#")]
    assert all(v == "" or v.startswith("change-me") for v in values), values
    rh.record(
        "secrets",
        "1-repository",
        "secrets in the repository and its defaults",
        "every tracked file scanned for private keys, tokens and assigned passwords: none; "
        ".env.example holds placeholders only",
    )


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
    api = services["airflow-api-server"]
    env = {
        **(compose.get("x-airflow-common", {}) or {}).get("environment", {}),
        **(api.get("environment") or {}),
    }
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    # Authentication: an auth manager with users (never "all admins"), the API behind it.
    assert "SIMPLE_AUTH_MANAGER_ALL_ADMINS" not in text or re.search(
        r"SIMPLE_AUTH_MANAGER_ALL_ADMINS:\s*['\"]?(?i:false)", text
    ), "the UI/API must not let everyone in as admin"
    assert re.search(r"AUTH_MANAGER|auth_manager", text), "no auth manager configured"
    assert not any("basic_auth" in str(v) and "deny_all" in str(v) for v in env.values())
    rh.record(
        "secrets",
        "2-compose",
        "production compose stack: authentication and published ports",
        "UI/API behind an auth manager (no all-admins mode); every published port on 127.0.0.1; "
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
