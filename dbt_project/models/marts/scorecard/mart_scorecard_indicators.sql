-- Scorecard indicators scored within peer groups (因地制宜), one row per evaluated unit, month and
-- indicator (seed scorecard_weights), built like a composite indicator (OECD/JRC Handbook;
-- docs/methodology.md).
--  0. Window: case rates (value_kind case_rate) are taken over the trailing window of W =
--     case_window_months months (seed scorecard_settings): for unit-month m, the sums of the unit's
--     monthly numerators and denominators over the months m−W+1 … m that the unit has (a missing
--     month, or a month whose rate is unknown, contributes nothing); value = Σ numerator /
--     Σ denominator, and indicator_denominator = Σ denominator. Everything below (minimum cases,
--     peer mean, shrinkage) works on these windowed counts. The median (case_median) cannot be
--     summed and stays on one month, as do staff shares and feed facts: window_months = W for case
--     rates, 1 for the others.
--  1. Data: an indicator has data when its value is known and, for a case-based indicator, its
--     (windowed) denominator reaches min_cases (seed scorecard_settings); else score_reason says why
--     (no_roster, no_staff, no_cases, rate_unknown, too_few_cases).
--  2. Coverage = Σ weight of the unit-scope indicators with data / Σ weight of the unit-scope
--     indicators. scoring_status: no_data (no unit-scope indicator has a value at all),
--     insufficient_data (coverage < min_coverage),
--     complete (every weighted indicator has data), partial (otherwise).
--  3. Scoring peer group, among the scorable units (complete, partial) of the month: the unit's own
--     peer group (<level>/<peer_group>) if it has at least min_peer_group_units of them; else the
--     units of its level and class whose own groups are too small (<level>/<class>) if they are
--     enough; else the units of its level left over by both steps (<level>); else the unit is not
--     scored (scoring_status too_few_peers). peer_group_fallback says which step applied.
--  4. Shrinkage of case rates (Bayesian average): scoring_value = (numerator + m × peer_mean) /
--     (denominator + m), peer_mean = Σ numerators / Σ denominators over the scoring peer group's
--     units with data, m = shrinkage_prior_cases. Other kinds: scoring_value = indicator_value.
--  5. score = mid-rank percentile of scoring_value among the scoring peer group's units with data:
--     100 × (below + (ties − 1) / 2) / (n − 1), order reversed for lower_better; 50 when n = 1.
--     score_min_max (alternative, sensitivity) = min–max of scoring_value winsorised at the peer
--     group's quantiles (vars scorecard_winsor_*_quantile): 100 × (clip(v) − lo) / (hi − lo), reversed
--     for lower_better; 50 when hi = lo.

with

indicator_values as (

    select * from {{ ref('int_scorecard_indicator_values') }}

),

weights as (

    select * from {{ ref('scorecard_weights') }}

),

settings as (

    select * from {{ ref('scorecard_settings') }}

),

-- case rates over the trailing window: each unit-month m sums the unit's months m−W+1 … m;
-- months whose rate is unknown (numerator null) add their cases to window_cases only
case_rate_windows as (

    select
        current_month.unit_code,
        current_month.month,
        current_month.indicator_code,
        settings.case_window_months as window_months,
        sum(window_month.indicator_numerator) as window_numerator,
        sum(case when window_month.indicator_numerator is not null then window_month.indicator_denominator end)
            as window_denominator,
        sum(window_month.indicator_denominator) as window_cases
    from indicator_values as current_month
    inner join weights
        on current_month.indicator_code = weights.indicator_code
    cross join settings
    inner join indicator_values as window_month
        on
            current_month.unit_code = window_month.unit_code
            and current_month.indicator_code = window_month.indicator_code
            and current_month.month >= window_month.month
            and {{ dbt.datediff('window_month.month', 'current_month.month', 'month') }}
            < settings.case_window_months
    where weights.value_kind = 'case_rate'
    group by
        current_month.unit_code,
        current_month.month,
        current_month.indicator_code,
        settings.case_window_months

),

windowed_values as (

    select
        indicator_values.unit_code,
        indicator_values.month,
        indicator_values.county_code,
        indicator_values.peer_group,
        indicator_values.unit_level,
        indicator_values.urban_rural_class,
        indicator_values.indicator_code,
        coalesce(case_rate_windows.window_months, 1) as window_months,
        case
            when case_rate_windows.unit_code is null then indicator_values.indicator_value
            else {{ safe_divide('case_rate_windows.window_numerator', 'case_rate_windows.window_denominator') }}
        end as indicator_value,
        case
            when case_rate_windows.unit_code is null then indicator_values.indicator_denominator
            when case_rate_windows.window_denominator > 0 then case_rate_windows.window_denominator
            else case_rate_windows.window_cases
        end as indicator_denominator,
        case
            when case_rate_windows.unit_code is null then indicator_values.indicator_numerator
            when case_rate_windows.window_denominator > 0 then case_rate_windows.window_numerator
        end as indicator_numerator,
        case
            when case_rate_windows.unit_code is null then indicator_values.missing_reason
            when case_rate_windows.window_denominator > 0 then null
            when coalesce(case_rate_windows.window_cases, 0) = 0 then 'no_cases'
            else 'rate_unknown'
        end as missing_reason
    from indicator_values
    left join case_rate_windows
        on
            indicator_values.unit_code = case_rate_windows.unit_code
            and indicator_values.month = case_rate_windows.month
            and indicator_values.indicator_code = case_rate_windows.indicator_code

),

with_data as (

    select
        windowed_values.unit_code,
        windowed_values.month,
        windowed_values.county_code,
        windowed_values.peer_group,
        windowed_values.unit_level,
        windowed_values.urban_rural_class,
        windowed_values.indicator_code,
        windowed_values.window_months,
        weights.scope,
        weights.value_kind,
        weights.dimension,
        weights.dimension_zh,
        weights.label_zh,
        weights.direction,
        weights.weight,
        windowed_values.indicator_value,
        windowed_values.indicator_denominator,
        windowed_values.indicator_numerator,
        case
            when windowed_values.indicator_value is null
                then coalesce(windowed_values.missing_reason, 'no_value')
            when
                weights.value_kind in ('case_rate', 'case_median')
                and coalesce(windowed_values.indicator_denominator, 0) < settings.min_cases
                then 'too_few_cases'
        end as data_reason
    from windowed_values
    inner join weights
        on windowed_values.indicator_code = weights.indicator_code
    cross join settings

),

unit_coverage as (

    select
        unit_code,
        month,
        sum(case when scope = 'unit' and indicator_value is not null then 1 else 0 end) as unit_values,
        {{ safe_divide(
            "sum(case when scope = 'unit' and data_reason is null then weight else 0 end)",
            "sum(case when scope = 'unit' then weight else 0 end)"
        ) }} as coverage,
        sum(case when weight > 0 and data_reason is not null then 1 else 0 end) as indicators_without_data
    from with_data
    group by unit_code, month

),

unit_status as (

    select
        unit_coverage.unit_code,
        unit_coverage.month,
        unit_coverage.coverage,
        case
            when unit_coverage.unit_values = 0 then 'no_data'
            when unit_coverage.coverage < settings.min_coverage then 'insufficient_data'
            when unit_coverage.indicators_without_data = 0 then 'complete'
            else 'partial'
        end as coverage_status
    from unit_coverage
    cross join settings

),

units as (

    select distinct
        with_data.unit_code,
        with_data.month,
        with_data.peer_group,
        with_data.unit_level,
        coalesce(with_data.urban_rural_class, 'unclassified') as urban_rural_class,
        unit_status.coverage,
        unit_status.coverage_status
    from with_data
    inner join unit_status
        on with_data.unit_code = unit_status.unit_code and with_data.month = unit_status.month

),

peer_group_sizes as (

    select
        units.*,
        case when units.coverage_status in ('complete', 'partial') then 1 else 0 end as is_scorable,
        sum(case when units.coverage_status in ('complete', 'partial') then 1 else 0 end)
            over (partition by units.unit_level, units.peer_group, units.month) as scorable_in_peer_group,
        settings.min_peer_group_units
    from units
    cross join settings

),

class_sizes as (

    select
        *,
        -- units of the level and class whose own peer group is too small
        sum(case when is_scorable = 1 and scorable_in_peer_group < min_peer_group_units then 1 else 0 end)
            over (partition by unit_level, urban_rural_class, month) as scorable_in_class_remainder
    from peer_group_sizes

),

level_sizes as (

    select
        *,
        -- units of the level whose class remainder is too small as well
        sum(
            case
                when
                    is_scorable = 1
                    and scorable_in_peer_group < min_peer_group_units
                    and scorable_in_class_remainder < min_peer_group_units
                    then 1
                else 0
            end
        ) over (partition by unit_level, month) as scorable_in_level_remainder
    from class_sizes

),

unit_groups as (

    select
        unit_code,
        month,
        coverage,
        case
            when is_scorable = 0 then coverage_status
            when scorable_in_peer_group >= min_peer_group_units then coverage_status
            when scorable_in_class_remainder >= min_peer_group_units then coverage_status
            when scorable_in_level_remainder >= min_peer_group_units then coverage_status
            else 'too_few_peers'
        end as scoring_status,
        case
            when is_scorable = 0 then null
            when scorable_in_peer_group >= min_peer_group_units
                then {{ dbt.concat(["unit_level", "'/'", "peer_group"]) }}
            when scorable_in_class_remainder >= min_peer_group_units
                then {{ dbt.concat(["unit_level", "'/'", "urban_rural_class"]) }}
            when scorable_in_level_remainder >= min_peer_group_units then unit_level
        end as scoring_peer_group,
        case
            when is_scorable = 0 then null
            when scorable_in_peer_group >= min_peer_group_units then null
            when scorable_in_class_remainder >= min_peer_group_units then 'peer_group_below_minimum'
            when scorable_in_level_remainder >= min_peer_group_units then 'level_class_below_minimum'
            else 'level_below_minimum'
        end as peer_group_fallback
    from level_sizes

),

scorable as (

    select
        with_data.*,
        unit_groups.coverage,
        unit_groups.scoring_status,
        unit_groups.scoring_peer_group,
        unit_groups.peer_group_fallback,
        case
            when unit_groups.scoring_peer_group is not null and with_data.data_reason is null then 1 else 0
        end as in_peer_set
    from with_data
    inner join unit_groups
        on with_data.unit_code = unit_groups.unit_code and with_data.month = unit_groups.month

),

peer_means as (

    select
        scoring_peer_group,
        month,
        indicator_code,
        {{ safe_divide(exact_sum('indicator_numerator'), exact_sum('indicator_denominator')) }} as peer_mean
    from scorable
    where in_peer_set = 1 and value_kind = 'case_rate'
    group by scoring_peer_group, month, indicator_code

),

shrunk as (

    select
        scorable.*,
        peer_means.peer_mean,
        settings.shrinkage_prior_cases,
        case
            when scorable.in_peer_set = 0 then null
            when scorable.value_kind = 'case_rate'
                then (scorable.indicator_numerator + settings.shrinkage_prior_cases * peer_means.peer_mean)
                    / (scorable.indicator_denominator + settings.shrinkage_prior_cases)
            else scorable.indicator_value
        end as scoring_value
    from scorable
    cross join settings
    left join peer_means
        on
            scorable.scoring_peer_group = peer_means.scoring_peer_group
            and scorable.month = peer_means.month
            and scorable.indicator_code = peer_means.indicator_code

),

peer_bounds as (

    select
        scoring_peer_group,
        month,
        indicator_code,
        min(scoring_value) as peer_min,
        max(scoring_value) as peer_max,
        {{ percentile_cont('scoring_value', var('scorecard_winsor_lower_quantile')) }} as winsor_lower,
        {{ percentile_cont('scoring_value', var('scorecard_winsor_upper_quantile')) }} as winsor_upper
    from shrunk
    where in_peer_set = 1
    group by scoring_peer_group, month, indicator_code

),

ranked as (

    select
        *,
        case when direction = 'lower_better' then -scoring_value else scoring_value end
            as oriented_value,
        sum(in_peer_set) over (
            partition by scoring_peer_group, month, indicator_code
        ) as peers_with_value
    from shrunk

),

positioned as (

    select
        *,
        rank() over (
            partition by scoring_peer_group, month, indicator_code, in_peer_set order by oriented_value
        ) - 1 as peers_below,
        count(*) over (
            partition by scoring_peer_group, month, indicator_code, in_peer_set, oriented_value
        ) as peers_tied
    from ranked

),

final as (

    select
        positioned.unit_code,
        positioned.month,
        positioned.county_code,
        positioned.peer_group,
        positioned.indicator_code,
        positioned.dimension,
        positioned.dimension_zh,
        positioned.label_zh,
        positioned.direction,
        positioned.weight,
        positioned.scope,
        positioned.value_kind,
        positioned.window_months,
        positioned.coverage,
        positioned.scoring_status,
        positioned.scoring_peer_group,
        positioned.peer_group_fallback,
        positioned.indicator_value,
        positioned.indicator_denominator,
        positioned.peer_mean,
        positioned.shrinkage_prior_cases,
        {{ to_float('positioned.scoring_value') }} as scoring_value,
        {{ to_float('peer_bounds.peer_min') }} as peer_min,
        {{ to_float('peer_bounds.peer_max') }} as peer_max,
        {{ to_float('peer_bounds.winsor_lower') }} as winsor_lower,
        {{ to_float('peer_bounds.winsor_upper') }} as winsor_upper,
        case when positioned.scoring_peer_group is not null then positioned.peers_with_value end
            as peers_with_value,
        case
            when positioned.data_reason is not null then positioned.data_reason
            when positioned.scoring_peer_group is null then positioned.scoring_status
        end as score_reason,
        {{ to_float(
            "case"
            ~ " when positioned.in_peer_set = 0 then null"
            ~ " when positioned.peers_with_value <= 1 then 50.0"
            ~ " else 100.0 * (positioned.peers_below + (positioned.peers_tied - 1) / 2.0)"
            ~ " / (positioned.peers_with_value - 1) end"
        ) }} as score,
        {{ to_float(
            "case"
            ~ " when positioned.in_peer_set = 0 then null"
            ~ " when peer_bounds.winsor_upper <= peer_bounds.winsor_lower then 50.0"
            ~ " when positioned.direction = 'lower_better' then 100.0 * (peer_bounds.winsor_upper"
            ~ " - least(greatest(positioned.scoring_value, peer_bounds.winsor_lower), peer_bounds.winsor_upper))"
            ~ " / (peer_bounds.winsor_upper - peer_bounds.winsor_lower)"
            ~ " else 100.0 * (least(greatest(positioned.scoring_value, peer_bounds.winsor_lower),"
            ~ " peer_bounds.winsor_upper) - peer_bounds.winsor_lower)"
            ~ " / (peer_bounds.winsor_upper - peer_bounds.winsor_lower) end"
        ) }} as score_min_max
    from positioned
    left join peer_bounds
        on
            positioned.scoring_peer_group = peer_bounds.scoring_peer_group
            and positioned.month = peer_bounds.month
            and positioned.indicator_code = peer_bounds.indicator_code

)

select * from final
