"""The report's figures against values computed by hand, not against the report's own queries.

Two small regions are built once per session by dbt from the hand-made raw tables of the dbt
integration tests (conftest.py: ``hand_base``, ``hand_scorecard``), and the report is built from each
for January and February 2024. Every chart's values, as embedded in the page, drawn in its SVG and
written to the exports, are compared with the tables below. The inputs and the derivation of each
number are written beside it; the full stories are in the docstrings of tests/dbt_project/fixtures.py
(``hand_base``: counties A and B, plus one unanswered case r1 of V6 in January, see conftest.py) and
tests/dbt_project/scorecard_fixtures.py (``hand_scorecard``: fixtures.py plus villages V7–V11 of
county A, scored).

Codes: county A 110101000000 (township TA 110101001000, villages V1–V4 …001001–…001004, V7–V11
…001007–…001011), county B 110102000000 (township TB 110102001000, villages V5 …001001, V6 …001002).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from test_report import SVG_NS, embedded_data, svgs

from grassroots.report import build_report, labels

A, B = "110101000000", "110102000000"
TA, TB = "110101001000", "110102001000"
V1, V2, V3, V4 = (f"110101001{n:03d}" for n in (1, 2, 3, 4))
V5, V6 = "110102001001", "110102001002"
V7, V8, V9, V10, V11 = (f"110101001{n:03d}" for n in (7, 8, 9, 10, 11))
JAN, FEB = "2024-01", "2024-02"


# --- helpers -----------------------------------------------------------------------------------


def same(actual, expected) -> bool:
    """Equal, floats to 1e-9; None only equals None (a null is never read as 0)."""
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, float) or isinstance(actual, float):
        return actual == pytest.approx(expected, abs=1e-9)
    return actual == expected


def assert_rows(got: list[list], expected: list[tuple], what: str) -> None:
    assert len(got) == len(expected), f"{what}: {len(got)} rows, expected {len(expected)}:\n{got}"
    for g, e in zip(got, expected, strict=True):
        assert len(g) == len(e) and all(same(a, b) for a, b in zip(g, e, strict=True)), (
            f"{what}: got {g}, expected {e}"
        )


def chart(site: Path, page: str, chart_id: str, columns: list[str]) -> list[list]:
    """The rows a chart embeds (in the page's order), reduced to ``columns``."""
    data = embedded_data((site / page).read_text(encoding="utf-8"))[chart_id]
    idx = [data["columns"].index(c) for c in columns]
    return [[r[i] for i in idx] for r in data["rows"]]


def mark_titles(site: Path, page: str, chart_id: str, tag: str) -> dict[tuple[str, str | None], str]:
    """(data-key, data-series) → the tooltip text of each drawn mark of a chart's SVG."""
    el = svgs((site / page).read_text(encoding="utf-8"))[chart_id]
    return {
        (m.get("data-key"), m.get("data-series")): m.find(f"{SVG_NS}title").text
        for m in el.findall(f".//{SVG_NS}{tag}[@class='mark']")
    }


def export(site: Path, name: str, key: str, columns: list[str]) -> dict[str, list]:
    """A CSV export's rows by ``key`` column, the ``columns`` as numbers (empty cell → None)."""
    with (site / "exports" / f"{name}.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))

    def num(v: str):
        return None if v == "" else float(v)

    return {r[labels.label(key)]: [num(r[labels.label(c)]) for c in columns] for r in rows}


# --- staffing mismatch (hand_base: fixtures.py) -----------------------------------------------------

# County A, January (roster snapshot 01-31 as restated; population figures as restated):
#   unit  staff FTE  residents  registered │ staff share  resident share  registered share
#   V1        2        4000       2000     │ 2/8 = 0.25   4000/8000 = 0.5   2000/8000 = 0.25
#   V2        5        2000       4000     │ 5/8 = 0.625  0.25              0.5
#   V3        1        2000       2000     │ 1/8 = 0.125  0.25              0.25
#   (V4 has no population: outside the allocation base, not drawn; TA is an office, outside it too)
# February: staff 4/2/2 → shares 0.5/0.25/0.25, population unchanged (carried forward).
# County B, January and February (January roster carried forward): V5 1 FTE 1000/1000, V6 1 FTE
#   1000/3000 → staff 0.5/0.5, resident 0.5/0.5, registered 1000/4000 = 0.25, 3000/4000 = 0.75.
SHARES = {
    (A, JAN): [(V1, 0.25, 0.5, 0.25), (V2, 0.625, 0.25, 0.5), (V3, 0.125, 0.25, 0.25)],
    (A, FEB): [(V1, 0.5, 0.5, 0.25), (V2, 0.25, 0.25, 0.5), (V3, 0.25, 0.25, 0.25)],
    (B, JAN): [(V5, 0.5, 0.5, 0.25), (V6, 0.5, 0.5, 0.75)],
    (B, FEB): [(V5, 0.5, 0.5, 0.25), (V6, 0.5, 0.5, 0.75)],
}
# D = ½ Σ |staff share − population share| over the base; by registration when D_reg < D_res.
#   A Jan: D_res = ½(|0.25−0.5| + |0.625−0.25| + |0.125−0.25|) = ½(0.25 + 0.375 + 0.125) = 0.375
#          D_reg = ½(0 + 0.125 + 0.125) = 0.125 < 0.375 → allocated by registration
#   A Feb: D_res = ½(0 + 0 + 0) = 0;   D_reg = ½(0.25 + 0.25 + 0) = 0.25 → not by registration
#   B:     D_res = ½(0 + 0) = 0;       D_reg = ½(0.25 + 0.25) = 0.25     → not by registration
#   (coverage of the base: A 8000 / (8000 + V4 × median(4000, 2000, 2000)) = 0.8 ≥ 0.8, B 1.0:
#   both published)
DISSIMILARITY = {
    JAN: [(A, 0.375, 0.125, True), (B, 0.0, 0.25, False)],
    FEB: [(A, 0.0, 0.25, False), (B, 0.0, 0.25, False)],
}


@pytest.mark.parametrize("period", [JAN, FEB])
def test_mismatch_charts_hand_values(hand_base, period):
    site = hand_base.sites[period]
    got = chart(
        site,
        "index.html",
        "dissimilarity",
        ["county_code", "d_resident", "d_registered", "allocated_by_registration"],
    )
    assert_rows(got, DISSIMILARITY[period], "dissimilarity")
    for county in (A, B):
        page, cid = f"county-{county}.html", f"county-{county}-shares"
        cols = ["unit_code", "staff_share", "resident_share", "registered_share"]
        assert_rows(chart(site, page, cid, cols), SHARES[(county, period)], cid)
        # the SVG draws each unit twice (● resident, ○ registered share) at the hand-computed values:
        # its tooltip reads "<unit> (<code>): <population share label> x, <staff share label> y"
        titles = mark_titles(site, page, cid, "circle")
        assert len(titles) == 2 * len(SHARES[(county, period)])
        for unit, staff, resident, registered in SHARES[(county, period)]:
            for series, share in (("resident_share", resident), ("registered_share", registered)):
                x, y = re.search(r" ([-\d.e+]+), .* ([-\d.e+]+)$", titles[(unit, series)]).groups()
                assert (float(x), float(y)) == pytest.approx((share, staff), abs=5e-4), (unit, series)
        # the units table's export: the same shares for the units of the base
        rows = export(site, f"county-{county}-units", "unit_code", cols[1:])
        for unit, *shares in SHARES[(county, period)]:
            assert all(same(a, e) for a, e in zip(rows[unit], shares, strict=True)), (unit, rows[unit])


# The plan (county A, January): targets = fair shares 8 × 0.5 = 4 (V1), 8 × 0.25 = 2 (V2), 2 (V3);
#   deltas 4 − 2 = +2, 2 − 5 = −3, 2 − 1 = +1. Whole posts: the donor V2 gives floor(3) = 3 posts,
#   the receivers' quotas 3 × 2/3 = 2 (V1) and 3 × 1/3 = 1 (V3) → planned change +2, −3, +1.
#   The chart ranks them by planned change: V1 +2, V3 +1, V2 −3.
#   Moves (largest first): 1. V2 → V1 2 FTE (V2 5 → target 2, V1 2 → target 4); 2. V2 → V3 1 FTE
#   (V3 1 → target 2). February (staff = fair shares) and county B (D_res 0): no change, no move.
PLAN_CHANGES = [(V1, 2.0), (V3, 1.0), (V2, -3.0)]
PLAN_MOVES = [
    # move, from, to, fte, from staff, from target, to staff, to target
    (1.0, V2, V1, 2.0, 5.0, 2.0, 2.0, 4.0),
    (2.0, V2, V3, 1.0, 5.0, 2.0, 1.0, 2.0),
]


def test_plan_chart_and_export_hand_values(hand_base):
    site = hand_base.sites[JAN]
    page = f"county-{A}.html"
    got = chart(site, page, f"county-{A}-plan-changes", ["unit_code", "planned_change_posts"])
    assert_rows(got, PLAN_CHANGES, "plan changes")
    titles = mark_titles(site, page, f"county-{A}-plan-changes", "rect")
    assert {k: float(t.rsplit(": ", 1)[1]) for (k, _), t in titles.items()} == dict(PLAN_CHANGES)
    with (site / "exports" / f"county-{A}-plan.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    moves = [
        (float(r[0]), r[1], r[3], float(r[5]), float(r[6]), float(r[7]), float(r[8]), float(r[9]))
        for r in rows
    ]
    assert moves == PLAN_MOVES
    for period, county in ((FEB, A), (JAN, B), (FEB, B)):
        s = hand_base.sites[period]
        assert chart(s, f"county-{county}.html", f"county-{county}-plan-changes", ["unit_code"]) == []
        with (s / "exports" / f"county-{county}-plan.csv").open(encoding="utf-8-sig") as fh:
            assert len(fh.read().strip().splitlines()) == 1, (period, county)  # header only


# --- workload (hand_base) -----------------------------------------------------------------------

# Cases (fixtures.py, both batches), January, county A:
#   V1: c1 c3 c4 c6 c7 received (5), c4 c7 cancelled → valid c1 c3 c6 (3); responded in SLA c3 c6
#       → response 2/3; closed c1 c3 c6 → resolution 3/3; rated c1 c3, both satisfied → 2/2 = 1.0
#   V2: c5 (1): responded in 1 h ≤ 2 → 1/1; closed (in February) → 1/1; unsatisfied → 0/1
#   staff per 10k residents = FTE × 10,000 / residents; cases per FTE = cases received / FTE:
#   unit  FTE  residents  cases │ per 10k              cases per FTE
#   TA     3   —            0   │ null (no residents)  0 / 3 = 0.0
#   V1     2   4000         5   │ 2·10⁴/4000 = 5.0     5 / 2 = 2.5
#   V2     5   2000         1   │ 5·10⁴/2000 = 25.0    1 / 5 = 0.2
#   V3     1   2000         0   │ 1·10⁴/2000 = 5.0     0 / 1 = 0.0
#   V4     0   —            0   │ null                 null (no FTE to divide by)
# County B, V5 and V6 1 FTE and 1000 residents each → 1·10⁴/1000 = 10.0 per 10k, both months
#   (January roster carried forward). January: r1 at V6 (never answered nor closed) → V6 1/1 = 1.0,
#   V5 0.0; r1 is valid and not answered in SLA → response 0/1 = 0.0, resolution 0/1 = 0.0, not
#   rated → satisfaction null. February: c2 at V5 → 1/1 = 1.0, V6 0.0; c2 answered at once (in
#   SLA) → 1/1, in progress (not closed → resolution 0/1), not rated → satisfaction null.
WORKLOAD = {
    (A, JAN): [(TA, None, 0.0), (V1, 5.0, 2.5), (V2, 25.0, 0.2), (V3, 5.0, 0.0), (V4, None, None)],
    (B, JAN): [(V5, 10.0, 0.0), (V6, 10.0, 1.0)],
    (B, FEB): [(V5, 10.0, 1.0), (V6, 10.0, 0.0)],
}
# units with a case, by township then response rate (descending)
RATES = {
    (A, JAN): [(V2, 1.0, 1.0, 0.0), (V1, 2 / 3, 1.0, 1.0)],
    (B, JAN): [(V6, 0.0, 0.0, None)],
    (A, FEB): [],
    (B, FEB): [(V5, 1.0, 0.0, None)],
}
# townships: TA January = V1 + V2: 6 received, valid 4 (c1 c3 c5 c6); in SLA c3 c5 c6 → 3/4; closed
#   4/4; rated c1 c3 c5, satisfied c1 c3 → 2/3. TB: January r1 alone (1, 0.0, 0.0, null),
#   February c2 alone (1, 1.0, 0.0, null).
TOWNSHIP_RATES = {
    (A, JAN): [(TA, 6, 0.75, 1.0, 2 / 3)],
    (B, JAN): [(TB, 1, 0.0, 0.0, None)],
    (A, FEB): [],
    (B, FEB): [(TB, 1, 1.0, 0.0, None)],
}
# backlog at month end (open cases) and per FTE of the county's units (offices included):
#   A: January c5 open at 01-31 → 1, FTE 2 + 5 + 1 + 0 + 3 (TA) = 11 → 1/11; 6 cases received.
#      February: c5 closed on 02-02, nothing new → 0, 0/11 = 0.0; 0 received.
#   B: January r1 open → 1 of 2 FTE = 0.5, 1 received; February r1 still open and c2 in progress
#      → 2, 2/2 = 1.0, 1 received.
BACKLOG = {
    A: [(JAN, 1, 1 / 11, 6), (FEB, 0, 0.0, 0)],
    B: [(JAN, 1, 0.5, 1), (FEB, 2, 1.0, 1)],
}
# SLA by category: every seed category, in code order; rates over the cases of that category.
#   A January neighbour_dispute: c1 c4 c5 c6 (4), c4 cancelled; responded in 24 h: c5 (1 h), c6
#     (0.5 h), not c1 (30 h) → 2/3; closed in 80 working h: c1 (8), c6 (2), not c5 (132) → 2/3.
#   A January utilities: c3 c7 (2), c7 cancelled; c3 1 h ≤ 2, 15 working h ≤ 24 → 1/1, 1/1.
#   B January neighbour_dispute: r1, never answered → answered in SLA of the answered: 0/0 → null
#     (its response rate is 0/1 = 0: the chart shows the rate within SLA, not the response rate);
#     not closed → null.
#   B February neighbour_dispute: c2, responded at once → 1/1; not closed → null (nothing closed).
CATEGORIES = [
    "consultation",
    "environment_sanitation",
    "housing_construction",
    "market_regulation",
    "neighbour_dispute",
    "property_management",
    "public_safety",
    "road_traffic",
    "social_assistance",
    "utilities",
]
SLA_CASES = {
    (A, JAN): {"neighbour_dispute": (4, 2 / 3, 2 / 3), "utilities": (2, 1.0, 1.0)},
    (B, JAN): {"neighbour_dispute": (1, None, None)},
    (A, FEB): {},
    (B, FEB): {"neighbour_dispute": (1, 1.0, None)},
}


@pytest.mark.parametrize("period", [JAN, FEB])
@pytest.mark.parametrize("county", [A, B])
def test_workload_charts_hand_values(hand_base, county, period):
    site, page, pre = hand_base.sites[period], f"county-{county}.html", f"county-{county}"
    if (county, period) in WORKLOAD:
        got = chart(site, page, f"{pre}-workload", ["unit_code", "staff_per_10k_residents", "cases_per_fte"])
        assert_rows(got, WORKLOAD[(county, period)], "workload")
        drawn = {k for k, _ in mark_titles(site, page, f"{pre}-workload", "circle")}
        assert drawn == {r[0] for r in WORKLOAD[(county, period)] if None not in r}, "only known pairs"
    cols = ["unit_code", "response_rate", "resolution_rate", "satisfaction_rate"]
    assert_rows(chart(site, page, f"{pre}-rates", cols), RATES[(county, period)], "rates")
    cols = ["township_code", "cases_received", "response_rate", "resolution_rate", "satisfaction_rate"]
    assert_rows(chart(site, page, f"{pre}-township-rates", cols), TOWNSHIP_RATES[(county, period)], "towns")
    backlog = chart(
        site, page, f"{pre}-backlog", ["month", "backlog_month_end", "backlog_per_fte", "cases_received"]
    )
    assert_rows(backlog, BACKLOG[county][: 1 if period == JAN else 2], "backlog")
    sla = {c: (0, None, None) for c in CATEGORIES} | SLA_CASES[(county, period)]
    cols = ["category", "cases_received", "responded_within_sla_rate", "closed_within_sla_rate"]
    assert_rows(chart(site, page, f"{pre}-sla", cols), [(c, *sla[c]) for c in CATEGORIES], "sla")


# The workload table's export, county A January (columns named by their labels):
#   V1: response calendar hours c1 30, c3 1, c6 0.5 → median 1; working hours c1 Fri 09:00 → Sat
#       15:00 = 8 (Sat off), c3 Sat → 0, c6 0.5 → median 0.5; closure working c1 8, c3 Mon 8 + Tue
#       7 = 15, c6 2 → median 8; cases per 10k residents 5 × 10⁴ / 4000 = 12.5; backlog 0.
#   V2: c5 response 1 h (calendar and working); closure Wed 01-10 14:00 → Fri 02-02 10:00 =
#       3 + 16 working days × 8 + 1 = 132 working h; 1 × 10⁴ / 2000 = 5.0 per 10k; backlog 1, 1/5 FTE.
WORKLOAD_EXPORT_COLUMNS = [
    "cases_received",
    "cases_per_fte",
    "cases_per_10k_residents",
    "backlog_month_end",
    "backlog_per_fte",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "response_calendar_hours_median",
    "response_working_hours_median",
    "closure_working_hours_median",
]
WORKLOAD_EXPORT = {
    V1: [5.0, 2.5, 12.5, 0.0, 0.0, 2 / 3, 1.0, 1.0, 1.0, 0.5, 8.0],
    V2: [1.0, 0.2, 5.0, 1.0, 0.2, 1.0, 1.0, 0.0, 1.0, 1.0, 132.0],
    V3: [0.0, 0.0, 0.0, 0.0, 0.0, None, None, None, None, None, None],
}


def test_workload_export_hand_values(hand_base):
    rows = export(hand_base.sites[JAN], f"county-{A}-workload-units", "unit_code", WORKLOAD_EXPORT_COLUMNS)
    for unit, expected in WORKLOAD_EXPORT.items():
        assert all(same(a, e) for a, e in zip(rows[unit], expected, strict=True)), (unit, rows[unit])


# --- scorecard (hand_scorecard: fixtures.py + scorecard_fixtures.py) -------------------------------

# Indicator scores (percentile rank in peer group `village`, n = 5; scorecard_fixtures.py docstring):
#   satisfaction (shrunk): V10 0, V7 25, V9 50, V11 75, V8 100; digital share: V7 0, V8 25, V9 50,
#   V11 75, V10 100; response hours median (January only): V10 0, the others 62.5; the five other
#   case rates, feeds_current_share and data_completeness: 50 for all (ties).
# Dimension score = Σ weight × score / Σ weight of its scored indicators:
#   responsiveness = response 10, resolution 10, satisfaction 10, closed in SLA 5, median 5:
#     January (weight 40; 10·response + 10·resolution + 10·satisfaction + 5·in SLA + 5·median):
#       V7 500 + 500 + 250 + 250 + 312.5 = 1812.5/40 = 45.3125
#       V8 500 + 500 + 1000 + 250 + 312.5 = 2562.5/40 = 64.0625
#       V9 500 + 500 + 500 + 250 + 312.5 = 2062.5/40 = 51.5625
#       V10 500 + 500 + 0 + 250 + 0 = 1250/40 = 31.25;  V11 500 + 500 + 750 + 250 + 312.5 = 57.8125
#     February (no median: weight 35): V7 1500/35, V8 2250/35, V9 1750/35 = 50, V10 1250/35,
#       V11 2000/35
#   digitalisation = digital share alone; self-governance, institutionalisation, coverage: ties → 50;
#   professionalism: no staff in V7–V11 → null, no unit drawn.
# Composite = Σ w·s / scored weight: January /85, February /80 (numerators in the fixture's table).
STRIPS = {
    ("composite_score", JAN): {
        V7: 3562.5 / 85,
        V8: 4562.5 / 85,
        V9: 4312.5 / 85,
        V10: 4000 / 85,
        V11: 4812.5 / 85,
    },
    ("composite_score", FEB): {V7: 3250 / 80, V8: 4250 / 80, V9: 4000 / 80, V10: 4000 / 80, V11: 4500 / 80},
    ("responsiveness_score", JAN): {V7: 45.3125, V8: 64.0625, V9: 51.5625, V10: 31.25, V11: 57.8125},
    ("responsiveness_score", FEB): {V7: 1500 / 35, V8: 2250 / 35, V9: 50.0, V10: 1250 / 35, V11: 2000 / 35},
    ("digitalisation_score", JAN): {V7: 0.0, V8: 25.0, V9: 50.0, V10: 100.0, V11: 75.0},
    ("digitalisation_score", FEB): {V7: 0.0, V8: 25.0, V9: 50.0, V10: 100.0, V11: 75.0},
    ("self_governance_score", JAN): dict.fromkeys((V7, V8, V9, V10, V11), 50.0),
    ("institutionalisation_score", JAN): dict.fromkeys((V7, V8, V9, V10, V11), 50.0),
    ("coverage_score", JAN): dict.fromkeys((V7, V8, V9, V10, V11), 50.0),
    ("professionalism_score", JAN): {},
}


@pytest.mark.parametrize("score,period", list(STRIPS))
def test_score_strips_hand_values(hand_scorecard, score, period):
    site = hand_scorecard.sites[period]
    cid = "scores-" + score.removesuffix("_score")
    got = chart(site, "scorecard.html", cid, ["unit_code", "scoring_peer_group", score])
    expected = STRIPS[(score, period)]
    assert_rows(got, [(u, "village", v) for u, v in sorted(expected.items())], cid)
    # each tick's tooltip shows the score to one decimal ("<unit name>: 41.9 (<peer group>)")
    titles = mark_titles(site, "scorecard.html", cid, "rect")
    shown = {k: float(re.search(r": (-?[\d.]+) \(", t).group(1)) for (k, _), t in titles.items()}
    assert shown == {u: round(v, 1) for u, v in expected.items()}


# The scorecard table's export, January: composite, rank in the peer group and the rank range over
# the sensitivity scenarios (scorecard_fixtures.py: V7 4–5, V8 1–4, V9 3–3, V10 1–5, V11 1–2).
SCORECARD_EXPORT_COLUMNS = ["composite_score", "rank_in_peer_group", "rank_min", "rank_max", "rank_range"]
SCORECARD_EXPORT = {
    V7: [3562.5 / 85, 5.0, 4.0, 5.0, 1.0],
    V8: [4562.5 / 85, 2.0, 1.0, 4.0, 3.0],
    V9: [4312.5 / 85, 3.0, 3.0, 3.0, 0.0],
    V10: [4000 / 85, 4.0, 1.0, 5.0, 4.0],
    V11: [4812.5 / 85, 1.0, 1.0, 2.0, 1.0],
    # too little data (staff shares only, coverage 0.1875) or none: listed, neither scored nor ranked
    V1: [None] * 5,
    V4: [None] * 5,
}


def test_scorecard_export_hand_values(hand_scorecard):
    rows = export(hand_scorecard.sites[JAN], "scorecard-units", "unit_code", SCORECARD_EXPORT_COLUMNS)
    for unit, expected in SCORECARD_EXPORT.items():
        assert all(same(a, e) for a, e in zip(rows[unit], expected, strict=True)), (unit, rows[unit])


# Movers, February: change = February composite − January composite, rises first:
#   V10 4000/80 − 4000/85 = 50 − 47.058824 = +2.941176
#   V11 4500/80 − 4812.5/85 = 56.25 − 56.617647 = −0.367647
#   V8  4250/80 − 4562.5/85 = 53.125 − 53.676471 = −0.551471
#   V9  4000/80 − 4312.5/85 = 50 − 50.735294 = −0.735294
#   V7  3250/80 − 3562.5/85 = 40.625 − 41.911765 = −1.286765
# January has no previous month: no mover.
MOVERS = [
    (V10, 4000 / 80 - 4000 / 85),
    (V11, 4500 / 80 - 4812.5 / 85),
    (V8, 4250 / 80 - 4562.5 / 85),
    (V9, 4000 / 80 - 4312.5 / 85),
    (V7, 3250 / 80 - 3562.5 / 85),
]


def test_movers_and_trend_hand_values(hand_scorecard):
    jan, feb = hand_scorecard.sites[JAN], hand_scorecard.sites[FEB]
    assert_rows(
        chart(feb, "scorecard.html", "movers", ["unit_code", "composite_score_change"]), MOVERS, "movers"
    )
    assert chart(jan, "scorecard.html", "movers", ["unit_code"]) == []
    # the township trend: each unit of TA per month; only V7–V11 have a composite (as above)
    trend = chart(
        feb, f"township-{TA}.html", f"township-{TA}-trend", ["unit_code", "month", "composite_score"]
    )
    jan_scores, feb_scores = STRIPS[("composite_score", JAN)], STRIPS[("composite_score", FEB)]
    expected = [
        (u, m, (jan_scores if m == JAN else feb_scores).get(u))
        for u in (TA, V1, V2, V3, V4, V7, V8, V9, V10, V11)
        for m in (JAN, FEB)
    ]
    assert_rows(trend, expected, "trend")
    drawn = {k for k, _ in mark_titles(feb, f"township-{TA}.html", f"township-{TA}-trend", "circle")}
    assert drawn == {f"{u}|{m}" for u, m, v in expected if v is not None}


def test_dissimilarity_withheld_below_base_coverage(hand_scorecard):
    """With V7–V11 (no population figure) county A's base covers too little: D is null, not 0.

    coverage = base residents / (known village figures + villages without one × their median)
             = 8000 / (8000 + 6 (V4, V7–V11) × median(4000, 2000, 2000) = 2000) = 8000 / 20000 = 0.4
             < 0.8 → D_resident, D_registered and allocated_by_registration null; B unchanged."""
    got = chart(
        hand_scorecard.sites[JAN],
        "index.html",
        "dissimilarity",
        ["county_code", "d_resident", "d_registered", "allocated_by_registration"],
    )
    assert_rows(got, [(A, None, None, None), (B, 0.0, 0.25, False)], "dissimilarity")


# --- the strips' quantiles (above STRIP_MAX_UNITS units) ------------------------------------------

# quantile_cont over n = 5 sorted values v0 … v4: position (n − 1) × p = 4p, linear interpolation:
#   min  p0    → v0                  p10 → 0.4 → v0 + 0.4 (v1 − v0)     p25 → 1 → v1
#   median p50 → 2 → v2              p75 → 3 → v3                       p90 → 3.6 → v3 + 0.6 (v4 − v3)
#   max  p100  → v4
# Composite, January, numerators over 85 sorted: 3562.5 (V7), 4000 (V10), 4312.5 (V9), 4562.5 (V8),
#   4812.5 (V11): p10 3562.5 + 0.4 × 437.5 = 3737.5; p90 4562.5 + 0.6 × 250 = 4712.5.
# Responsiveness, January, sorted 31.25, 45.3125, 51.5625, 57.8125, 64.0625:
#   p10 31.25 + 0.4 × 14.0625 = 36.875; p90 57.8125 + 0.6 × 6.25 = 61.5625.
# Digitalisation, January: 0, 25, 50, 75, 100 → p10 10, p90 90.
QUANTILES = ["min", "p10", "p25", "median", "p75", "p90", "max"]
QUANTILE_VALUES = {
    "composite_score": [x / 85 for x in (3562.5, 3737.5, 4000, 4312.5, 4562.5, 4712.5, 4812.5)],
    "responsiveness_score": [31.25, 36.875, 45.3125, 51.5625, 57.8125, 61.5625, 64.0625],
    "digitalisation_score": [0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 100.0],
    "self_governance_score": [50.0] * 7,
}


def test_scorecard_quantiles_hand_values(hand_scorecard, tmp_path, monkeypatch):
    """Above STRIP_MAX_UNITS units each strip shows the peer group's seven quantiles, one tick each
    (nationally a tick per unit made a 1 GB page); here the limit is lowered to 3 for five units."""
    monkeypatch.setattr("grassroots.report.STRIP_MAX_UNITS", 3)
    monkeypatch.setenv("GRASSROOTS_REPORTS_DIR", str(tmp_path / "reports"))
    index = build_report(JAN, warehouse=hand_scorecard.path, out_dir=tmp_path / "site")
    site = index.parent
    assert "Too many units" in (site / "scorecard.html").read_text(encoding="utf-8")
    for score, values in QUANTILE_VALUES.items():
        cid = "scores-" + score.removesuffix("_score")
        got = chart(
            site, "scorecard.html", cid, ["quantile_key", "quantile_label", "scoring_peer_group", score]
        )
        expected = [
            (f"village:{q}", f"{q} (5 units)", "village", v) for q, v in zip(QUANTILES, values, strict=True)
        ]
        assert_rows(got, expected, cid)
        titles = mark_titles(site, "scorecard.html", cid, "rect")
        shown = {k: float(re.search(r": (-?[\d.]+) \(", t).group(1)) for (k, _), t in titles.items()}
        assert shown == {f"village:{q}": round(v, 1) for q, v in zip(QUANTILES, values, strict=True)}
    # no unit scored on professionalism: no quantile either
    assert chart(site, "scorecard.html", "scores-professionalism", ["quantile_key"]) == []
    # every unit keeps its own row in the table's export (5 scored of the 12 listed units)
    rows = export(site, "scorecard-units", "unit_code", ["composite_score"])
    assert {u: v[0] for u, v in rows.items() if v[0] is not None} == pytest.approx(
        STRIPS[("composite_score", JAN)], abs=1e-9
    )
