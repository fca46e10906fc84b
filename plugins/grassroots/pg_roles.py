"""The analysts' read-only role on the PostgreSQL warehouse.

    python -m grassroots.pg_roles            # on the database of GRASSROOTS_PG_* (as its owner)
    python -m grassroots.pg_roles --login    # the role may log in (give it a password yourself)

Creates (once) the role ``analyst`` (NOLOGIN by default: grant it to the analysts' own login
roles with ``GRANT analyst TO alice``) and gives it exactly: CONNECT on the database, USAGE on the
schema ``marts`` and SELECT on its tables and views, now and for every table dbt creates there
later (default privileges of the role that runs dbt). Nothing on ``raw`` (pseudonymised personal
identifiers, lineage), ``audit`` (quarantined samples), ``staging`` or ``intermediate``: privileges
there that the role may have been given by hand are revoked, as is CREATE on schema ``public``.
Running it again changes nothing.
"""

from __future__ import annotations

import argparse
import sys

ROLE = "analyst"
READABLE_SCHEMAS = ("marts",)
CLOSED_SCHEMAS = ("raw", "audit", "staging", "intermediate")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def analyst_role_sql(
    dbname: str, *, role: str = ROLE, login: bool = False, owner: str | None = None
) -> list[str]:
    """The statements, in order (idempotent). `owner`: the role that creates the marts (dbt's user)."""
    r = _ident(role)
    stmts = [
        (
            "DO $$ BEGIN "
            f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role.replace(chr(39), chr(39) * 2)}') "
            f"THEN CREATE ROLE {r} {'LOGIN' if login else 'NOLOGIN'}; END IF; END $$"
        ),
        f"ALTER ROLE {r} {'LOGIN' if login else 'NOLOGIN'} NOSUPERUSER NOCREATEDB NOCREATEROLE",
        f"GRANT CONNECT ON DATABASE {_ident(dbname)} TO {r}",
        f"REVOKE CREATE ON SCHEMA public FROM {r}",
    ]
    for schema in READABLE_SCHEMAS:
        s = _ident(schema)
        stmts += [
            f"CREATE SCHEMA IF NOT EXISTS {s}",
            f"GRANT USAGE ON SCHEMA {s} TO {r}",
            f"REVOKE CREATE ON SCHEMA {s} FROM {r}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r}",
            (
                f"ALTER DEFAULT PRIVILEGES{f' FOR ROLE {_ident(owner)}' if owner else ''} IN SCHEMA {s} "
                f"GRANT SELECT ON TABLES TO {r}"
            ),
        ]
    for schema in CLOSED_SCHEMAS:
        s = _ident(schema)
        stmts += [
            (
                "DO $$ BEGIN "
                f"IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '{schema}') THEN "
                f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}; REVOKE ALL ON SCHEMA {s} FROM {r}; "
                "END IF; END $$"
            ),
        ]
    return stmts


def grant_analyst_role(con, *, role: str = ROLE, login: bool = False) -> None:
    """Apply `analyst_role_sql` on an open psycopg2 connection (committed)."""
    with con.cursor() as cur:
        cur.execute("SELECT current_database(), current_user")
        dbname, owner = cur.fetchone()
        for stmt in analyst_role_sql(dbname, role=role, login=login, owner=owner):
            cur.execute(stmt)
    con.commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grassroots.pg_roles", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--role", default=ROLE)
    parser.add_argument("--login", action="store_true", help="create the role with LOGIN")
    args = parser.parse_args(argv)
    import psycopg2

    from grassroots.pg_warehouse import pg_dsn

    con = psycopg2.connect(pg_dsn())
    try:
        grant_analyst_role(con, role=args.role, login=args.login)
    finally:
        con.close()
    print(f"role {args.role}: SELECT on schema marts only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
