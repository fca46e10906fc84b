"""Synthetic cases (工单): arrivals in proportion to residents, with realistic life cycles.

Everything is drawn as numpy arrays (one element per case), never a Python loop over cases. Each
case has up to four events: reported (status open), assigned (in_progress), first response
(in_progress; escalation, if any, happens here) and closed or cancelled. The daily case_log file
for a day holds, for every case that changed that day, its state after the day's last change,
stamped with that change's time as ``updated_at`` (see ``case_versions_sql``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from grassroots.feeds import CASE_CATEGORIES, CHANNELS, ESCALATION_LEVELS, SATISFACTION
from grassroots.generate.people import synthetic_mobiles

# Cases per 1,000 residents per month.
CASE_RATE = {"urban": 3.5, "rural": 2.5}
WEEKDAY_WEIGHT = np.array([1.1, 1.1, 1.1, 1.1, 1.1, 0.75, 0.75])  # Mon..Sun

CATEGORY_MIX = {  # over CASE_CATEGORIES
    "urban": (0.18, 0.10, 0.20, 0.08, 0.05, 0.05, 0.10, 0.06, 0.06, 0.12),
    "rural": (0.18, 0.16, 0.02, 0.12, 0.06, 0.14, 0.10, 0.08, 0.02, 0.12),
}
CHANNEL_MIX = {  # over CHANNELS: hotline_12345, grid_patrol, mobile_app, walk_in, online_portal
    "urban": (0.42, 0.18, 0.22, 0.06, 0.12),
    "rural": (0.40, 0.25, 0.07, 0.25, 0.03),
}
# Median hours from first response to closure, by category.
CLOSE_MEDIAN_HOURS = (30, 72, 60, 96, 24, 120, 36, 168, 72, 4)
ESCALATION_MIX = (0.90, 0.065, 0.03, 0.005)  # over ESCALATION_LEVELS
REPEAT_ESCALATION_MIX = (0.78, 0.14, 0.07, 0.01)
SATISFACTION_MIX = {  # over SATISFACTION
    "normal": (0.68, 0.18, 0.06, 0.08),
    "troubled": (0.42, 0.25, 0.22, 0.11),  # escalated or took more than a week
}
OUTCOME_MIX = (
    0.955,
    0.01,
    0.02,
    0.015,
)  # closed, never responded, never closed, cancelled
REPEAT_SHARE = 0.06  # share of cases followed up by the same reporter, same category, ≤ 30 days

PLACES = {
    "urban": (
        "小区内",
        "小区门口",
        "菜市场附近",
        "学校门口",
        "公园",
        "公交站旁",
        "商业街",
        "",
    ),
    "rural": ("村口", "屯里", "村道旁", "河道旁", "村委会附近", "学校门口", "集市", ""),
}
DESCRIPTIONS = {
    "environment_sanitation": (
        "垃圾堆放多日未清运，请处理",
        "有污水外溢，气味较大",
        "杂草丛生，请安排清理",
    ),
    "neighbour_dispute": (
        "邻里因噪音发生纠纷，请协调",
        "相邻住户因占道问题有矛盾",
        "宠物扰民，双方协商未果",
    ),
    "property_management": (
        "电梯故障多次，物业未及时维修",
        "楼道堆放杂物，请处理",
        "物业收费不透明，要求说明",
    ),
    "road_traffic": (
        "路面坑洼，存在安全隐患",
        "车辆乱停乱放，影响通行",
        "路灯不亮，夜间出行不便",
    ),
    "public_safety": (
        "消防通道被占用，请处理",
        "发现电动车楼内充电",
        "井盖缺失，存在安全隐患",
    ),
    "social_assistance": (
        "咨询低保申请条件和流程",
        "独居老人需要上门帮扶",
        "残疾人补贴发放情况咨询",
    ),
    "utilities": ("停水未提前通知，请核实", "供暖温度不达标", "燃气管道有异味，请检查"),
    "housing_construction": (
        "夜间施工噪音扰民",
        "房屋墙体开裂，请求鉴定",
        "违章搭建，请核查",
    ),
    "market_regulation": (
        "商户占道经营，请处理",
        "购买商品质量问题投诉",
        "价格标示不清，请核查",
    ),
    "consultation": (
        "咨询社保缴费办理事项",
        "咨询户籍迁移所需材料",
        "咨询居住证办理流程",
    ),
}


def _choice(rng: np.random.Generator, n: int, probs: tuple[float, ...]) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return rng.choice(p.size, size=n, p=p / p.sum())


def _time_of_day(rng: np.random.Generator, patrol: np.ndarray) -> np.ndarray:
    """Seconds after midnight: mostly daytime, patrols during working hours."""
    n = patrol.size
    daytime = rng.normal(13.0 * 3600, 3.5 * 3600, n)
    outside = (daytime < 7 * 3600) | (daytime >= 22 * 3600)
    daytime = np.where(outside, rng.uniform(7 * 3600, 22 * 3600, n), daytime)
    anytime = rng.uniform(0, 86400, n)
    work = rng.uniform(8 * 3600, 18 * 3600, n)
    tod = np.where(rng.random(n) < 0.85, daytime, anytime)
    return np.floor(np.where(patrol, work, tod)).astype(np.int64)


def build_cases(
    units: pd.DataFrame,
    start: dt.date,
    window_end: dt.date,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per case, with its event times (epoch seconds; -1 = never)."""
    days = np.arange(np.datetime64(start, "D"), np.datetime64(window_end, "D") + 1)
    day_s = days.astype("datetime64[s]").astype(np.int64)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    urban_u = units["is_urban"].to_numpy()
    rate = np.where(urban_u, CASE_RATE["urban"], CASE_RATE["rural"])
    daily = units["resident0"].to_numpy() * rate / 1000.0 * 12 / 365.25
    lam = daily[:, None] * WEEKDAY_WEIGHT[weekday][None, :]
    counts = rng.poisson(lam)
    unit_idx = np.repeat(np.repeat(np.arange(len(units)), len(days)), counts.ravel())
    day_idx = np.repeat(np.tile(np.arange(len(days)), len(units)), counts.ravel())
    n = unit_idx.size

    urban = urban_u[unit_idx]
    category = np.zeros(n, dtype=np.int64)
    channel = np.zeros(n, dtype=np.int64)
    for key, mask in (("urban", urban), ("rural", ~urban)):
        category[mask] = _choice(rng, int(mask.sum()), CATEGORY_MIX[key])
        channel[mask] = _choice(rng, int(mask.sum()), CHANNEL_MIX[key])
    patrol = channel == CHANNELS.index("grid_patrol")
    reported = day_s[day_idx] + _time_of_day(rng, patrol)

    # Reporter phones: a pool per county, sized so that chance repeats happen now and then.
    county = units["county_code"].to_numpy()[unit_idx]
    county_codes, county_idx = np.unique(county, return_inverse=True)
    expected = np.bincount(county_idx, minlength=county_codes.size)
    pool_size = np.maximum(50, (expected * 1.5).astype(np.int64))
    pool_offset = np.concatenate([[0], np.cumsum(pool_size)[:-1]])
    pool = synthetic_mobiles(rng, int(pool_size.sum()))
    phone_idx = pool_offset[county_idx] + np.floor(rng.random(n) * pool_size[county_idx]).astype(np.int64)

    # Follow-ups: the same reporter about the same matter 1-25 days later.
    orig = np.flatnonzero((rng.random(n) < REPEAT_SHARE) & ~patrol)
    f_reported = (
        reported[orig] + rng.integers(1, 26, orig.size) * 86400 + rng.integers(-3600, 3600, orig.size)
    )
    keep = f_reported <= day_s[-1] + 86399
    orig, f_reported = orig[keep], f_reported[keep]
    f_channel = np.where(rng.random(orig.size) < 0.7, CHANNELS.index("hotline_12345"), channel[orig])
    is_repeat = np.concatenate([np.zeros(n, dtype=bool), np.ones(orig.size, dtype=bool)])
    unit_idx = np.concatenate([unit_idx, unit_idx[orig]])
    category = np.concatenate([category, category[orig]])
    channel = np.concatenate([channel, f_channel])
    reported = np.concatenate([reported, f_reported])
    phone_idx = np.concatenate([phone_idx, phone_idx[orig]])
    patrol = channel == CHANNELS.index("grid_patrol")
    n = unit_idx.size

    # Life cycle.
    hour = 3600.0
    assign = np.clip(rng.lognormal(np.log(hour), 1.0, n), 300, 3 * 86400)
    assign = np.where(patrol, np.maximum(assign * 0.3, 60), assign)
    respond = np.clip(rng.lognormal(np.log(5 * hour), 1.1, n), 600, 5 * 86400)
    escalation = _choice(rng, n, ESCALATION_MIX)
    esc_repeat = _choice(rng, n, REPEAT_ESCALATION_MIX)
    escalation = np.where(is_repeat, esc_repeat, escalation)
    median_close = np.asarray(CLOSE_MEDIAN_HOURS, dtype=float)[category] * hour
    close = rng.lognormal(np.log(median_close), 0.9) * np.where(escalation > 0, 2.5, 1.0)
    close = np.maximum(close, 600)
    outcome = _choice(rng, n, OUTCOME_MIX)  # 0 closed, 1 never responded, 2 never closed, 3 cancelled
    cancel = np.clip(rng.lognormal(np.log(2 * hour), 1.0, n), 300, 2 * 86400)

    assigned_at = reported + assign.astype(np.int64)
    first_response_at = np.where(outcome == 1, -1, assigned_at + respond.astype(np.int64))
    closed_at = np.where(outcome == 0, first_response_at + close.astype(np.int64), -1)
    cancelled_at = np.where(outcome == 3, first_response_at + cancel.astype(np.int64), -1)

    troubled = (escalation > 0) | (close > 7 * 86400)
    satisfaction = np.where(
        troubled,
        _choice(rng, n, SATISFACTION_MIX["troubled"]),
        _choice(rng, n, SATISFACTION_MIX["normal"]),
    )

    unit_codes = units["unit_code"].to_numpy().astype("U12")[unit_idx]
    handled = _handling_units(unit_codes, escalation)

    templates = [t for c in CASE_CATEGORIES for t in DESCRIPTIONS[c]]
    per_cat = np.array([len(DESCRIPTIONS[c]) for c in CASE_CATEGORIES])
    offsets = np.concatenate([[0], np.cumsum(per_cat)[:-1]])
    t_idx = offsets[category] + np.floor(rng.random(n) * per_cat[category]).astype(np.int64)
    place_u = np.asarray(PLACES["urban"])[rng.integers(0, len(PLACES["urban"]), n)]
    place_r = np.asarray(PLACES["rural"])[rng.integers(0, len(PLACES["rural"]), n)]
    place = np.where(urban_u[unit_idx], place_u, place_r)
    description = np.char.add(place, np.asarray(templates)[t_idx])
    description = np.where(is_repeat, np.char.add("再次反映：", description), description)

    phone = np.where(patrol, "", pool[phone_idx])

    cases = pd.DataFrame(
        {
            "unit_code": unit_codes,
            "channel": np.asarray(CHANNELS)[channel],
            "category": np.asarray(CASE_CATEGORIES)[category],
            "reported_s": reported,
            "assigned_s": assigned_at,
            "first_response_s": first_response_at,
            "closed_s": closed_at,
            "cancelled_s": cancelled_at,
            "escalated_to_level": np.asarray(ESCALATION_LEVELS)[escalation],
            "handled_by_unit_code": handled,
            "satisfaction": np.asarray(SATISFACTION)[satisfaction],
            "reporter_phone": phone,
            "description": description,
            "is_repeat": is_repeat,
        }
    )
    cases["county6"] = cases["unit_code"].str[:6]
    # case_id = C<county6><YYYYMMDD><seq>, seq by report time within county and day.
    cases["report_day"] = pd.to_datetime(cases["reported_s"], unit="s").dt.strftime("%Y%m%d")
    cases = cases.sort_values(
        ["county6", "report_day", "reported_s", "unit_code", "category"], kind="stable"
    ).reset_index(drop=True)
    seq = cases.groupby(["county6", "report_day"]).cumcount() + 1
    cases.insert(
        0,
        "case_id",
        "C" + cases["county6"] + cases["report_day"] + seq.map("{:05d}".format),
    )
    return cases.drop(columns=["county6", "report_day"])


def _handling_units(unit_codes: np.ndarray, escalation: np.ndarray) -> np.ndarray:
    """The unit handling the case after escalation: itself, its township, county or city."""
    keep = np.asarray([12, 9, 6, 4])[escalation]
    out = unit_codes.copy()
    for level, digits in enumerate((12, 9, 6, 4)):
        if level == 0:
            continue
        mask = keep == digits
        if not mask.any():
            continue
        out[mask] = np.char.ljust(unit_codes[mask].astype(f"U{digits}"), 12, "0")
    return out


def case_versions_sql(cases_table: str, window_end_ts: str) -> str:
    """SQL turning one row per case into one row per case and day it changed (state at day end)."""
    s = "make_timestamp(CAST({c} AS BIGINT) * 1000000)"
    ts = {c: s.format(c=c) for c in ("reported_s", "assigned_s", "first_response_s", "closed_s")}
    return f"""
    WITH c AS (SELECT * FROM {cases_table}),
    ev AS (
        SELECT *, 1 AS k, reported_s AS t FROM c
        UNION ALL SELECT *, 2, assigned_s FROM c
        UNION ALL SELECT *, 3, first_response_s FROM c WHERE first_response_s >= 0
        UNION ALL SELECT *, 4, greatest(closed_s, cancelled_s) FROM c
            WHERE closed_s >= 0 OR cancelled_s >= 0
    ),
    days AS (
        SELECT *, row_number() OVER (
            PARTITION BY case_id, t // 86400 ORDER BY k DESC) AS rn
        FROM ev WHERE make_timestamp(CAST(t AS BIGINT) * 1000000) <= TIMESTAMP '{window_end_ts}'
    )
    SELECT case_id, unit_code, channel, category,
           {ts["reported_s"]} AS reported_at,
           CASE WHEN k >= 2 THEN {ts["assigned_s"]} END AS assigned_at,
           CASE WHEN k >= 3 THEN {ts["first_response_s"]} END AS first_response_at,
           CASE WHEN k = 4 AND closed_s >= 0 THEN {ts["closed_s"]} END AS closed_at,
           CASE WHEN k = 1 THEN 'open' WHEN k < 4 THEN 'in_progress'
                WHEN closed_s >= 0 THEN 'closed' ELSE 'cancelled' END AS status,
           CASE WHEN k >= 3 THEN escalated_to_level ELSE 'none' END AS escalated_to_level,
           CASE WHEN k >= 3 THEN handled_by_unit_code ELSE unit_code END AS handled_by_unit_code,
           CASE WHEN k = 4 AND closed_s >= 0 THEN satisfaction END AS satisfaction,
           nullif(reporter_phone, '') AS reporter_phone, description,
           make_timestamp(CAST(t AS BIGINT) * 1000000) AS updated_at
    FROM days WHERE rn = 1
    """
