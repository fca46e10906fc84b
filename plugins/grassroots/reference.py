"""The real reference data committed under ``include/reference`` (DESIGN §4).

Three Parquet files, converted once from the shared CSVs by ``include/reference/convert.py``:

- ``divisions_2023.parquet``: every province, city, county, township and village/community with
  12-digit ``unit_code``, ``level``, ``parent_code``, ancestor codes and ``urban_rural`` (villages).
  ``(unit_code, level)`` is unique; a handful of codes repeat across levels in the source (东莞, 中山
  and 儋州 have no counties, so the city appears again as its own county). Township and village
  codes are unique and distinct from every higher level's (PROVENANCE.md: 金门县's placeholders).
- ``census_county_2020.parquet``: the 2020 census by county (``county_code``, ``level``).
- ``census_city_2010_2020.parquet``: the 2010 and 2020 censuses by city (``city_code``).

Everything here reads Parquet through DuckDB; nothing loads a national table into pandas.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from grassroots.config import settings

DIVISIONS_FILE = "divisions_2023.parquet"
CENSUS_COUNTY_FILE = "census_county_2020.parquet"
CENSUS_CITY_FILE = "census_city_2010_2020.parquet"

LEVELS = ("province", "city", "county", "township", "village")

# Table name in the warehouse -> file in include/reference.
REFERENCE_TABLES: dict[str, str] = {
    "ref_divisions": DIVISIONS_FILE,
    "ref_census_county": CENSUS_COUNTY_FILE,
    "ref_census_city": CENSUS_CITY_FILE,
}


def reference_dir() -> Path:
    return settings().reference_dir


def divisions_path() -> Path:
    return reference_dir() / DIVISIONS_FILE


def census_county_path() -> Path:
    return reference_dir() / CENSUS_COUNTY_FILE


def census_city_path() -> Path:
    return reference_dir() / CENSUS_CITY_FILE


def _sql_literal(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_reference_tables(con: duckdb.DuckDBPyConnection, schema: str = "raw") -> dict[str, int]:
    """Create or replace ``<schema>.ref_divisions``, ``ref_census_county``, ``ref_census_city``.

    Idempotent: a table is replaced with the Parquet contents when the file's sha256 differs from
    the one recorded in the table's comment at its last load, and left alone otherwise (every
    nightly warehouse run calls this; reloading the 665 k divisions cost seconds each time).
    Returns rows per table.
    """
    ref = reference_dir()
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
    counts: dict[str, int] = {}
    for table, filename in REFERENCE_TABLES.items():
        path = ref / filename
        if not path.exists():
            raise FileNotFoundError(f"reference file missing: {path}")
        target = f"{_ident(schema)}.{_ident(table)}"
        stamp = f"loaded from {filename}, sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}"
        current = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, table]
        ).fetchone()
        if current is None or current[0] != stamp:
            con.execute("BEGIN TRANSACTION")
            con.execute(
                f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM read_parquet({_sql_literal(path)})"
            )
            con.execute(f"COMMENT ON TABLE {target} IS {_sql_literal(stamp)}")
            con.execute("COMMIT")
        counts[table] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    return counts


def divisions_relation(con: duckdb.DuckDBPyConnection, where: str | None = None) -> duckdb.DuckDBPyRelation:
    """The divisions Parquet as a DuckDB relation, optionally filtered by a SQL predicate."""
    sql = f"SELECT * FROM read_parquet({_sql_literal(divisions_path())})"
    if where:
        sql += f" WHERE {where}"
    return con.sql(sql)


def pad_code(code: str) -> str:
    """A 2/4/6/9/12-digit division code right-padded with zeros to 12 digits."""
    code = str(code).strip()
    if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
        raise ValueError(f"not a statistical division code: {code!r}")
    return code.ljust(12, "0")
