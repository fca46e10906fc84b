"""The demo region: real counties, their townships and villages, and their census figures."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from grassroots import reference

# The default demo region (DESIGN §4): two rural counties in cities that lost a quarter of their
# people between the 2010 and 2020 censuses, and one urban district of a fast-growing city.
DEFAULT_COUNTIES: tuple[str, ...] = (
    "220622",  # 靖宇县, 白山市, 吉林省: 8 townships, 118 villages; 白山 -26.6% 2010→2020
    "231224",  # 庆安县, 绥化市, 黑龙江省: 20 townships, 116 villages; 绥化 -30.7%
    "350206",  # 湖里区, 厦门市, 福建省: 7 streets, 61 communities (all 社区); 厦门 +46.2%
)

# Fallback residents per unit when a 2023 county has no 2020 census row (merged/renamed since).
FALLBACK_URBAN_UNIT_POP = 8000
FALLBACK_RURAL_UNIT_POP = 1200


@dataclass(frozen=True)
class Region:
    counties: pd.DataFrame  # one row per county, census columns and city change
    townships: pd.DataFrame  # township-level units that have villages
    villages: pd.DataFrame  # village-level units (villages and communities)

    @property
    def county_codes(self) -> list[str]:
        return list(self.counties["county_code"])


def normalise_county_codes(counties: list[str] | tuple[str, ...] | None) -> list[str]:
    codes = list(counties) if counties else list(DEFAULT_COUNTIES)
    out: list[str] = []
    for code in codes:
        code = str(code).strip()
        if len(code) == 12 and code.endswith("000000"):
            code = code[:6]
        if len(code) != 6 or not code.isdigit() or code.endswith("00"):
            raise ValueError(f"not a 6-digit county code: {code!r}")
        padded = reference.pad_code(code)
        if padded not in out:
            out.append(padded)
    return out


def load_region(counties: list[str] | tuple[str, ...] | None) -> Region:
    """Read the requested counties (6- or 12-digit codes) and their units from the reference data."""
    codes = normalise_county_codes(counties)
    con = duckdb.connect()
    try:
        con.execute("SET threads = 2")
        div = f"read_parquet('{reference.divisions_path()}')"
        con.execute(
            f"CREATE TEMP TABLE units AS SELECT * FROM {div} WHERE county_code IN "
            f"(SELECT unnest(?::VARCHAR[]))",
            [codes],
        )
        county_df = con.execute(
            f"""
            SELECT u.unit_code AS county_code, u.name AS county_name, u.city_code,
                   c.name AS city_name, u.province_code, p.name AS province_name,
                   cc.pop_total, cc.pop_urban, cc.pop_rural, cc.household_size,
                   cc.share_65plus,
                   (cc.hukou_elsewhere_same_county + cc.hukou_elsewhere_other_county_same_prov
                    + cc.hukou_elsewhere_other_prov) / cc.pop_total AS floating_share,
                   ci.popu_2010 AS city_pop_2010, ci.popu_2020 AS city_pop_2020
            FROM units u
            LEFT JOIN {div} c ON c.unit_code = u.city_code AND c.level = 'city'
            LEFT JOIN {div} p ON p.unit_code = u.province_code AND p.level = 'province'
            LEFT JOIN read_parquet('{reference.census_county_path()}') cc
                   ON cc.county_code = u.unit_code AND cc.level = 'county'
            LEFT JOIN read_parquet('{reference.census_city_path()}') ci
                   ON ci.city_code = u.city_code
            WHERE u.level = 'county'
            ORDER BY u.unit_code
            """
        ).df()
        missing = sorted(set(codes) - set(county_df["county_code"]))
        if missing:
            raise ValueError(f"unknown county codes (not in the 2023 divisions): {missing}")
        villages = con.execute(
            """
            SELECT unit_code, name, township_code, county_code,
                   coalesce(urban_rural, 'rural') AS urban_rural
            FROM units WHERE level = 'village' AND unit_code <> township_code
            ORDER BY unit_code
            """
        ).df()
        townships = con.execute(
            """
            SELECT t.unit_code, t.name, t.county_code
            FROM units t
            WHERE t.level = 'township'
              AND EXISTS (SELECT 1 FROM units v WHERE v.level = 'village'
                          AND v.township_code = t.unit_code AND v.unit_code <> t.unit_code)
            ORDER BY t.unit_code
            """
        ).df()
    finally:
        con.close()
    empty = sorted(set(codes) - set(villages["county_code"]))
    if empty:
        raise ValueError(f"counties without village-level units: {empty}")

    counties_df = county_df.set_index("county_code")
    n_urban = villages[villages.urban_rural == "urban"].groupby("county_code").size()
    n_rural = villages[villages.urban_rural == "rural"].groupby("county_code").size()
    counties_df["n_urban_units"] = n_urban.reindex(counties_df.index).fillna(0).astype(int)
    counties_df["n_rural_units"] = n_rural.reindex(counties_df.index).fillna(0).astype(int)
    no_census = counties_df["pop_total"].isna()
    counties_df["has_census"] = ~no_census
    counties_df.loc[no_census, "pop_urban"] = (
        counties_df.loc[no_census, "n_urban_units"] * FALLBACK_URBAN_UNIT_POP
    )
    counties_df.loc[no_census, "pop_rural"] = (
        counties_df.loc[no_census, "n_rural_units"] * FALLBACK_RURAL_UNIT_POP
    )
    counties_df.loc[no_census, "pop_total"] = (
        counties_df.loc[no_census, "pop_urban"] + counties_df.loc[no_census, "pop_rural"]
    )
    counties_df["household_size"] = counties_df["household_size"].fillna(2.6).astype(float)
    counties_df["share_65plus"] = counties_df["share_65plus"].fillna(13.5).astype(float)
    counties_df["floating_share"] = counties_df["floating_share"].fillna(0.2).astype(float)
    change = counties_df["city_pop_2020"] / counties_df["city_pop_2010"] - 1.0
    counties_df["city_change_2010_2020"] = change.astype(float).fillna(0.0)
    counties_df["trend"] = np.select(
        [
            counties_df["city_change_2010_2020"] < -0.05,
            counties_df["city_change_2010_2020"] > 0.05,
        ],
        ["declining", "growing"],
        "stable",
    )
    for col in ("pop_total", "pop_urban", "pop_rural"):
        counties_df[col] = counties_df[col].astype("int64")
    return Region(
        counties=counties_df.reset_index(),
        townships=townships.reset_index(drop=True),
        villages=villages.reset_index(drop=True),
    )
