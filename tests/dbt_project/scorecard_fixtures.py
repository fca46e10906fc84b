"""Extra raw rows for the scorecard's own integration build (test_scorecard_build.py), on top of the
fixtures of fixtures.py (both case batches): five more villages of county A with enough January cases
to be scored, so that county A has villages with no data (V4), villages with too little (V1–V3: a
roster and a handful of cases) and villages that are ranked. Values chosen so that every score and
rank below can be computed by hand.

New villages of 东华门街道 (township TA), no population or roster rows of their own (county A's
roster knows them as units with 0 staff):
    V7–V10 社区居委会 (urban), V11 村委会 (no delivered class: derived rural)

January cases, all category utilities (response SLA 2 calendar hours, resolution 3 working days),
reported on Tuesday 2024-01-09 from 09:00 at 10-minute steps, first response 1 h later (V10: 1.5 h),
closed 2 h after the report (in time), not escalated (resolved locally), every case rated; each with
its own reporter (no repeats). Channels: mobile_app (digital) or hotline_12345; all resident-initiated.

    village  cases  satisfied  digital
    V7         5        3         0
    V8        20       19         4
    V9         5        4         1
    V10        5        2         5
    V11        5        5         2

Scorecard (seed defaults: min_coverage 0.6, min_peer_group_units 5, min_cases 5, m = 10,
case_window_months W = 3: case rates sum numerators and denominators over the unit's months m−2 … m;
the fixture's months are January and February, so January's window is January alone):
- V1: 5 received in January, 2 cancelled → every case rate rests on 3 valid cases, the median on 3
  responded: all too_few_cases → staff shares only, certified 10 + formal 5 = 15 of the 80
  unit-scope weight → coverage 0.1875 → insufficient_data.
  V2 (1 case), V3 (none), township office TA: staff shares only, 15/80 = 0.1875 → insufficient_data.
  V4: no unit-scope value at all → no_data. So county A's first three villages are not ranked.
- V7–V11: no staff (certified_share, formal_fte_share null, no_staff); the eight case indicators
  have ≥ 5 cases: coverage 65/80 = 0.8125 → partial. Peer groups: V7–V10 urban_unknown (4 < 5),
  their class remainder village/urban 4 < 5; V11 rural_unknown (1), village/rural 1; the level
  remainder village = 5 → all five scored in `village`, fallback level_class_below_minimum.
- Scores (percentile rank, n = 5): ties everywhere except
    satisfaction_rate, peer mean 33/40 = 0.825, m × mean = 8.25, shrunk (sat + 8.25)/(n + 10):
      V10 10.25/15 = 0.6833 → 0, V7 11.25/15 = 0.75 → 25, V9 12.25/15 = 0.8167 → 50,
      V11 13.25/15 = 0.8833 → 75, V8 27.25/30 = 0.9083 → 100 (raw 0.95 < V11's 1.0: shrinkage).
    digital_channel_share, peer mean 12/40 = 0.3, m × mean = 3:
      V7 3/15 = 0.2 → 0, V8 7/30 = 0.2333 → 25, V9 4/15 = 0.2667 → 50, V11 5/15 = 0.3333 → 75,
      V10 8/15 = 0.5333 → 100.
    response_hours_median (lower better): V10 1.5 → 0, the others 1.0 (4 tied: below 1,
      (1 + 3/2)/4) → 62.5.
    tied at 50: response_rate, resolution_rate, closed_within_sla_rate, resolved_locally_rate,
      resident_initiated_share (all 1.0), feeds_current_share (1/3: roster only), data_completeness
      (2/4: roster and the county case feed) → weights 10+10+5+10+5+10+10 = 60, Σ w·s = 3000.
  Composite = Σ w·s / 85:
    V7  3000 + 5·62.5 + 10·25 + 10·0   = 3562.5 → 41.911765  rank 5
    V8  3000 + 312.5 + 1000 + 250      = 4562.5 → 53.676471  rank 2
    V9  3000 + 312.5 + 500 + 500       = 4312.5 → 50.735294  rank 3
    V10 3000 + 0 + 0 + 1000            = 4000.0 → 47.058824  rank 4
    V11 3000 + 312.5 + 750 + 750       = 4812.5 → 56.617647  rank 1
- Sensitivity: equal_weights (Σ s / 10): 43.75, 53.75, 51.25, 45.0, 56.25 → baseline order;
  drop_digitalisation (/75): V8 4312.5 → 57.5, V11 4062.5 → 54.17, V9 3812.5 → 50.83, V7 47.5,
  V10 3000 → 40 → V8 1, V11 2, V9 3, V7 4, V10 5; drop_responsiveness (/45, 35·50 = 1750 +
  10·digital): V10 2750 → 61.1, V11 2500 → 55.6, V9 2250 → 50, V8 2000 → 44.4, V7 1750 → 38.9 →
  V10 1, V11 2, V9 3, V8 4, V7 5; the other drops and min_max keep the baseline order. Rank ranges:
  V7 4–5 (1), V8 1–4 (3), V9 3–3 (0), V10 1–5 (4), V11 1–2 (1); with N = 3 one unit (V10) moves
  by more than N places.

February (the window at work): no case in county A in February, so V7–V11's case rates are
January's counts summed over the window January + February (window_months 3): the same values,
denominators and peer means as in January, hence the same percentile scores (satisfaction V10 0, V7 25,
V9 50, V11 75, V8 100; digital V7 0, V8 25, V9 50, V11 75, V10 100). The median stays on February
alone: no responded case → no_cases (window_months 1). Coverage (65 − 5)/80 = 0.75 → partial; only
V7–V11 are scorable in February (V1 still 3 valid cases in its window) → scored in `village`,
fallback level_class_below_minimum. Tied at 50: the five 1.0 case rates (10 + 10 + 5 + 10 + 5 = 40),
feeds_current_share and data_completeness (10 + 10) → 60, Σ w·s = 3000; scored weight 60 + 10 + 10 = 80.
  Composite = Σ w·s / 80:
    V7  3000 + 10·25 + 10·0    = 3250 → 40.625  rank 5
    V8  3000 + 1000 + 250      = 4250 → 53.125  rank 2
    V9  3000 + 500 + 500       = 4000 → 50.0    rank 3 (tied)
    V10 3000 + 0 + 1000        = 4000 → 50.0    rank 3 (tied)
    V11 3000 + 750 + 750       = 4500 → 56.25   rank 1
Without the window (one month) none of them would have a case rate in February: each would rest on
feeds and completeness (county scope) → no unit-scope value → no_data, unranked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fixtures import REF_DIVISIONS_COLUMNS, TA, A, _case, _division

TS = dt.datetime
V7, V8, V9, V10, V11 = (f"{A}001{n:03d}" for n in (7, 8, 9, 10, 11))

SCORECARD_DIVISIONS = [
    _division(V7, "北池子社区居委会", "village", TA, "urban"),
    _division(V8, "南池子社区居委会", "village", TA, "urban"),
    _division(V9, "韶九社区居委会", "village", TA, "urban"),
    _division(V10, "多福社区居委会", "village", TA, "urban"),
    _division(V11, "东华村委会", "village", TA, None),
]

# village → (cases, satisfied, digital, minutes to first response)
SCORECARD_CASE_PLAN = {
    V7: (5, 3, 0, 60),
    V8: (20, 19, 4, 60),
    V9: (5, 4, 1, 60),
    V10: (5, 2, 5, 90),
    V11: (5, 5, 2, 60),
}
SCORECARD_LOADED_AT = TS(2024, 2, 16, 6, 0)


def scorecard_cases() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    n = 0
    for unit, (cases, satisfied, digital, response_minutes) in SCORECARD_CASE_PLAN.items():
        for i in range(cases):
            n += 1
            reported = TS(2024, 1, 9, 9, 0) + dt.timedelta(minutes=10 * i)
            rows.append(
                _case(
                    f"s{unit[-2:]}-{i:02d}",
                    unit,
                    "utilities",
                    reported,
                    channel="mobile_app" if i < digital else "hotline_12345",
                    responded=reported + dt.timedelta(minutes=response_minutes),
                    closed=reported + dt.timedelta(hours=2),
                    status="closed",
                    satisfaction="satisfied" if i < satisfied else "unsatisfied",
                    reporter=f"p-s{unit[-2:]}-{i}",
                    loaded=SCORECARD_LOADED_AT,
                    n=n,
                )
            )
    return rows


def scorecard_extra_rows() -> dict[str, tuple[list[str], list[tuple]]]:
    """raw table → (column names, rows) to append to the fixtures' raw tables."""
    from grassroots.feeds import FEEDS

    case_columns = [c for c, _ in FEEDS["case_log"].raw_columns]
    division_columns = [c for c, _ in REF_DIVISIONS_COLUMNS]
    return {
        "ref_divisions": (
            division_columns,
            [tuple(d[c] for c in division_columns) for d in SCORECARD_DIVISIONS],
        ),
        "case_log": (case_columns, [tuple(r.get(c) for c in case_columns) for r in scorecard_cases()]),
    }


# ---- hand-computed expectations (see the module docstring) ------------------------------------------

# unit → (scoring_status, coverage, scoring_peer_group, peer_group_fallback, composite_score,
#         rank_in_peer_group, rank_in_county, rank_min, rank_max, rank_range), January
EXPECTED_SCORECARD_JAN = {
    f"{A}001001": ("insufficient_data", 0.1875, None, None, None, None, None, None, None, None),
    f"{A}001002": ("insufficient_data", 0.1875, None, None, None, None, None, None, None, None),
    f"{A}001003": ("insufficient_data", 0.1875, None, None, None, None, None, None, None, None),
    f"{A}001004": ("no_data", 0.0, None, None, None, None, None, None, None, None),
    TA: ("insufficient_data", 0.1875, None, None, None, None, None, None, None, None),
    V7: ("partial", 0.8125, "village", "level_class_below_minimum", 3562.5 / 85, 5, 5, 4, 5, 1),
    V8: ("partial", 0.8125, "village", "level_class_below_minimum", 4562.5 / 85, 2, 2, 1, 4, 3),
    V9: ("partial", 0.8125, "village", "level_class_below_minimum", 4312.5 / 85, 3, 3, 3, 3, 0),
    V10: ("partial", 0.8125, "village", "level_class_below_minimum", 4000.0 / 85, 4, 4, 1, 5, 4),
    V11: ("partial", 0.8125, "village", "level_class_below_minimum", 4812.5 / 85, 1, 1, 1, 2, 1),
}
# V11's contributions: responsiveness 10·50 + 10·50 + 10·75 + 5·50 + 5·62.5 = 2312.5; self-governance
# 10·50 + 5·50 = 750; institutionalisation 500; digitalisation 750; coverage 500; professionalism
# none (null). Σ = 4812.5 → composite.
EXPECTED_V11_CONTRIBUTIONS = (None, 2312.5 / 85, 750 / 85, 500 / 85, 750 / 85, 500 / 85)
# (unit, indicator) → (score_reason, scoring_value, peer_mean, score), January
EXPECTED_SCORECARD_INDICATORS = {
    (V8, "satisfaction_rate"): (None, 27.25 / 30, 0.825, 100.0),
    (V11, "satisfaction_rate"): (None, 13.25 / 15, 0.825, 75.0),
    (V7, "digital_channel_share"): (None, 0.2, 0.3, 0.0),
    (V10, "response_hours_median"): (None, 1.5, None, 0.0),
    (V9, "response_hours_median"): (None, 1.0, None, 62.5),
    (V7, "certified_share"): ("no_staff", None, None, None),
    (f"{A}001001", "satisfaction_rate"): ("too_few_cases", None, None, None),
    (f"{A}001001", "response_rate"): ("too_few_cases", None, None, None),
}
# unit → (scoring_status, coverage, scoring_peer_group, peer_group_fallback, window_months,
#         composite_score, rank_in_peer_group, rank_in_county), February (module docstring)
EXPECTED_SCORECARD_FEB = {
    V7: ("partial", 0.75, "village", "level_class_below_minimum", 3, 3250 / 80, 5, 5),
    V8: ("partial", 0.75, "village", "level_class_below_minimum", 3, 4250 / 80, 2, 2),
    V9: ("partial", 0.75, "village", "level_class_below_minimum", 3, 4000 / 80, 3, 3),
    V10: ("partial", 0.75, "village", "level_class_below_minimum", 3, 4000 / 80, 3, 3),
    V11: ("partial", 0.75, "village", "level_class_below_minimum", 3, 4500 / 80, 1, 1),
}
# (unit, indicator) → (window_months, indicator_value, indicator_denominator, score_reason,
#                      scoring_value, score), February: V8's satisfaction is January's 19 of 20 over
# the window (shrunk (19 + 8.25)/30 as in January), V10's digital share its 5 of 5 (shrunk (5 + 3)/15);
# its median has no February case (0 responded).
EXPECTED_SCORECARD_INDICATORS_FEB = {
    (V8, "satisfaction_rate"): (3, 0.95, 20, None, 27.25 / 30, 100.0),
    (V10, "digital_channel_share"): (3, 1.0, 5, None, 8 / 15, 100.0),
    (V8, "response_hours_median"): (1, None, 0, "no_cases", None, None),
    # staff shares stay on the month: the February roster lists no staff for V8 → headcount 0
    (V8, "certified_share"): (1, None, 0, "no_staff", None, None),
}
# scoring peer group village, January: scenarios, units ranked, N, units moving > N, max rank range
EXPECTED_STABILITY_VILLAGE_JAN = (9, 5, 3, 1, 4)
# Pearson r of digital_channel_share and satisfaction_rate scores in village, January:
# x = (0, 25, 50, 100, 75), y = (25, 100, 50, 0, 75) for V7–V11; deviations from 50:
# Σdx·dy = 1250 − 1250 + 0 − 2500 + 625 = −1875, Σdx² = Σdy² = 6250 → r = −0.3
EXPECTED_R_DIGITAL_SATISFACTION = -0.3
