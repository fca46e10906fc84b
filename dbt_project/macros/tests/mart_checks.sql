{#- Reconciliation and coverage tests on the marts (generic tests taking the mart as `model`);
    each returns the offending rows. -#}

{#- Dates beyond the holiday calendar's coverage exist, are flagged weekday_fallback and follow the
    Monday–Friday rule; covered years are never flagged. -#}
{% test dim_date_fallback_is_flagged(model) %}
    with coverage as (
        select max(calendar_last_year) as last_year, min(calendar_first_year) as first_year
        from {{ ref('holiday_calendar') }}
    )
    select dates.date_day, dates.calendar_source, dates.is_working_day
    from {{ model }} as dates
    cross join coverage
    where
        (
            (dates.calendar_year > coverage.last_year or dates.calendar_year < coverage.first_year)
            and (
                dates.calendar_source <> 'weekday_fallback'
                or dates.is_working_day <> (dates.iso_day_of_week < 6)
                or dates.day_type not in ('workday', 'weekend')
            )
        )
        or (
            dates.calendar_year between coverage.first_year and coverage.last_year
            and dates.calendar_source <> 'chinese_calendar'
        )
    union all
    -- the range must reach beyond the covered years (so the fallback is exercised)
    select null, 'no fallback dates', null
    from coverage
    where not exists (
        select 1 from {{ model }} as later where later.calendar_year > coverage.last_year
    )
{% endtest %}

{#- Staff FTE per county-month in the mart equals the (capped) FTE of the active posts of the roster snapshot
    used (every post of the snapshot is at a unit on the spine or reported as a difference). -#}
{% test mart_staffing_reconciles_with_roster(model) %}
    with mart as (
        select county_code, month, max(roster_snapshot_date) as roster_snapshot_date, sum(total_fte) as fte
        from {{ model }}
        where has_roster
        group by county_code, month
    ),
    roster as (
        select county_code, snapshot_date, sum(fte_capped) as fte
        from {{ ref('stg_staff_roster__staff_posts') }}
        where is_active_at_snapshot
        group by county_code, snapshot_date
    )
    select mart.county_code, mart.month, mart.fte as mart_fte, roster.fte as roster_fte
    from mart
    left join roster
        on mart.county_code = roster.county_code and mart.roster_snapshot_date = roster.snapshot_date
    where roster.fte is null or abs(mart.fte - roster.fte) > 1e-6
{% endtest %}

{#- Population in the mart is exactly the latest snapshot at or before the month end. -#}
{% test mart_population_reconciles_with_snapshots(model) %}
    select mart.unit_code, mart.month
    from {{ model }} as mart
    left join {{ ref('stg_resident_population__snapshots') }} as snap
        on mart.unit_code = snap.unit_code and mart.resident_as_of_date = snap.as_of_date
    where
        (mart.resident_as_of_date is not null
            and (snap.unit_code is null or snap.resident_population <> mart.resident_population))
        or mart.resident_as_of_date > mart.month_end
        or exists (
            select 1
            from {{ ref('stg_resident_population__snapshots') }} as newer
            where
                newer.unit_code = mart.unit_code
                and newer.as_of_date <= mart.month_end
                and (mart.resident_as_of_date is null or newer.as_of_date > mart.resident_as_of_date)
        )
{% endtest %}

{#- Cases received in the mart = cases of fct_cases per unit and month (none lost or doubled); cases
    at units off the spine would show here. -#}
{% test mart_workload_reconciles_with_fct_cases(model) %}
    with mart as (
        select unit_code, month, cases_received from {{ model }} where cases_received > 0
    ),
    facts as (
        select unit_code, reported_month as month, count(*) as cases_received
        from {{ ref('fct_cases') }}
        group by unit_code, reported_month
    )
    select
        coalesce(mart.unit_code, facts.unit_code) as unit_code,
        coalesce(mart.month, facts.month) as month,
        mart.cases_received as mart_cases,
        facts.cases_received as fct_cases
    from mart
    full outer join facts
        on mart.unit_code = facts.unit_code and mart.month = facts.month
    where mart.cases_received is null or facts.cases_received is null
        or mart.cases_received <> facts.cases_received
{% endtest %}

{#- County counts equal the sums over the county's units (additive measures). -#}
{% test mart_workload_county_reconciles(model) %}
    with units as (
        select
            county_code, month,
            sum(cases_received) as cases_received,
            sum(cases_closed) as cases_closed,
            sum(cases_responded_within_sla) as cases_responded_within_sla,
            sum(cases_satisfied) as cases_satisfied,
            sum(backlog_month_end) as backlog_month_end
        from {{ ref('mart_workload') }}
        group by county_code, month
    )
    select county.county_code, county.month
    from {{ model }} as county
    left join units
        on county.county_code = units.county_code and county.month = units.month
    where
        units.county_code is null
        or county.cases_received <> units.cases_received
        or county.cases_closed <> units.cases_closed
        or county.cases_responded_within_sla <> units.cases_responded_within_sla
        or county.cases_satisfied <> units.cases_satisfied
        or county.backlog_month_end <> units.backlog_month_end
{% endtest %}

{#- The categories of a county-month sum to mart_workload_county (additive counts), and both marts
    have the same county-months: no case lost or doubled by the split by category. -#}
{% test mart_workload_category_reconciles(model) %}
    with categories as (
        select
            county_code, month,
            sum(cases_received) as cases_received,
            sum(cases_cancelled) as cases_cancelled,
            sum(cases_responded_within_sla) as cases_responded_within_sla,
            sum(cases_closed) as cases_closed,
            sum(cases_closed_within_sla) as cases_closed_within_sla,
            sum(cases_satisfied) as cases_satisfied
        from {{ model }}
        group by county_code, month
    )
    select
        coalesce(county.county_code, categories.county_code) as county_code,
        coalesce(county.month, categories.month) as month,
        county.cases_received as county_cases,
        categories.cases_received as category_cases
    from {{ ref('mart_workload_county') }} as county
    full outer join categories
        on county.county_code = categories.county_code and county.month = categories.month
    where
        county.county_code is null
        or categories.county_code is null
        or county.cases_received <> categories.cases_received
        or county.cases_cancelled <> categories.cases_cancelled
        or county.cases_responded_within_sla <> categories.cases_responded_within_sla
        or county.cases_closed <> categories.cases_closed
        or county.cases_closed_within_sla <> categories.cases_closed_within_sla
        or county.cases_satisfied <> categories.cases_satisfied
{% endtest %}

{#- The townships of a county-month sum to mart_workload_county: additive counts, backlog, units and
    staff FTE (null = no roster on both sides), and both marts have the same county-months. -#}
{% test mart_workload_township_reconciles(model) %}
    with townships as (
        select
            county_code, month,
            sum(cases_received) as cases_received,
            sum(cases_closed) as cases_closed,
            sum(cases_responded_within_sla) as cases_responded_within_sla,
            sum(cases_satisfied) as cases_satisfied,
            sum(backlog_month_end) as backlog_month_end,
            sum(units_evaluated) as units_evaluated,
            sum(staff_fte) as staff_fte
        from {{ model }}
        group by county_code, month
    )
    select
        coalesce(county.county_code, townships.county_code) as county_code,
        coalesce(county.month, townships.month) as month,
        county.cases_received as county_cases,
        townships.cases_received as township_cases
    from {{ ref('mart_workload_county') }} as county
    full outer join townships
        on county.county_code = townships.county_code and county.month = townships.month
    where
        county.county_code is null
        or townships.county_code is null
        or county.cases_received <> townships.cases_received
        or county.cases_closed <> townships.cases_closed
        or county.cases_responded_within_sla <> townships.cases_responded_within_sla
        or county.cases_satisfied <> townships.cases_satisfied
        or county.backlog_month_end <> townships.backlog_month_end
        or county.units_evaluated <> townships.units_evaluated
        or (county.staff_fte is null) <> (townships.staff_fte is null)
        or abs(county.staff_fte - townships.staff_fte) > 1e-6
{% endtest %}

{#- Applying the moves brings every unit to its planned staff (whole posts), and the plan keeps each
    county's total: Σ planned_change_posts = 0 and Σ target_delta = 0 per county-month, staff − out + in
    = planned_fte for every unit, every move is a whole number of posts, and no donor ends below its
    floor (when the floors are feasible). -#}
{% test mart_reallocation_plan_moves_reach_targets(model) %}
    with targets as (
        select * from {{ ref('int_reallocation_targets') }}
    ),
    flows as (
        select from_unit_code as unit_code, month, -fte as fte from {{ model }}
        union all
        select to_unit_code as unit_code, month, fte from {{ model }}
    ),
    net as (
        select unit_code, month, sum(fte) as net_fte from flows group by unit_code, month
    ),
    unit_check as (
        select targets.county_code, targets.month, targets.unit_code, 'unit misses its planned staff' as problem
        from targets
        left join net
            on targets.unit_code = net.unit_code and targets.month = net.month
        where abs(targets.staff_fte + coalesce(net.net_fte, 0) - targets.planned_fte) > 1e-6
        union all
        select county_code, month, unit_code, 'donor ends below its floor' as problem
        from targets
        where planned_change_posts < 0 and floor_feasible and planned_fte < floor_fte - 1e-6
    ),
    move_check as (
        select county_code, month, from_unit_code as unit_code, 'move is not a whole post' as problem
        from {{ model }}
        where abs(fte - round(fte)) > 1e-9
    ),
    county_check as (
        select county_code, month, cast(null as {{ dbt.type_string() }}) as unit_code,
            'deltas do not sum to zero' as problem
        from targets
        group by county_code, month
        having abs(sum(target_delta)) > 1e-6 or sum(planned_change_posts) <> 0
    )
    select * from unit_check
    union all
    select * from move_check
    union all
    select * from county_check
{% endtest %}

{#- One truth for the plan's size: posts_to_reallocate of the county mart equals the FTE the plan moves
    (Σ mart_reallocation_plan.fte per county-month, 0 when no move), and a county without published
    indices has neither a figure nor moves. -#}
{% test mart_posts_to_reallocate_equals_plan(model) %}
    with plan as (
        select county_code, month, sum(fte) as fte
        from {{ ref('mart_reallocation_plan') }}
        group by county_code, month
    )
    select county.county_code, county.month, county.posts_to_reallocate, plan.fte as plan_fte
    from {{ model }} as county
    left join plan
        on county.county_code = plan.county_code and county.month = plan.month
    where
        (county.posts_to_reallocate is null and plan.fte is not null)
        or (county.posts_to_reallocate is not null
            and abs(county.posts_to_reallocate - coalesce(plan.fte, 0)) > 1e-9)
{% endtest %}

{#- Every spine unit-month has a scorecard row (no unit silently dropped). -#}
{% test mart_scorecard_covers_every_unit_month(model) %}
    select spine.unit_code, spine.month
    from {{ ref('int_unit_months') }} as spine
    left join {{ model }} as scorecard
        on spine.unit_code = scorecard.unit_code and spine.month = scorecard.month
    where scorecard.unit_code is null
{% endtest %}

{#- Unknown is never 0 (methodology, principles): each rate of `rates` is null exactly when its
    `<rate>_denominator` is 0 or unknown, and a null rate always carries its `<rate>_null_reason`.
    Returns the offending rows (the rate, its value, denominator and reason). -#}
{% test rates_null_exactly_when_unmeasured(model, rates) %}
    {% for rate in rates %}
        select '{{ rate }}' as rate, {{ rate }} as rate_value, {{ rate }}_denominator as denominator,
            {{ rate }}_null_reason as null_reason
        from {{ model }}
        where
            ({{ rate }} is null) <> (coalesce({{ rate }}_denominator, 0) = 0)
            or ({{ rate }} is null and {{ rate }}_null_reason is null)
            or ({{ rate }} is not null and {{ rate }}_null_reason is not null)
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endtest %}
