"""Synthetic staff: who works where, in which post, and their (fake) personal data.

Head count per unit = a small floor + Poisson(rate × basis), with basis = 0.6 · registered +
0.4 · resident: staff partly follow registration, not only residence, which is the allocation
mismatch the product exists to measure. Staff are stable across months (same staff_id) with some
exits and replacement hires. Names, ID numbers and phones are synthetic; ID numbers carry valid
GB 11643 check digits, the county's area code and birth dates 1960–2002.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from grassroots.feeds import EDUCATION, POST_CATEGORIES, SOCIAL_WORK_CERTS
from grassroots.generate.region import Region
from grassroots.idcard import with_check_digits

REGISTERED_WEIGHT = 0.6  # staff basis = 0.6 · registered + 0.4 · resident

# (floor, staff per 10,000 basis) by unit type.
STAFFING = {"urban": (2, 10.0), "rural": (1, 30.0), "township": (5, 4.0)}

POST_MIX = {  # probabilities over POST_CATEGORIES
    "urban": (0.0, 0.03, 0.55, 0.30, 0.12),
    "rural": (0.0, 0.03, 0.40, 0.12, 0.45),
    "township": (0.45, 0.30, 0.03, 0.07, 0.15),
}
CERT_MIX = {  # probabilities over SOCIAL_WORK_CERTS
    "urban_community_worker": (0.40, 0.32, 0.23, 0.05),
    "rural_community_worker": (0.78, 0.15, 0.06, 0.01),
    "other": (0.88, 0.08, 0.035, 0.005),
}
EDUCATION_MIX = {  # probabilities over EDUCATION
    "formal": (0.0, 0.02, 0.03, 0.25, 0.60, 0.10),
    "community_worker": (0.03, 0.17, 0.08, 0.40, 0.30, 0.02),
    "other": (0.15, 0.35, 0.20, 0.25, 0.05, 0.0),
}
MONTHLY_EXIT_HAZARD = {"auxiliary": 0.025, "grid_worker": 0.015}
DEFAULT_EXIT_HAZARD = 0.008
REPLACEMENT_SHARE = 0.8

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文辉玲红春梅海燕鹏飞宇晨浩然欣怡佳琪子涵雨轩思远志强淑珍凤兰德明振华晓东丹丹亮亮婷婷雪梅立新永红"
)

DEFAULT_HIRE_FLOOR = dt.date(1995, 1, 1)


def _choice(rng: np.random.Generator, n: int, probs: tuple[float, ...]) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return rng.choice(p.size, size=n, p=p / p.sum())


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def synthetic_names(rng: np.random.Generator, n: int) -> np.ndarray:
    surnames = np.asarray(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    given = np.asarray(GIVEN_CHARS)[rng.integers(0, len(GIVEN_CHARS), (n, 2))]
    two = rng.random(n) < 0.7
    return np.char.add(surnames, np.where(two, np.char.add(given[:, 0], given[:, 1]), given[:, 0]))


def synthetic_mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """11-digit mobile numbers 1[3-9]x xxxx xxxx (synthetic, not checked against real ranges)."""
    second = rng.integers(3, 10, n)
    rest = rng.integers(0, 10**9, n)
    return np.char.add(np.char.add("1", second.astype("U1")), np.char.zfill(rest.astype("U9"), 9))


def synthetic_id_numbers(
    rng: np.random.Generator, area: np.ndarray, birth: np.ndarray, male: np.ndarray
) -> np.ndarray:
    """Unique 18-character ID numbers: area (6) + birth YYYYMMDD + sequence (odd = male) + check."""
    birth_str = np.datetime_as_string(birth.astype("datetime64[D]"), unit="D")
    yyyymmdd = np.char.replace(birth_str, "-", "")
    seq = rng.integers(0, 500, area.size) * 2 + male.astype(np.int64)
    ids = with_check_digits(
        np.char.add(np.char.add(area.astype("U6"), yyyymmdd), np.char.zfill(seq.astype("U3"), 3))
    )
    # Resolve the (rare) collisions deterministically by moving the sequence on by 2.
    for _ in range(1000):
        _, first, counts = np.unique(ids, return_index=True, return_counts=True)
        if (counts == 1).all():
            return ids
        dup = np.ones(ids.size, dtype=bool)
        dup[first] = False
        seq[dup] = (seq[dup] + 2) % 1000
        prefixes = np.char.add(
            np.char.add(area[dup].astype("U6"), yyyymmdd[dup]),
            np.char.zfill(seq[dup].astype("U3"), 3),
        )
        ids[dup] = with_check_digits(prefixes)
    raise RuntimeError("could not make ID numbers unique")


def staff_units(region: Region, units: pd.DataFrame) -> pd.DataFrame:
    """Units that employ staff: every village-level unit and every township with villages."""
    basis = REGISTERED_WEIGHT * units["registered0"] + (1 - REGISTERED_WEIGHT) * units["resident0"]
    villages = pd.DataFrame(
        {
            "unit_code": units["unit_code"],
            "county_code": units["county_code"],
            "unit_type": np.where(units["is_urban"], "urban", "rural"),
            "basis": basis,
        }
    )
    by_township = basis.groupby(units["township_code"]).sum()
    townships = pd.DataFrame(
        {
            "unit_code": region.townships["unit_code"],
            "county_code": region.townships["county_code"],
            "unit_type": "township",
            "basis": region.townships["unit_code"].map(by_township).fillna(0.0).to_numpy(),
        }
    )
    return pd.concat([villages, townships], ignore_index=True).sort_values("unit_code", ignore_index=True)


def build_staff(
    region: Region,
    units: pd.DataFrame,
    start: dt.date,
    window_end: dt.date,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Everyone employed at some time in the window, with hire and (if any) exit dates."""
    su = staff_units(region, units)
    floor = su["unit_type"].map(lambda t: STAFFING[t][0]).to_numpy()
    rate = su["unit_type"].map(lambda t: STAFFING[t][1]).to_numpy()
    expected = su["basis"].to_numpy() * rate / 10_000 * rng.lognormal(0.0, 0.1, len(su))
    heads = floor + rng.poisson(expected)

    idx = np.repeat(np.arange(len(su)), heads)
    n = idx.size
    unit_type = su["unit_type"].to_numpy()[idx]
    post_idx = np.zeros(n, dtype=np.int64)
    for t, probs in POST_MIX.items():
        mask = unit_type == t
        post_idx[mask] = _choice(rng, int(mask.sum()), probs)
    post = np.asarray(POST_CATEGORIES, dtype=object)[post_idx]
    # Exits within the window (monthly hazard), replacements hired into the same post.
    hazard = np.array([MONTHLY_EXIT_HAZARD.get(p, DEFAULT_EXIT_HAZARD) for p in POST_CATEGORIES])
    months_to_exit = rng.exponential(1.0 / hazard[post_idx])
    exit_day = _days(start) + np.floor(months_to_exit * 30.44).astype(np.int64)
    exits = exit_day <= _days(window_end)
    initial = pd.DataFrame(
        {
            "unit_idx": idx,
            "post_category": post.astype(str),
            "hire_day": np.full(n, -1, dtype=np.int64),  # filled below
            "exit_day": np.where(exits, exit_day, -1),
            "replacement": False,
        }
    )
    replaced = exits & (rng.random(n) < REPLACEMENT_SHARE)
    replacements = pd.DataFrame(
        {
            "unit_idx": idx[replaced],
            "post_category": post[replaced].astype(str),
            "hire_day": exit_day[replaced] + rng.integers(5, 61, int(replaced.sum())),
            "exit_day": -1,
            "replacement": True,
        }
    )
    replacements = replacements[replacements["hire_day"] <= _days(window_end)]
    staff = pd.concat([initial, replacements], ignore_index=True)
    m = len(staff)

    # Birth dates 1960-01-01 .. 2002-12-31; initial hires between age 20 and the window start.
    birth_day = rng.integers(_days(dt.date(1960, 1, 1)), _days(dt.date(2002, 12, 31)) + 1, m)
    earliest = np.maximum(birth_day + 7305, _days(DEFAULT_HIRE_FLOOR))
    latest = _days(start) - 1
    earliest = np.minimum(earliest, latest)
    hire_initial = earliest + np.floor(rng.random(m) * (latest - earliest + 1)).astype(np.int64)
    staff["hire_day"] = np.where(staff["replacement"], staff["hire_day"], hire_initial)
    staff["birth_day"] = birth_day

    staff["unit_code"] = su["unit_code"].to_numpy()[staff["unit_idx"]]
    staff["county_code"] = su["county_code"].to_numpy()[staff["unit_idx"]]
    staff["unit_type"] = su["unit_type"].to_numpy()[staff["unit_idx"]]
    # Staff ids: per county, initial staff by unit, then replacements by hire date.
    staff["order"] = np.arange(len(staff))
    staff["sort_day"] = np.where(staff["replacement"], staff["hire_day"], 0)
    staff = staff.sort_values(
        ["county_code", "replacement", "sort_day", "unit_code", "order"],
        ignore_index=True,
    ).drop(columns=["order", "sort_day"])
    seq = staff.groupby("county_code").cumcount() + 1
    staff["staff_id"] = "S" + staff["county_code"].str[:6] + seq.map("{:05d}".format)

    m = len(staff)
    male = rng.random(m) < 0.55
    staff["name"] = synthetic_names(rng, m)
    staff["id_number"] = synthetic_id_numbers(
        rng,
        staff["county_code"].str[:6].to_numpy().astype("U6"),
        np.asarray(staff["birth_day"], dtype="datetime64[D]"),
        male,
    )
    staff["phone"] = synthetic_mobiles(rng, m)
    post = staff["post_category"].to_numpy()
    utype = staff["unit_type"].to_numpy()
    cert = np.empty(m, dtype=object)
    groups = {
        "urban_community_worker": (post == "community_worker") & (utype == "urban"),
        "rural_community_worker": (post == "community_worker") & (utype != "urban"),
    }
    groups["other"] = ~(groups["urban_community_worker"] | groups["rural_community_worker"])
    for g, mask in groups.items():
        cert[mask] = np.asarray(SOCIAL_WORK_CERTS)[_choice(rng, int(mask.sum()), CERT_MIX[g])]
    staff["social_work_cert"] = cert.astype(str)
    edu = np.empty(m, dtype=object)
    egroups = {
        "formal": np.isin(post, ("civil_servant", "public_institution")),
        "community_worker": post == "community_worker",
    }
    egroups["other"] = ~(egroups["formal"] | egroups["community_worker"])
    for g, mask in egroups.items():
        edu[mask] = np.asarray(EDUCATION)[_choice(rng, int(mask.sum()), EDUCATION_MIX[g])]
    edu[rng.random(m) < 0.02] = None  # education is optional and sometimes missing
    staff["education"] = edu
    half = np.where(post == "auxiliary", 0.25, 0.07)
    staff["fte"] = np.where(rng.random(m) < half, 0.5, 1.0)
    return staff.drop(columns=["unit_idx"])


def roster_snapshot(staff: pd.DataFrame, month_start: dt.date, month_end: dt.date) -> pd.DataFrame:
    """Staff on the books at some point in the month; exit_date shown once it has happened."""
    ms, me = _days(month_start), _days(month_end)
    active = (staff["hire_day"] <= me) & ((staff["exit_day"] < 0) | (staff["exit_day"] >= ms))
    s = staff[active]
    epoch = np.datetime64("1970-01-01", "D")
    exit_known = (s["exit_day"] >= 0) & (s["exit_day"] <= me)
    return pd.DataFrame(
        {
            "staff_id": s["staff_id"],
            "name": s["name"],
            "id_number": s["id_number"],
            "phone": s["phone"],
            "unit_code": s["unit_code"],
            "post_category": s["post_category"],
            "fte": s["fte"],
            "hire_date": epoch + s["hire_day"].to_numpy().astype("timedelta64[D]"),
            "exit_date": np.where(
                exit_known,
                epoch + s["exit_day"].to_numpy().astype("timedelta64[D]"),
                np.datetime64("NaT"),
            ),
            "education": s["education"],
            "social_work_cert": s["social_work_cert"],
            "snapshot_date": np.datetime64(month_end, "D"),
            "county_code": s["county_code"],
        }
    ).sort_values("staff_id", ignore_index=True)
