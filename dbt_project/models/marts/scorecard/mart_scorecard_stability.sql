-- Rank stability of the scorecard per scoring peer group and month (from mart_scorecard_sensitivity):
-- units ranked under the baseline, scenarios, and how many units' rank range across the scenarios
-- (max rank − min rank) exceeds N places (rank_shift_places, seed scorecard_settings).

with

sensitivity as (

    select * from {{ ref('mart_scorecard_sensitivity') }}

),

settings as (

    select * from {{ ref('scorecard_settings') }}

),

unit_ranges as (

    select
        unit_code,
        month,
        scoring_peer_group,
        max(rank_in_peer_group) - min(rank_in_peer_group) as rank_range,
        max(abs(rank_shift)) as max_abs_rank_shift
    from sensitivity
    where baseline_rank_in_peer_group is not null
    group by unit_code, month, scoring_peer_group

),

scenario_counts as (

    select
        scoring_peer_group,
        month,
        count(distinct scenario) as scenarios
    from sensitivity
    group by scoring_peer_group, month

),

final as (

    select
        unit_ranges.scoring_peer_group,
        unit_ranges.month,
        max(scenario_counts.scenarios) as scenarios,
        count(*) as units_ranked,
        max(settings.rank_shift_places) as rank_shift_places,
        sum(case when unit_ranges.rank_range > settings.rank_shift_places then 1 else 0 end)
            as units_moving_more_than_n,
        {{ safe_divide(
            'sum(case when unit_ranges.rank_range > settings.rank_shift_places then 1 else 0 end)',
            'count(*)'
        ) }} as share_moving_more_than_n,
        max(unit_ranges.rank_range) as max_rank_range,
        {{ safe_divide('sum(unit_ranges.rank_range)', 'count(*)') }} as mean_rank_range
    from unit_ranges
    cross join settings
    inner join scenario_counts
        on
            unit_ranges.scoring_peer_group = scenario_counts.scoring_peer_group
            and unit_ranges.month = scenario_counts.month
    group by unit_ranges.scoring_peer_group, unit_ranges.month

)

select * from final
