"""The report's queries: every number on a page is a column of one of these result sets.

Each query reads the marts (and, for the overview, the audit tables) and only selects, joins names
from ``dim_unit``, filters, sorts or counts audit records; none derives a metric. The SQL of every
chart and table is shown on the page (under "SQL") and embedded with its rows, so a reader or a test
can run it again and compare.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

# --- result sets -------------------------------------------------------------------------------


@dataclass
class Result:
    """Rows of one query, with the SQL and parameters that produced them."""

    name: str
    sql: str
    params: dict[str, Any]
    columns: list[str]
    rows: list[tuple]
    error: str | None = None
    source: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]

    def __bool__(self) -> bool:
        return bool(self.rows)

    def sql_text(self) -> str:
        """The SQL with its parameters written in (for display and for re-running by hand)."""
        text = self.sql.strip()
        for k, v in sorted(self.params.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(f"${k}", _literal(v))
        return text


def _literal(v: Any) -> str:
    if isinstance(v, dt.date):
        return f"DATE '{v.isoformat()}'"
    if isinstance(v, int | float):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def jsonable(v: Any) -> Any:
    """A value as it goes into the page's embedded JSON (dates ISO, NaN null, Decimal float)."""
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class Marts:
    """A read-only view of the warehouse for one report run.

    Pages ask for their rows with one query per chart or table (`query`), the SQL shown on the page.
    Run as such, that is thousands of queries for a province and hundreds of thousands nationally,
    each scanning a mart. `prefetch` runs such a per-page query once for many pages: the page's
    filter (``d.township_code = $township``) becomes a filter on all of them, the rows are grouped by
    page in the order the query gives, and `query` then answers those pages from memory. A page's
    rows are the same as its own query would return: the same SQL, filtered on one more key, ordered
    by the same ORDER BY (which ends on a unique key), split by page without reordering.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.tables = {
            (s, t)
            for s, t in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
            ).fetchall()
        }
        self._prefetched: dict[str, _Prefetched] = {}

    def has(self, table: str, schema: str = "marts") -> bool:
        return (schema, table) in self.tables

    def query(self, name: str, sql: str, **params: Any) -> Result:
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        source = _sources(sql)
        pre = self._prefetched.get(sql)
        if pre is not None:
            rows = pre.rows_for(used)
            if rows is not None:
                return Result(name, sql, used, pre.columns, rows, source=source)
        cur = self.con.execute(sql, used)
        columns = [d[0] for d in cur.description]
        rows = cur.fetchall()
        return Result(name, sql, used, columns, rows, source=source)

    def try_query(self, name: str, sql: str, **params: Any) -> Result:
        """Like `query`, but a mart that is missing or has changed shape gives an empty result
        with the error (the section then says it is not available) instead of failing the report."""
        try:
            return self.query(name, sql, **params)
        except duckdb.Error as exc:
            return Result(name, sql, params, [], [], error=str(exc).splitlines()[0])

    def prefetch(self, sql: str, column: str, param: str, keys: Sequence[Any], **params: Any) -> None:
        """Run ``sql`` (whose WHERE has ``<column> = $<param>``) once for every key in ``keys``.

        `query` then answers ``sql`` for those keys (and the same other parameters) from memory. If
        the query fails nothing is kept, so each page runs its own query and reports its own error.
        """
        self._prefetched.pop(sql, None)
        bulk = bulk_sql(sql, column, param)
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        try:
            cur = self.con.execute(bulk, {**used, BULK_KEYS: list(keys)})
        except duckdb.Error:
            return
        columns = [d[0] for d in cur.description][1:]
        groups: dict[Any, list[tuple]] = {k: [] for k in keys}
        while batch := cur.fetchmany(50_000):
            for row in batch:
                groups[row[0]].append(row[1:])
        self._prefetched[sql] = _Prefetched(param, used, columns, groups)

    def forget(self) -> None:
        """Drop the prefetched rows (before prefetching the next batch of pages)."""
        self._prefetched.clear()


BULK_KEYS = "page_keys__"


def bulk_sql(sql: str, column: str, param: str) -> str:
    """A per-page query for many pages: ``<column> = $<param>`` becomes ``<column> IN (keys)`` and
    the page key is selected first (the rest of the query, its ORDER BY included, is unchanged)."""
    condition = f"{column} = ${param}"
    head, select, rest = sql.partition("SELECT")
    if (
        sql.count(condition) != 1
        or sql.count(f"${param}") != 1
        or not select
        or head.strip()
        or rest.lstrip().startswith("DISTINCT")
        or "LIMIT" in rest
    ):
        raise ValueError(f"cannot run for many pages: needs one {condition}, no DISTINCT and no LIMIT")
    rest = rest.replace(condition, f"{column} IN (SELECT unnest(${BULK_KEYS}))")
    return f"{head}SELECT {column} AS page_key__,{rest}"


@dataclass
class _Prefetched:
    param: str
    params: dict[str, Any]  # the other parameters it ran with
    columns: list[str]
    groups: dict[Any, list[tuple]]

    def rows_for(self, used: dict[str, Any]) -> list[tuple] | None:
        key = used.get(self.param)
        if key not in self.groups or {k: v for k, v in used.items() if k != self.param} != self.params:
            return None
        return self.groups[key]


def _sources(sql: str) -> list[str]:
    return [f"marts.{s}" for s in sorted({w.split()[0].rstrip(",)") for w in sql.split("marts.")[1:]})]


# --- SQL ---------------------------------------------------------------------------------------

MONTHS_SQL = """
SELECT DISTINCT month FROM marts.mart_staffing_mismatch_county ORDER BY month
"""

COUNTIES_SQL = """
SELECT
    c.county_code,
    d.county_name,
    d.city_name,
    d.province_name,
    c.units_evaluated,
    c.units_in_allocation_base,
    c.villages_missing_population,
    c.has_roster,
    c.roster_snapshot_date,
    c.county_staff_fte,
    c.staff_fte_outside_base,
    c.county_resident_population,
    c.county_registered_population,
    c.county_residence_ratio,
    c.staff_per_10k_residents,
    c.staff_per_10k_registered,
    c.d_resident,
    c.d_registered,
    c.d_gap,
    c.allocated_by_registration,
    c.d_null_reason,
    c.allocation_base_coverage,
    c.posts_to_reallocate,
    c.fte_misallocated
FROM marts.mart_staffing_mismatch_county AS c
LEFT JOIN marts.dim_unit AS d ON d.unit_code = c.county_code
WHERE c.month = $month
ORDER BY c.county_code
"""

# Chart: the two dissimilarity indices of every county.
DISSIMILARITY_SQL = """
SELECT
    c.county_code,
    d.county_name,
    c.d_resident,
    c.d_registered,
    c.allocated_by_registration
FROM marts.mart_staffing_mismatch_county AS c
LEFT JOIN marts.dim_unit AS d ON d.unit_code = c.county_code
WHERE c.month = $month
ORDER BY c.county_code
"""

# Coverage: units of the scorecard by scoring status (complete = every indicator had data).
COVERAGE_SQL = """
SELECT
    s.county_code,
    d.county_name,
    s.scoring_status,
    count(*) AS units
FROM marts.mart_scorecard AS s
LEFT JOIN marts.dim_unit AS d ON d.unit_code = s.county_code
WHERE s.month = $month
GROUP BY ALL
ORDER BY s.county_code, s.scoring_status
"""

# This period's deliveries (delivery_date in the month), per feed and day, from the audit view.
DELIVERY_STATUS_SQL = """
SELECT
    feed,
    delivery_date,
    status,
    files,
    files_loaded,
    files_duplicate,
    files_blocked,
    files_rejected,
    rows_in,
    rows_loaded,
    rows_quarantined,
    rows_refused,
    critical_failed,
    warnings,
    why,
    failed_expectations
FROM audit.delivery_status
WHERE delivery_date >= $month AND delivery_date < $next_month
ORDER BY status <> 'refused', status <> 'loaded_with_findings', feed, delivery_date
"""

# Files refused (blocked by validation or rejected) or recognised as duplicates in the period.
REFUSED_FILES_SQL = """
SELECT
    feed,
    delivery_date,
    source_file,
    status,
    rows_in,
    error,
    finished_at
FROM audit.load_log
WHERE delivery_date >= $month AND delivery_date < $next_month
  AND status IN ('blocked', 'rejected', 'duplicate')
ORDER BY feed, delivery_date, source_file
"""

# Quarantined rows of the period's loads, counted per feed, file and rule.
QUARANTINE_SQL = """
SELECT
    q.feed,
    q.source_file,
    q.rule,
    count(*) AS rows_quarantined,
    min(q.detail) AS example_detail
FROM audit.quarantine AS q
WHERE q.delivery_date >= $month AND q.delivery_date < $next_month
GROUP BY ALL
ORDER BY q.feed, q.source_file, rows_quarantined DESC, q.rule
"""

MISMATCH_UNITS_SQL = """
SELECT
    m.unit_code,
    d.unit_name,
    d.township_name,
    m.unit_level,
    m.in_allocation_base,
    m.staff_fte,
    m.resident_population,
    m.registered_population,
    m.residence_ratio,
    m.staff_share,
    m.resident_share,
    m.registered_share,
    m.fair_share_staff,
    m.reallocation_delta
FROM marts.mart_staffing_mismatch AS m
LEFT JOIN marts.dim_unit AS d ON d.unit_code = m.unit_code
WHERE m.month = $month AND m.county_code = $county
ORDER BY m.in_allocation_base DESC, m.reallocation_delta DESC NULLS LAST, m.unit_code
"""

# Chart: staff share against resident and registered share, units of the allocation base.
MISMATCH_SCATTER_SQL = """
SELECT
    m.unit_code,
    d.unit_name,
    m.staff_share,
    m.resident_share,
    m.registered_share
FROM marts.mart_staffing_mismatch AS m
LEFT JOIN marts.dim_unit AS d ON d.unit_code = m.unit_code
WHERE m.month = $month AND m.county_code = $county AND m.in_allocation_base
ORDER BY m.unit_code
"""

# Chart: reallocation delta per unit of the base (positive = should gain staff).
# Two questions side by side: the norm (what a national/provincial norm requires, from outside the
# county) and the plan (the county's own staff redistributed by residents, in whole posts).
TWO_QUESTIONS_SQL = """
SELECT
    s.unit_code,
    d.unit_name,
    s.total_fte AS staff_fte,
    s.required_staff_fte,
    s.norm_staffing_gap,
    m.fair_share_staff,
    m.reallocation_delta,
    s.planned_change_posts,
    s.reallocation_target_fte
FROM marts.mart_staffing AS s
LEFT JOIN marts.mart_staffing_mismatch AS m ON m.unit_code = s.unit_code AND m.month = s.month
LEFT JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
WHERE s.month = $month AND s.county_code = $county AND s.unit_level = 'village'
ORDER BY s.planned_change_posts DESC NULLS LAST, s.unit_code
"""

PLAN_SQL = """
SELECT
    move_rank,
    from_unit_code,
    from_unit_name,
    to_unit_code,
    to_unit_name,
    fte,
    from_staff_fte,
    from_target_fte,
    to_staff_fte,
    to_target_fte
FROM marts.mart_reallocation_plan
WHERE month = $month AND county_code = $county
ORDER BY move_rank
"""

# Fallback when mart_reallocation_plan is absent: the units that should gain or lose most.
PLAN_FALLBACK_SQL = """
SELECT * FROM (
    SELECT
        m.unit_code,
        d.unit_name,
        m.staff_fte,
        m.fair_share_staff,
        m.reallocation_delta
    FROM marts.mart_staffing_mismatch AS m
    LEFT JOIN marts.dim_unit AS d ON d.unit_code = m.unit_code
    WHERE m.month = $month AND m.county_code = $county AND m.in_allocation_base
      AND m.reallocation_delta <> 0
    ORDER BY abs(m.reallocation_delta) DESC, m.unit_code
    LIMIT 20
) ORDER BY reallocation_delta DESC, unit_code
"""

WORKLOAD_UNITS_SQL = """
SELECT
    w.unit_code,
    d.unit_name,
    w.township_code,
    d.township_name,
    w.staff_fte,
    m.staff_per_10k_residents,
    w.cases_received,
    w.cases_per_fte,
    w.cases_per_10k_residents,
    w.backlog_month_end,
    w.backlog_per_fte,
    w.response_rate,
    w.responded_share,
    w.resolution_rate,
    w.satisfaction_rate,
    w.responded_within_sla_rate,
    w.closed_within_sla_rate,
    w.escalation_rate,
    w.response_calendar_hours_median,
    w.response_working_hours_median,
    w.closure_calendar_hours_median,
    w.closure_working_hours_median
FROM marts.mart_workload AS w
LEFT JOIN marts.mart_staffing_mismatch AS m ON m.unit_code = w.unit_code AND m.month = w.month
LEFT JOIN marts.dim_unit AS d ON d.unit_code = w.unit_code
WHERE w.month = $month AND w.county_code = $county
ORDER BY w.cases_per_fte DESC NULLS LAST, w.unit_code
"""

# Chart: cases per FTE against staff per 10k residents (人少事多 = top left).
WORKLOAD_SCATTER_SQL = """
SELECT
    w.unit_code,
    d.unit_name,
    m.staff_per_10k_residents,
    w.cases_per_fte
FROM marts.mart_workload AS w
JOIN marts.mart_staffing_mismatch AS m ON m.unit_code = w.unit_code AND m.month = w.month
LEFT JOIN marts.dim_unit AS d ON d.unit_code = w.unit_code
WHERE w.month = $month AND w.county_code = $county
ORDER BY w.unit_code
"""

# The county's own values, drawn as the reference lines of the workload chart.
WORKLOAD_COUNTY_SQL = """
SELECT
    wc.county_code,
    wc.units_evaluated,
    wc.units_with_cases,
    wc.staff_fte,
    wc.cases_received,
    wc.cases_per_fte,
    mc.staff_per_10k_residents,
    wc.backlog_month_end,
    wc.backlog_per_fte,
    wc.response_rate,
    wc.responded_share,
    wc.resolution_rate,
    wc.satisfaction_rate,
    wc.responded_within_sla_rate,
    wc.closed_within_sla_rate,
    wc.escalation_rate,
    wc.response_calendar_hours_median,
    wc.response_working_hours_median,
    wc.closure_calendar_hours_median,
    wc.closure_working_hours_median
FROM marts.mart_workload_county AS wc
LEFT JOIN marts.mart_staffing_mismatch_county AS mc
    ON mc.county_code = wc.county_code AND mc.month = wc.month
WHERE wc.month = $month AND wc.county_code = $county
"""

# Chart: the three rates of 接诉即办 per township of the county, ranked (mart_workload_township).
TOWNSHIP_RATES_TABLE = "mart_workload_township"
TOWNSHIP_RATES_SQL = """
SELECT
    t.township_code,
    t.township_name,
    t.cases_received,
    t.response_rate,
    t.resolution_rate,
    t.satisfaction_rate
FROM marts.mart_workload_township AS t
WHERE t.month = $month AND t.county_code = $county AND t.cases_received > 0
ORDER BY t.response_rate DESC NULLS LAST, t.resolution_rate DESC NULLS LAST,
    t.satisfaction_rate DESC NULLS LAST, t.township_code
"""

# Chart: the three rates of 接诉即办 per unit, units grouped by township, ranked within it.
RATES_SQL = """
SELECT
    w.unit_code,
    d.unit_name,
    w.township_code,
    d.township_name,
    w.response_rate,
    w.resolution_rate,
    w.satisfaction_rate
FROM marts.mart_workload AS w
LEFT JOIN marts.dim_unit AS d ON d.unit_code = w.unit_code
WHERE w.month = $month AND w.county_code = $county AND w.cases_received > 0
ORDER BY w.township_code, w.response_rate DESC NULLS LAST, w.resolution_rate DESC NULLS LAST,
    w.satisfaction_rate DESC NULLS LAST, w.unit_code
"""

# Chart: backlog at month end, every month up to the period.
BACKLOG_SQL = """
SELECT
    wc.county_code,
    d.county_name,
    strftime(wc.month, '%Y-%m') AS month,
    wc.backlog_month_end,
    wc.backlog_per_fte,
    wc.cases_received
FROM marts.mart_workload_county AS wc
LEFT JOIN marts.dim_unit AS d ON d.unit_code = wc.county_code
WHERE wc.month <= $month AND wc.county_code = $county
ORDER BY wc.month
"""

# SLA rates per case category: read from a per-category mart when the warehouse has one.
SLA_CATEGORY_TABLE = "mart_workload_category"
SLA_CATEGORY_SQL = """
SELECT
    category,
    cases_received,
    responded_within_sla_rate,
    closed_within_sla_rate
FROM marts.mart_workload_category
WHERE month = $month AND county_code = $county
ORDER BY category
"""

SCORECARD_SQL = """
SELECT
    s.unit_code,
    d.unit_name,
    d.township_code,
    d.township_name,
    s.county_code,
    s.peer_group,
    s.scoring_peer_group,
    s.peer_group_fallback,
    s.scoring_status,
    s.coverage,
    s.composite_score,
    s.professionalism_score,
    s.responsiveness_score,
    s.self_governance_score,
    s.institutionalisation_score,
    s.digitalisation_score,
    s.coverage_score,
    s.rank_in_peer_group,
    s.peer_group_units_ranked,
    s.rank_min,
    s.rank_max,
    s.rank_range,
    s.rank_in_county,
    s.composite_score_change,
    s.previous_rank_in_peer_group
FROM marts.mart_scorecard AS s
LEFT JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
WHERE s.month = $month
ORDER BY s.scoring_peer_group NULLS LAST, s.rank_in_peer_group NULLS LAST, s.unit_code
"""

# Rank stability per scoring peer group (sensitivity: alternative weights and normalisation).
STABILITY_SQL = """
SELECT
    scoring_peer_group,
    units_ranked,
    scenarios,
    rank_shift_places,
    units_moving_more_than_n,
    max_rank_range
FROM marts.mart_scorecard_stability
WHERE month = $month
ORDER BY scoring_peer_group
"""

# Chart: one score per scored unit, strips by scoring peer group (the group it is normalised and
# ranked in; `score` is one of the mart's score columns).
SCORE_STRIP_SQL = """
SELECT
    s.unit_code,
    d.unit_name,
    s.scoring_peer_group,
    s.{score}
FROM marts.mart_scorecard AS s
LEFT JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
WHERE s.month = $month AND s.{score} IS NOT NULL
ORDER BY s.scoring_peer_group, s.unit_code
"""

# The strips of a scorecard with too many units for a tick each (nationally 660,000 units, seven
# scores: a 1 GB page): each peer group's quantiles instead, one tick each.
SCORE_QUANTILES_SQL = """
WITH q AS (
    SELECT
        scoring_peer_group,
        count(*) AS units,
        quantile_cont({score}, [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]) AS v
    FROM marts.mart_scorecard
    WHERE month = $month AND {score} IS NOT NULL
    GROUP BY scoring_peer_group
),
levels AS (
    SELECT
        scoring_peer_group,
        units,
        unnest(range(7)) AS i,
        unnest(['min', 'p10', 'p25', 'median', 'p75', 'p90', 'max']) AS quantile,
        unnest(v) AS {score}
    FROM q
)
SELECT
    scoring_peer_group || ':' || quantile AS quantile_key,
    quantile || ' (' || units || ' units)' AS quantile_label,
    scoring_peer_group,
    {score}
FROM levels
ORDER BY scoring_peer_group, i
"""

MOVERS_SQL = """
SELECT
    s.unit_code,
    d.unit_name,
    d.township_name,
    s.peer_group,
    s.composite_score,
    s.previous_composite_score,
    s.composite_score_change,
    s.rank_in_peer_group,
    s.previous_rank_in_peer_group
FROM marts.mart_scorecard AS s
LEFT JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
WHERE s.month = $month AND s.composite_score_change {op} 0
ORDER BY s.composite_score_change {order}, s.unit_code
LIMIT {limit}
"""

# Chart: the biggest risers and fallers together, largest rise first.
MOVERS_CHART_SQL = """
SELECT * FROM (
    (
        SELECT s.unit_code, d.unit_name, s.composite_score_change
        FROM marts.mart_scorecard AS s
        LEFT JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
        WHERE s.month = $month AND s.composite_score_change > 0
        ORDER BY s.composite_score_change DESC, s.unit_code
        LIMIT {limit}
    )
    UNION ALL
    (
        SELECT s.unit_code, d.unit_name, s.composite_score_change
        FROM marts.mart_scorecard AS s
        LEFT JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
        WHERE s.month = $month AND s.composite_score_change < 0
        ORDER BY s.composite_score_change ASC, s.unit_code
        LIMIT {limit}
    )
)
ORDER BY composite_score_change DESC, unit_code
"""

TOWNSHIPS_SQL = """
SELECT DISTINCT
    d.township_code,
    t.unit_name AS township_name,
    d.county_code
FROM marts.mart_scorecard AS s
JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
LEFT JOIN marts.dim_unit AS t ON t.unit_code = d.township_code
WHERE s.month = $month AND d.township_code IS NOT NULL
ORDER BY d.township_code
"""

TOWNSHIP_UNITS_SQL = """
SELECT
    s.unit_code,
    d.unit_name,
    d.unit_level,
    s.peer_group,
    s.scoring_status,
    s.composite_score,
    s.professionalism_score,
    s.responsiveness_score,
    s.self_governance_score,
    s.institutionalisation_score,
    s.digitalisation_score,
    s.coverage_score,
    s.rank_in_peer_group,
    s.peer_group_units_ranked,
    s.rank_range,
    s.rank_in_county,
    s.composite_score_change
FROM marts.mart_scorecard AS s
JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
WHERE s.month = $month AND d.township_code = $township
ORDER BY s.rank_in_county NULLS LAST, s.unit_code
"""

TOWNSHIP_INDICATORS_SQL = """
SELECT
    i.unit_code,
    d.unit_name,
    i.dimension,
    i.dimension_zh,
    i.indicator_code,
    i.label_zh,
    i.direction,
    i.weight,
    i.indicator_value,
    i.indicator_denominator,
    i.scoring_value,
    i.peer_min,
    i.peer_max,
    i.score,
    i.score_reason
FROM marts.mart_scorecard_indicators AS i
JOIN marts.dim_unit AS d ON d.unit_code = i.unit_code
WHERE i.month = $month AND d.township_code = $township
ORDER BY i.unit_code, i.dimension, i.indicator_code
"""

# Chart: composite score of the township's units, every month up to the period.
TOWNSHIP_TREND_SQL = """
SELECT
    s.unit_code,
    d.unit_name,
    strftime(s.month, '%Y-%m') AS month,
    s.composite_score
FROM marts.mart_scorecard AS s
JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
WHERE s.month <= $month AND d.township_code = $township
ORDER BY s.unit_code, s.month
"""

SCORE_COLUMNS = (
    "composite_score",
    "professionalism_score",
    "responsiveness_score",
    "self_governance_score",
    "institutionalisation_score",
    "digitalisation_score",
    "coverage_score",
)

# Indicator names for table headers (the seed scorecard_weights, in the staging schema).
INDICATOR_LABELS_SQL = """
SELECT indicator_code, label_zh, label_en
FROM staging.scorecard_weights
"""

# The audit page: quarantined rows of the period per feed, delivery date and rule.
QUARANTINE_BY_DAY_SQL = """
SELECT
    q.feed,
    q.delivery_date,
    q.rule,
    count(DISTINCT q.source_file) AS files,
    count(*) AS rows_quarantined,
    min(q.detail) AS example_detail
FROM audit.quarantine AS q
WHERE q.delivery_date >= $month AND q.delivery_date < $next_month
GROUP BY ALL
ORDER BY q.feed, q.delivery_date, rows_quarantined DESC, q.rule
"""
