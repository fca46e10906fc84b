"""The committed reference Parquet files and their loader."""

from __future__ import annotations

import duckdb
import pytest

from grassroots import reference


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    yield c
    c.close()


def _div(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql.replace("DIV", f"read_parquet('{reference.divisions_path()}')")).fetchall()


def test_files_present_and_small() -> None:
    ref = reference.reference_dir()
    for name in (
        reference.DIVISIONS_FILE,
        reference.CENSUS_COUNTY_FILE,
        reference.CENSUS_CITY_FILE,
        "PROVENANCE.md",
        "LICENSE-admin-divisions",
        "LICENSE-census",
    ):
        path = ref / name
        assert path.exists(), path
        assert path.stat().st_size < 20_000_000


def test_rows_per_level(con: duckdb.DuckDBPyConnection) -> None:
    counts = dict(_div(con, "SELECT level, count(*) FROM DIV GROUP BY level"))
    assert counts == {
        "province": 31,
        "city": 342,
        "county": 2978,
        "township": 41351,
        "village": 620572,
    }


def test_units_have_codes_of_their_own(con: duckdb.DuckDBPyConnection) -> None:
    # A township or village sharing its code with another row (金门县's placeholders shared the
    # county's) would let data on a county pass ingest as a unit and then miss every mart.
    shared = _div(
        con,
        "SELECT unit_code FROM DIV GROUP BY unit_code "
        "HAVING count(*) > 1 AND bool_or(level IN ('township', 'village'))",
    )
    assert shared == []


def test_codes_are_12_digits_and_consistent(con: duckdb.DuckDBPyConnection) -> None:
    bad = _div(
        con,
        """
        SELECT count(*) FROM DIV
        WHERE NOT regexp_full_match(unit_code, '[0-9]{12}')
           OR NOT regexp_full_match(province_code, '[0-9]{12}')
           OR (level <> 'province' AND NOT regexp_full_match(parent_code, '[0-9]{12}'))
           OR (level = 'village' AND (township_code IS NULL OR county_code IS NULL))
           OR (level = 'township' AND NOT unit_code LIKE '%000')
           OR (level = 'province' AND city_code IS NOT NULL)
           OR (level IN ('city', 'county') AND township_code IS NOT NULL)
        """,
    )
    assert bad == [(0,)]
    # (unit_code, level) is the key; every non-province row has its parent one level up.
    assert _div(con, "SELECT count(*) - count(DISTINCT (unit_code, level)) FROM DIV") == [(0,)]
    orphans = _div(
        con,
        """
        SELECT count(*) FROM DIV c
        WHERE c.level = 'village'
          AND NOT EXISTS (SELECT 1 FROM DIV p WHERE p.unit_code = c.parent_code
                          AND p.level = 'township')
        """,
    )
    assert orphans == [(0,)]


@pytest.mark.parametrize(
    ("unit_code", "level", "expected"),
    [
        ("110000000000", "province", ("北京市", None, None)),
        ("110100000000", "city", ("市辖区", "110000000000", None)),
        ("110101000000", "county", ("东城区", "110100000000", None)),
        ("110101001000", "township", ("东华门街道", "110101000000", None)),
        ("110101001001", "village", ("多福巷社区居委会", "110101001000", "urban")),
        ("110102010045", "village", ("六铺炕南小街居委会", "110102010000", "urban")),
        ("110105027200", "village", ("小红门村民委员会", "110105027000", "rural")),
        ("110105021200", "village", ("楼梓庄村委会", "110105021000", "rural")),
        ("110106001200", "village", ("西铁营村", "110106001000", "rural")),
        ("150203102211", "village", ("卜尔汉图嘎查", "150203102000", "rural")),
        ("231224400500", "village", ("新青山林场生活区", "231224400000", None)),
    ],
)
def test_known_units(con: duckdb.DuckDBPyConnection, unit_code: str, level: str, expected: tuple) -> None:
    rows = _div(
        con,
        f"SELECT name, parent_code, urban_rural FROM DIV "
        f"WHERE unit_code = '{unit_code}' AND level = '{level}'",
    )
    assert rows == [expected]


def test_urban_rural_only_for_villages(con: duckdb.DuckDBPyConnection) -> None:
    rows = dict(_div(con, "SELECT level, count(urban_rural) FROM DIV GROUP BY level"))
    assert rows["township"] == rows["county"] == rows["city"] == rows["province"] == 0
    assert rows["village"] > 600_000


def test_census_files(con: duckdb.DuckDBPyConnection) -> None:
    county = con.execute(
        f"SELECT level, count(*), min(length(county_code)), max(length(county_code)) "
        f"FROM read_parquet('{reference.census_county_path()}') GROUP BY level ORDER BY level"
    ).fetchall()
    assert county == [
        ("city", 338, 12, 12),
        ("county", 2943, 12, 12),
        ("province", 31, 12, 12),
    ]
    hu_li = con.execute(
        f"SELECT county, pop_total FROM read_parquet('{reference.census_county_path()}') "
        "WHERE county_code = '350206000000'"
    ).fetchall()
    assert hu_li == [("湖里区", 1036974)]
    city = con.execute(
        f"SELECT count(*), min(length(city_code)), sum((popu_2010 > 0)::INT) "
        f"FROM read_parquet('{reference.census_city_path()}')"
    ).fetchone()
    assert city[:2] == (369, 12)
    assert city[2] > 350  # a few cities created after 2010 have no 2010 figure


def test_load_reference_tables_idempotent() -> None:
    con = duckdb.connect()
    for _ in range(2):
        counts = reference.load_reference_tables(con, schema="raw")
    assert counts == {
        "ref_divisions": 665274,
        "ref_census_county": 3312,
        "ref_census_city": 369,
    }
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1"
    ).fetchall()
    assert tables == [("ref_census_city",), ("ref_census_county",), ("ref_divisions",)]
    con.close()


def test_pad_code() -> None:
    assert reference.pad_code("11") == "110000000000"
    assert reference.pad_code("1101") == "110100000000"
    assert reference.pad_code("110101001") == "110101001000"
    with pytest.raises(ValueError):
        reference.pad_code("1101x")


def test_reference_tables_are_reloaded_only_when_their_file_changes(tmp_path, monkeypatch) -> None:
    con = duckdb.connect()
    reference.load_reference_tables(con, schema="raw")
    # Unchanged file: the table is left alone (a marker row survives the second load).
    con.execute(
        "DELETE FROM raw.ref_census_city WHERE city_code = (SELECT min(city_code) FROM raw.ref_census_city)"
    )
    counts = reference.load_reference_tables(con, schema="raw")
    assert counts["ref_census_city"] == 368
    # A changed file (here: a reference folder whose city file differs) is loaded again.
    for name in reference.REFERENCE_TABLES.values():
        (tmp_path / name).write_bytes((reference.reference_dir() / name).read_bytes())
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{reference.census_city_path()}') LIMIT 10) "
        f"TO '{tmp_path / reference.REFERENCE_TABLES['ref_census_city']}' (FORMAT parquet)"
    )
    monkeypatch.setattr(reference, "reference_dir", lambda: tmp_path)
    assert reference.load_reference_tables(con, schema="raw")["ref_census_city"] == 10
    con.close()
