"""Write generated feeds into the landing zone as CSV, the way a supplier would deliver them.

Layout: ``<out>/<feed>/<YYYY-MM-DD>/<file>.csv``; canonical column names (``feeds.py``), UTF-8,
header row, ISO dates, ``YYYY-MM-DD HH:MM:SS`` timestamps, empty string for null. DuckDB's COPY does
the writing (fast, and byte-identical for identical input because every query has a total order).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from grassroots.feeds import Feed


def select_list(feed: Feed) -> str:
    """Canonical columns in order, dates and timestamps formatted as text."""
    parts = []
    for col in feed.columns:
        name = f'"{col.name}"'
        if col.type == "DATE":
            parts.append(f"strftime(CAST({name} AS DATE), '%Y-%m-%d') AS {name}")
        elif col.type == "TIMESTAMP":
            parts.append(
                f"strftime(CAST({name} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S') AS {name}"
            )
        else:
            parts.append(name)
    return ", ".join(parts)


def write_feed_csv(
    con: duckdb.DuckDBPyConnection,
    feed: Feed,
    source: str,
    path: Path,
    order_by: str,
    where: str | None = None,
) -> int:
    """COPY the rows of ``source`` (a table/view name) matching ``where`` to ``path``; return rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    query = f"SELECT {select_list(feed)} FROM {source}"
    if where:
        query += f" WHERE {where}"
    query += f" ORDER BY {order_by}"
    target = str(path).replace("'", "''")
    con.execute(
        f"COPY ({query}) TO '{target}' (FORMAT csv, HEADER true, DELIMITER ',')"
    )
    count_sql = f"SELECT count(*) FROM {source}" + (f" WHERE {where}" if where else "")
    return int(con.execute(count_sql).fetchone()[0])
