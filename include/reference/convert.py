"""One-off conversion of the shared reference CSVs into the Parquet files committed next to this script.

Run by hand, once, when the reference vintage changes:

    .venv/bin/python include/reference/convert.py SOURCE_DIR

SOURCE_DIR is the folder holding ``admin_divisions_2023/`` and ``census_2020/`` (see PROVENANCE.md
for where they come from); it must be given. Nothing in the pipeline runs this script or reads the
source folder at run time: the product only reads the Parquet files written here (see
``grassroots.reference``), so a fresh clone needs nothing outside the repository.

Outputs (zstd-compressed Parquet, written with DuckDB):

- ``divisions_2023.parquet``: every province, city, county, township and village/community in one
  table with 12-digit codes, its level, parent and ancestors, and an urban/rural class for villages.
- ``census_county_2020.parquet``: 2020 census, slim English columns, one row per coded area with a
  ``level`` (province / city / county).
- ``census_city_2010_2020.parquet``: 2010 and 2020 census by city.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent

# Village-level name endings. Urban communities first: "社区居委会" ends in "居委会" and is urban.
URBAN_SUFFIXES = ("社区", "居委会", "居民委员会", "居民委会", "社区居委")
RURAL_SUFFIXES = (
    "村",
    "村委会",
    "村民委员会",
    "村民委会",
    "嘎查",
    "嘎查委员会",
    "嘎查委会",
)


def _suffix_sql(column: str, suffixes: tuple[str, ...]) -> str:
    return " OR ".join(f"{column} LIKE '%{s}'" for s in suffixes)


def urban_rural_sql(column: str = "name") -> str:
    """SQL CASE classifying a village-level name as 'urban', 'rural' or NULL (unrecognised)."""
    return (
        f"CASE WHEN {_suffix_sql(column, URBAN_SUFFIXES)} THEN 'urban' "
        f"WHEN {_suffix_sql(column, RURAL_SUFFIXES)} THEN 'rural' END"
    )


def convert(source: Path, target: Path = HERE) -> None:
    adm = source / "admin_divisions_2023"
    census = source / "census_2020"
    con = duckdb.connect()

    def csv(path: Path) -> str:
        return f"read_csv('{path}', header = true, all_varchar = true)"

    pad = "rpad({0}, 12, '0')"
    divisions = f"""
    WITH units AS (
        SELECT {pad.format("code")} AS unit_code, name, 'province' AS level, 1 AS depth,
               NULL AS parent_code, {pad.format("code")} AS province_code,
               NULL AS city_code, NULL AS county_code, NULL AS township_code,
               NULL AS urban_rural
        FROM {csv(adm / "provinces.csv")}
        UNION ALL
        SELECT {pad.format("code")}, name, 'city', 2, {pad.format("provinceCode")},
               {pad.format("provinceCode")}, {pad.format("code")}, NULL, NULL, NULL
        FROM {csv(adm / "cities.csv")}
        UNION ALL
        SELECT {pad.format("code")}, name, 'county', 3, {pad.format("cityCode")},
               {pad.format("provinceCode")}, {pad.format("cityCode")}, {pad.format("code")},
               NULL, NULL
        FROM {csv(adm / "areas.csv")}
        UNION ALL
        SELECT {pad.format("code")}, name, 'township', 4, {pad.format("areaCode")},
               {pad.format("provinceCode")}, {pad.format("cityCode")},
               {pad.format("areaCode")}, {pad.format("code")}, NULL
        FROM {csv(adm / "streets.csv")}
        UNION ALL
        SELECT code, name, 'village', 5, {pad.format("streetCode")},
               {pad.format("provinceCode")}, {pad.format("cityCode")},
               {pad.format("areaCode")}, {pad.format("streetCode")}, {urban_rural_sql("name")}
        FROM {csv(adm / "villages.csv")}
    )
    SELECT unit_code, name, level, parent_code, province_code, city_code, county_code,
           township_code, urban_rural
    FROM units
    -- 金门县's placeholder township and village carry the county's own code: they are not units
    -- (a village code never ends in 000), and keeping them made one code a county, a township and
    -- a village at once, so data on it passed ingest and then fell out of every mart.
    WHERE NOT (level IN ('township', 'village') AND unit_code = county_code)
    ORDER BY unit_code, depth
    """
    _write(con, divisions, target / "divisions_2023.parquet")

    county_cols = (
        "province, city, county, pop_total, pop_male, pop_female, pop_urban, pop_rural, "
        "CAST(pop_city_district AS BIGINT) AS pop_city_district, family_households, "
        "family_household_pop, household_size, share_0_14, share_15_64, share_65plus, "
        "CAST(hukou_elsewhere_same_county AS BIGINT) AS hukou_elsewhere_same_county, "
        "CAST(hukou_elsewhere_other_county_same_prov AS BIGINT) "
        "AS hukou_elsewhere_other_county_same_prov, "
        "CAST(hukou_elsewhere_other_prov AS BIGINT) AS hukou_elsewhere_other_prov"
    )
    census_county = f"""
    SELECT rpad(code, 12, '0') AS county_code,
           CASE WHEN code LIKE '%0000' THEN 'province'
                WHEN code LIKE '%00' THEN 'city' ELSE 'county' END AS level,
           {county_cols}
    FROM read_csv('{census / "census_county_2020_slim.csv"}', header = true,
                  types = {{'code': 'VARCHAR'}})
    WHERE code IS NOT NULL
    ORDER BY county_code
    """
    _write(con, census_county, target / "census_county_2020.parquet")

    census_city = f"""
    SELECT rpad(CAST(city_code AS VARCHAR), 12, '0') AS city_code, city,
           rpad(CAST(province_code AS VARCHAR), 12, '0') AS province_code, province,
           CAST(round(popu_2020) AS BIGINT) AS popu_2020,
           CAST(round(popu_urban_2020) AS BIGINT) AS popu_urban_2020,
           CAST(round(popu_rural_2020) AS BIGINT) AS popu_rural_2020,
           CAST(round(popu_2010) AS BIGINT) AS popu_2010,
           CAST(round(popu_urban_2010) AS BIGINT) AS popu_urban_2010,
           CAST(round(popu_rural_2010) AS BIGINT) AS popu_rural_2010,
           household_2020 AS household_size_2020, household_2010 AS household_size_2010,
           male_female_2020, male_female_2010,
           age_0_14_2020, age_15_59_2020, age_60_2020, age_65_2020,
           age_0_14_2010, age_15_59_2010, age_60_2010, age_65_2010
    FROM read_csv('{census / "census_city_2010-2020_v1_nogeom.csv"}', header = true)
    ORDER BY city_code
    """
    _write(con, census_city, target / "census_city_2010_2020.parquet")

    shutil.copyfile(adm / "LICENSE", target / "LICENSE-admin-divisions")
    shutil.copyfile(census / "LICENSE", target / "LICENSE-census")

    for name in ("divisions_2023", "census_county_2020", "census_city_2010_2020"):
        path = target / f"{name}.parquet"
        print(
            name,
            con.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0],
            "rows",
        )
    print(
        con.sql(
            f"SELECT level, urban_rural, count(*) FROM read_parquet('{target}/divisions_2023.parquet')"
            " GROUP BY ALL ORDER BY ALL"
        )
    )


def _write(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    con.execute(
        f"COPY ({query}) TO '{path}' "
        "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 19, ROW_GROUP_SIZE 131072)"
    )
    print(f"wrote {path.name}: {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: convert.py SOURCE_DIR  (the folder with admin_divisions_2023/ and census_2020/)")
    convert(Path(sys.argv[1]))
