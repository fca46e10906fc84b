"""Bilingual column labels and display formats (formatting only: nothing here computes)."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

# column -> (Chinese, English)
LABELS: dict[str, tuple[str, str]] = {
    "unit_code": ("单位代码", "Unit code"),
    "unit_name": ("单位", "Unit"),
    "unit_level": ("层级", "Level"),
    "township_code": ("乡镇街道代码", "Township code"),
    "township_name": ("乡镇/街道", "Township"),
    "county_code": ("区县代码", "County code"),
    "county_name": ("区县", "County"),
    "city_name": ("地市", "City"),
    "province_name": ("省份", "Province"),
    "month": ("月份", "Month"),
    "units_evaluated": ("评价单位数", "Units evaluated"),
    "units_in_allocation_base": ("配置基数单位数", "Units in allocation base"),
    "villages_missing_population": ("缺人口数据村社", "Villages missing population"),
    "units_with_cases": ("有工单单位数", "Units with cases"),
    "has_roster": ("有人员名册", "Roster delivered"),
    "roster_snapshot_date": ("名册日期", "Roster date"),
    "county_staff_fte": ("人员(FTE)", "Staff FTE"),
    "staff_fte_outside_base": ("基数外人员(FTE)", "Staff FTE outside base"),
    "county_resident_population": ("常住人口", "Residents"),
    "county_registered_population": ("户籍人口", "Registered"),
    "county_residence_ratio": ("常住/户籍", "Resident / registered"),
    "staff_per_10k_residents": ("每万常住人口人员", "Staff per 10k residents"),
    "staff_per_10k_registered": ("每万户籍人口人员", "Staff per 10k registered"),
    "d_resident": ("相异指数(常住)", "D resident"),
    "d_registered": ("相异指数(户籍)", "D registered"),
    "d_gap": ("指数差", "D gap"),
    "allocated_by_registration": ("按户籍配置", "Allocated by registration"),
    "posts_to_reallocate": ("方案调整岗位(整岗)", "Whole posts the plan moves"),
    "fte_misallocated": ("错配人员(FTE)", "FTE misallocated"),
    "allocation_base_coverage": ("配置基数覆盖率", "Allocation-base coverage"),
    "d_null_reason": ("未计算原因", "Why no index"),
    "required_staff_fte": ("按标准应配(FTE)", "Required by norm FTE"),
    "norm_staffing_gap": ("按标准缺口(FTE)", "Norm gap FTE"),
    "planned_change_posts": ("方案增减(整岗)", "Planned change (posts)"),
    "reallocation_target_fte": ("方案目标(FTE)", "Plan target FTE"),
    "scoring_status": ("评分状态", "Scoring status"),
    "units": ("单位数", "Units"),
    "feed": ("数据源", "Feed"),
    "delivery_date": ("交付日期", "Delivery date"),
    "status": ("状态", "Status"),
    "files": ("文件数", "Files"),
    "files_loaded": ("已入库", "Loaded"),
    "files_duplicate": ("重复", "Duplicate"),
    "files_blocked": ("被拦截", "Blocked"),
    "files_rejected": ("被拒收", "Rejected"),
    "rows_in": ("交付行数", "Rows in"),
    "rows_loaded": ("入库行数", "Rows loaded"),
    "rows_quarantined": ("隔离行数", "Rows quarantined"),
    "rows_refused": ("拒收行数", "Rows refused"),
    "critical_failed": ("严重校验失败", "Critical checks failed"),
    "warnings": ("警告", "Warnings"),
    "why": ("原因", "Why"),
    "failed_expectations": ("未通过的校验", "Failed expectations"),
    "source_file": ("文件", "File"),
    "error": ("错误", "Error"),
    "finished_at": ("完成时间", "Finished at"),
    "rule": ("规则", "Rule"),
    "example_detail": ("示例", "Example"),
    "in_allocation_base": ("在配置基数内", "In allocation base"),
    "staff_fte": ("人员(FTE)", "Staff FTE"),
    "resident_population": ("常住人口", "Residents"),
    "registered_population": ("户籍人口", "Registered"),
    "residence_ratio": ("常住/户籍", "Resident / registered"),
    "staff_share": ("人员占比", "Staff share"),
    "resident_share": ("常住人口占比", "Resident share"),
    "registered_share": ("户籍人口占比", "Registered share"),
    "fair_share_staff": ("按常住应配(FTE)", "Fair share FTE"),
    "reallocation_delta": ("应增减(FTE)", "Reallocation delta"),
    "move_rank": ("序号", "Move"),
    "from_unit_code": ("调出单位代码", "From code"),
    "from_unit_name": ("调出单位", "From unit"),
    "to_unit_code": ("调入单位代码", "To code"),
    "to_unit_name": ("调入单位", "To unit"),
    "fte": ("调整(FTE)", "FTE moved"),
    "from_staff_fte": ("调出方现有", "From: staff now"),
    "from_target_fte": ("调出方目标", "From: target"),
    "to_staff_fte": ("调入方现有", "To: staff now"),
    "to_target_fte": ("调入方目标", "To: target"),
    "cases_received": ("受理工单", "Cases received"),
    "cases_per_fte": ("人均工单", "Cases per FTE"),
    "cases_per_10k_residents": ("每万人工单", "Cases per 10k residents"),
    "backlog_month_end": ("月末积压", "Backlog at month end"),
    "backlog_per_fte": ("人均积压", "Backlog per FTE"),
    "response_rate": ("响应率", "Response rate"),
    "responded_share": ("已响应占比", "Responded share"),
    "resolution_rate": ("解决率", "Resolution rate"),
    "satisfaction_rate": ("满意率", "Satisfaction rate"),
    "responded_within_sla_rate": ("按时响应率", "Responded within SLA"),
    "closed_within_sla_rate": ("按时办结率", "Closed within SLA"),
    "escalation_rate": ("上交率", "Escalation rate"),
    "response_calendar_hours_median": ("响应时长中位数(自然小时)", "Calendar hours to response, median"),
    "response_working_hours_median": ("响应时长中位数(工作小时)", "Working hours to response, median"),
    "closure_calendar_hours_median": ("办结时长中位数(自然小时)", "Calendar hours to closure, median"),
    "closure_working_hours_median": ("办结时长中位数(工作小时)", "Working hours to closure, median"),
    "category": ("类别", "Category"),
    "peer_group": ("同类组", "Peer group"),
    "composite_score": ("综合得分", "Composite"),
    "professionalism_score": ("专业性", "Professionalism"),
    "responsiveness_score": ("回应性", "Responsiveness"),
    "self_governance_score": ("自治性", "Self-governance"),
    "institutionalisation_score": ("制度化", "Institutionalisation"),
    "digitalisation_score": ("智能化", "Digitalisation"),
    "coverage_score": ("全覆盖", "Coverage"),
    "rank_in_peer_group": ("组内排名", "Rank in peer group"),
    "peer_group_units_ranked": ("组内单位数", "Units ranked in group"),
    "rank_in_county": ("区县内排名", "Rank in county"),
    "composite_score_change": ("较上月变化", "Change from last month"),
    "previous_composite_score": ("上月综合得分", "Previous composite"),
    "previous_rank_in_peer_group": ("上月组内排名", "Previous rank in group"),
    "dimension": ("维度代码", "Dimension"),
    "dimension_zh": ("维度", "Dimension (zh)"),
    "indicator_code": ("指标代码", "Indicator"),
    "label_zh": ("指标", "Indicator (zh)"),
    "direction": ("方向", "Direction"),
    "weight": ("权重", "Weight"),
    "indicator_value": ("指标值", "Value"),
    "peer_min": ("组内最小", "Peer min"),
    "peer_max": ("组内最大", "Peer max"),
    "score": ("得分", "Score"),
    "scoring_peer_group": ("评分组", "Scoring peer group"),
    "peer_group_fallback": ("并组原因", "Peer-group fallback"),
    "coverage": ("数据覆盖度", "Coverage"),
    "rank_min": ("最好排名", "Best rank (scenarios)"),
    "rank_max": ("最差排名", "Worst rank (scenarios)"),
    "rank_range": ("排名区间", "Rank range"),
    "score_reason": ("未评分原因", "Why not scored"),
    "scoring_value": ("评分值(收缩后)", "Scored value (shrunk)"),
    "indicator_denominator": ("分母", "Denominator"),
    "units_ranked": ("排名单位数", "Units ranked"),
    "units_moving_more_than_n": ("排名变动超过N位的单位", "Units moving more than N places"),
    "rank_shift_places": ("N", "N places"),
    "max_rank_range": ("最大排名区间", "Largest rank range"),
    "scenarios": ("情景数", "Scenarios"),
}

PCT = {
    "allocation_base_coverage",
    "staff_share",
    "resident_share",
    "registered_share",
    "response_rate",
    "responded_share",
    "resolution_rate",
    "satisfaction_rate",
    "responded_within_sla_rate",
    "closed_within_sla_rate",
    "escalation_rate",
}
INT = {
    "resident_population",
    "registered_population",
    "county_resident_population",
    "county_registered_population",
    "units",
    "units_evaluated",
    "units_in_allocation_base",
    "villages_missing_population",
    "units_with_cases",
    "files",
    "files_loaded",
    "files_duplicate",
    "files_blocked",
    "files_rejected",
    "rows_in",
    "rows_loaded",
    "rows_quarantined",
    "rows_refused",
    "critical_failed",
    "warnings",
    "cases_received",
    "backlog_month_end",
    "rank_in_peer_group",
    "peer_group_units_ranked",
    "rank_in_county",
    "previous_rank_in_peer_group",
    "move_rank",
    "rank_min",
    "rank_max",
    "rank_range",
    "units_ranked",
    "units_moving_more_than_n",
    "max_rank_range",
}
DIGITS3 = {"d_resident", "d_registered", "d_gap", "residence_ratio", "county_residence_ratio"}
SIGNED = {
    "reallocation_delta",
    "composite_score_change",
    "d_gap",
    "norm_staffing_gap",
    "planned_change_posts",
}

STATUS_LABELS = {
    "complete": "完整 complete",
    "partial": "部分 partial",
    "no_data": "无数据 no data",
    "insufficient_data": "数据不足 insufficient data",
    "too_few_peers": "同类单位过少 too few peers",
    "loaded": "已入库 loaded",
    "loaded_with_findings": "入库有发现 loaded with findings",
    "refused": "拒收 refused",
    "blocked": "被拦截 blocked",
    "rejected": "被拒收 rejected",
    "duplicate": "重复 duplicate",
}


# Why a figure is null (the marts' *_null_reason / d_null_reason / scoring status codes).
REASONS = {
    "no_roster": "无人员名册 no roster for the month",
    "no_population": "无人口数据 no population figures",
    "low_coverage": "配置基数覆盖率不足 too little of the county's population has staff and population data",
    "stale_roster": "名册过期 the latest roster is older than its maximum age",
    "no_staff": "基数内无人员 no staff in the allocation base",
    "stale_snapshot": "数据过期 the latest snapshot is older than its maximum age",
    "no_cases": "无工单 no cases",
    "no_sla_for_category": "类别无时限标准 no SLA for the category",
    "no_response_data": "无响应时间数据 the supplier sends no first-response times",
}


def reason(code: str) -> str:
    """Bilingual text of a null reason code (the code itself when unknown)."""
    return f"{REASONS.get(code, code)} ({code})"


def label(column: str) -> str:
    zh, en = LABELS.get(column, (column, ""))
    return f"{zh} {en}".strip() if en else zh


def label_zh(column: str) -> str:
    return LABELS.get(column, (column, ""))[0]


def label_en(column: str) -> str:
    return LABELS.get(column, ("", column))[1] or column


def fmt(column: str, value) -> str:
    """Display text of a mart value (rounding for the eye only; exports keep full precision)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        sign = "+" if column in SIGNED and value > 0 else ""
        if column in PCT:
            return f"{value * 100:.1f}%"
        if column in INT:
            return f"{value:,.0f}"
        if column in DIGITS3:
            return f"{sign}{value:.3f}"
        if isinstance(value, int):
            return f"{sign}{value:,}"
        return f"{sign}{value:,.2f}" if abs(value) < 1000 else f"{sign}{value:,.0f}"
    text = str(value)
    if column in NAMED_CODES:
        return NAMED_CODES[column](text)
    if column in ("status", "scoring_status"):
        return STATUS_LABELS.get(text, text)
    return text


_INFINITIES = (math.inf, -math.inf)


@functools.cache
def formatter(column: str) -> Callable[[Any], str]:
    """``fmt`` for one column, as a function of the value: the same text, about three times faster.

    A report formats millions of cells; the common types (str, float, int, None) take a short path
    chosen once per column, everything else goes through `fmt` itself.
    """
    sign = column in SIGNED
    if column in PCT:

        def number(v):
            return f"{v * 100:.1f}%"

        integer = number
    elif column in INT:

        def number(v):
            return f"{v:,.0f}"

        integer = number
    elif column in DIGITS3:

        def number(v):
            return f"+{v:.3f}" if sign and v > 0 else f"{v:.3f}"

        integer = number
    else:

        def number(v):
            if sign and v > 0:
                return f"+{v:,.2f}" if abs(v) < 1000 else f"+{v:,.0f}"
            return f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"

        def integer(v):
            return f"+{v:,}" if sign and v > 0 else f"{v:,}"

    statuses = STATUS_LABELS if column in ("status", "scoring_status") else None
    named = NAMED_CODES.get(column)

    def format_value(v) -> str:
        t = type(v)
        if t is float:
            return "–" if v != v or v in _INFINITIES else number(v)
        if v is None:
            return "–"
        if t is str:
            if named:
                return named(v)
            return statuses.get(v, v) if statuses else v
        if t is int:
            return integer(v)
        return fmt(column, v)

    return format_value


def format_column(column: str, values: Sequence) -> list[str]:
    """``[fmt(column, v) for v in values]``: one comprehension for the common columns (all floats,
    all ints or all texts, with or without None), `formatter` for the others."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    plain = column not in SIGNED and column not in DIGITS3
    if plain and kinds <= {float, int}:
        if column in PCT:
            return ["–" if v is None or v != v or v in _INFINITIES else f"{v * 100:.1f}%" for v in values]
        if column in INT:
            return ["–" if v is None or v != v or v in _INFINITIES else f"{v:,.0f}" for v in values]
        if kinds <= {int}:
            return ["–" if v is None else f"{v:,}" for v in values]
        if kinds <= {float}:
            return [
                "–"
                if v is None or v != v or v in _INFINITIES
                else f"{v:,.2f}"
                if -1000 < v < 1000
                else f"{v:,.0f}"
                for v in values
            ]
    if kinds <= {str} and column not in ("status", "scoring_status") and column not in NAMED_CODES:
        return ["–" if v is None else v for v in values]
    f = formatter(column)
    return [f(v) for v in values]


# --- peer groups and levels ------------------------------------------------------------------------
# Codes as the marts write them: dim_unit.peer_group is ``<urban_rural_class>_<band_code>`` (bands
# from the seed peer_group_bands), mart_scorecard.scoring_peer_group is ``<level>/<peer_group>`` or,
# after a fallback, ``<level>/<class>`` or ``<level>``. The Chinese band names are the seed's
# band_label_zh (tests/report/test_formatting.py checks they agree).

LEVELS = {
    "county": ("区县", "County"),
    "township": ("乡镇(街道)", "Township"),
    "village": ("村(社区)", "Village/community"),
}
# (level, class) -> (Chinese, English)
LEVEL_CLASSES = {
    ("village", "urban"): ("社区", "Urban community"),
    ("village", "rural"): ("村", "Rural village"),
    ("village", "unclassified"): ("村(社区)", "Unclassified village/community"),
    ("township", "urban"): ("街道", "Urban subdistrict"),
    ("township", "rural"): ("乡镇", "Rural township"),
    ("township", "unclassified"): ("乡镇(街道)", "Unclassified township"),
}
CLASSES = {"urban": ("城市", "Urban"), "rural": ("农村", "Rural"), "unclassified": ("未分类", "Unclassified")}
# (level, class, band) -> Chinese (seed band_label_zh); English by band code
BANDS_ZH = {
    ("village", "urban", "small"): "小型社区",
    ("village", "urban", "medium"): "中型社区",
    ("village", "urban", "large"): "大型社区",
    ("village", "rural", "small"): "小村",
    ("village", "rural", "medium"): "中等村",
    ("village", "rural", "large"): "大村",
    ("village", "unclassified", "all"): "未分类",
    ("township", "urban", "all"): "街道",
    ("township", "rural", "all"): "乡镇",
    ("township", "unclassified", "all"): "未分类",
}
BANDS_EN = {"small": "small", "medium": "medium", "large": "large", "unknown": "population unknown"}
BANDS_ZH_UNKNOWN = "人口未知"


def _split_peer_group(code: str) -> tuple[str | None, str | None, str | None]:
    """(level, class, band) of a peer-group code; level None when the code does not carry it."""
    level, _, rest = code.rpartition("/") if "/" in code else (None, "", code)
    if level is None and code in LEVELS:
        return code, None, None
    cls, _, band = rest.partition("_")
    if level is None and band not in ("all", "") and cls in CLASSES:
        level = "village"  # only villages are banded by size
    return level, cls or None, band or None


@functools.cache
def peer_group_name(code: str | None) -> str:
    """``village/rural_large`` → ``村·大村 Rural village, large`` (the code itself when unknown)."""
    if not code:
        return "–"
    level, cls, band = _split_peer_group(code)
    if level in LEVELS and cls is None:
        zh, en = LEVELS[level]
        return f"{zh}(全部) {en} (all)"
    if cls not in CLASSES:
        return code
    if level is None:  # an unbanded peer_group without its level (e.g. unclassified_all)
        zh, en = CLASSES[cls]
        return f"{zh} {en}"
    kind_zh, kind_en = LEVEL_CLASSES.get((level, cls), (LEVELS.get(level, (level, level))[0], cls))
    if band is None:  # fallback to the whole class
        return f"{kind_zh}(各规模) {kind_en} (all sizes)"
    if band == "all":
        return f"{kind_zh} {kind_en}"
    band_zh = BANDS_ZH.get((level, cls, band), BANDS_ZH_UNKNOWN if band == "unknown" else band)
    return f"{kind_zh}·{band_zh} {kind_en}, {BANDS_EN.get(band, band)}"


def level_name(code: str | None) -> str:
    if not code:
        return "–"
    zh, en = LEVELS.get(code, (code, ""))
    return f"{zh} {en}".strip()


# columns whose codes are shown by name (exports keep the codes)
NAMED_CODES: dict[str, Callable[[str], str]] = {
    "peer_group": peer_group_name,
    "scoring_peer_group": peer_group_name,
    "unit_level": level_name,
}
