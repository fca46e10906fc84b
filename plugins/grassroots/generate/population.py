"""Resident and registered populations per village-level unit, consistent with the census.

Residents in each county are the census 2020 total × scale, urban residents spread over the
county's communities and rural residents over its villages (log-normal weights). Registered
population comes from a per-unit residence ratio (resident / registered) set by the city's
2010→2020 change: below 1 (0.55–0.95) where the city lost people, 0.95–1.6 where it gained.
Both drift slowly over time; snapshots add a little noise but the county sums stay near census.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from grassroots.generate.region import Region

# Annual drift of residents and registrations, by county trend.
RESIDENT_TREND = {"declining": -0.015, "growing": 0.015, "stable": 0.0}
REGISTERED_TREND = {"declining": -0.005, "growing": 0.008, "stable": 0.0}


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights (largest remainder; sums exactly)."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.size == 0 or weights.sum() <= 0:
        return np.zeros(weights.size, dtype=np.int64)
    exact = total * weights / weights.sum()
    base = np.floor(exact).astype(np.int64)
    rest = int(total - base.sum())
    if rest > 0:
        order = np.lexsort((np.arange(weights.size), -(exact - base)))
        base[order[:rest]] += 1
    return base


def residence_ratios(rng: np.random.Generator, trend: str, change: float, urban: np.ndarray) -> np.ndarray:
    n = urban.size
    if trend == "declining":
        centre = float(np.clip(1.0 + 0.9 * change, 0.68, 0.85))
        ratio = centre * rng.lognormal(0.0, 0.1, n) + 0.06 * urban
        return np.clip(ratio, 0.55, 0.95)
    if trend == "growing":
        centre = float(np.clip(1.0 + 0.8 * change, 1.1, 1.4))
        return np.clip(centre * rng.lognormal(0.0, 0.12, n), 0.95, 1.6)
    return np.clip(rng.lognormal(0.0, 0.08, n), 0.8, 1.25)


def build_units(region: Region, scale: float, rng: np.random.Generator) -> pd.DataFrame:
    """Village-level units with base (as of the window start) resident and registered figures."""
    villages = region.villages
    parts: list[pd.DataFrame] = []
    for county in region.counties.itertuples(index=False):
        units = villages[villages["county_code"] == county.county_code].copy()
        urban = (units["urban_rural"] == "urban").to_numpy()
        weights = rng.lognormal(0.0, 0.45, len(units))
        pop_urban = round(county.pop_urban * scale)
        pop_rural = round(county.pop_total * scale) - pop_urban
        if not urban.any():
            pop_urban, pop_rural = 0, pop_urban + pop_rural
        elif urban.all():
            pop_urban, pop_rural = pop_urban + pop_rural, 0
        resident = np.zeros(len(units), dtype=np.int64)
        resident[urban] = allocate(pop_urban, weights[urban])
        resident[~urban] = allocate(pop_rural, weights[~urban])
        resident = np.maximum(resident, 1)
        ratio = residence_ratios(rng, county.trend, county.city_change_2010_2020, urban)
        units["is_urban"] = urban
        units["trend"] = county.trend
        units["resident0"] = resident
        units["registered0"] = np.maximum(np.rint(resident / ratio), 1).astype(np.int64)
        units["household_size"] = county.household_size * rng.lognormal(0.0, 0.06, len(units))
        elder_factor = 1.15 if county.trend == "declining" else 0.95
        units["share65"] = county.share_65plus / 100.0 * elder_factor * rng.lognormal(0.0, 0.12, len(units))
        units["floating_share"] = county.floating_share * rng.lognormal(0.0, 0.25, len(units))
        units["vulnerable_rate"] = 0.012 + 0.12 * units["share65"] * rng.lognormal(0.0, 0.2, len(units))
        units["resident_trend"] = RESIDENT_TREND[county.trend] + rng.normal(0.0, 0.004, len(units))
        units["registered_trend"] = REGISTERED_TREND[county.trend] + rng.normal(0.0, 0.002, len(units))
        parts.append(units)
    return pd.concat(parts, ignore_index=True)


def _years(as_of: dt.date, base: dt.date) -> float:
    return (as_of - base).days / 365.25


def resident_snapshot(
    units: pd.DataFrame, as_of: dt.date, base: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    years = _years(as_of, base)
    noise = rng.normal(0.0, 0.002, len(units)) if years > 0 else np.zeros(len(units))
    resident = np.maximum(
        np.rint(units["resident0"] * (1 + units["resident_trend"] * years) * (1 + noise)),
        1,
    ).astype(np.int64)
    registered = units["registered0"].to_numpy()
    floating = np.rint(
        np.maximum(resident - registered, 0) * 0.9 + resident * np.minimum(units["floating_share"], 0.9) * 0.2
    ).astype(np.int64)
    return pd.DataFrame(
        {
            "unit_code": units["unit_code"],
            "as_of_date": as_of,
            "resident_population": resident,
            "resident_households": np.maximum(np.rint(resident / units["household_size"]), 1).astype(
                np.int64
            ),
            "floating_population_in": np.minimum(floating, resident),
            "residents_age_65_plus": np.rint(resident * units["share65"]).astype(np.int64),
            "vulnerable_persons": np.rint(resident * units["vulnerable_rate"]).astype(np.int64),
        }
    )


def registration_snapshot(
    units: pd.DataFrame, as_of: dt.date, base: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    years = _years(as_of, base)
    noise = rng.normal(0.0, 0.001, len(units))
    registered = np.maximum(
        np.rint(units["registered0"] * (1 + units["registered_trend"] * years) * (1 + noise)),
        1,
    ).astype(np.int64)
    residents65 = units["resident0"] * units["share65"]
    return pd.DataFrame(
        {
            "unit_code": units["unit_code"],
            "as_of_date": as_of,
            "registered_population": registered,
            "registered_households": np.maximum(
                np.rint(registered / (units["household_size"] * 1.08)), 1
            ).astype(np.int64),
            "registered_age_65_plus": np.minimum(
                np.rint(residents65 * (1.02 + 0.08 * (units["trend"] == "declining"))),
                registered,
            ).astype(np.int64),
        }
    )
