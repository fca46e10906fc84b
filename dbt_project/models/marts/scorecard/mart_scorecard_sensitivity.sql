-- Sensitivity and rank uncertainty of the scorecard (OECD/JRC Handbook, step 7): every scored unit's
-- composite and rank within its scoring peer group and month recomputed under each scenario, one row
-- per unit, month and scenario (scored units only: scoring_status complete or partial).
--   baseline          seed weights, percentile-rank scores (= mart_scorecard)
--   equal_weights     every indicator with a seed weight > 0 weighs 1
--   drop_<dimension>  seed weights, the dimension's indicators weigh 0 (one scenario per dimension)
--   min_max           seed weights, the alternative normalisation (score_min_max: winsorised min–max)
-- composite = Σ w × s / Σ w over the unit's scored indicators under the scenario's weights w and
-- scores s (null when no indicator keeps a weight); rank() descending among the peer group's units
-- with a composite; rank_shift = rank − baseline rank.

with

indicators as (

    select * from {{ ref('mart_scorecard_indicators') }}
    where scoring_status in ('complete', 'partial') and score is not null

),

scenarios as (

    select
        'baseline' as scenario,
        'seed' as weighting,
        'percentile_rank' as normalisation,
        cast(null as {{ dbt.type_string() }}) as dropped_dimension
    union all
    select
        'equal_weights' as scenario,
        'equal' as weighting,
        'percentile_rank' as normalisation,
        cast(null as {{ dbt.type_string() }}) as dropped_dimension
    union all
    select
        'min_max' as scenario,
        'seed' as weighting,
        'winsorised_min_max' as normalisation,
        cast(null as {{ dbt.type_string() }}) as dropped_dimension
    {%- for dimension in scorecard_dimensions() %}
        union all
        select
            'drop_{{ dimension }}' as scenario,
            'seed' as weighting,
            'percentile_rank' as normalisation,
            '{{ dimension }}' as dropped_dimension
    {%- endfor %}

),

scenario_rows as (

    select
        indicators.unit_code,
        indicators.month,
        indicators.county_code,
        indicators.scoring_peer_group,
        scenarios.scenario,
        scenarios.weighting,
        scenarios.normalisation,
        scenarios.dropped_dimension,
        case
            when indicators.weight <= 0 then 0.0
            when indicators.dimension = scenarios.dropped_dimension then 0.0
            when scenarios.weighting = 'equal' then 1.0
            else indicators.weight
        end as scenario_weight,
        case
            when scenarios.normalisation = 'winsorised_min_max' then indicators.score_min_max
            else indicators.score
        end as scenario_score
    from indicators
    cross join scenarios

),

composites as (

    select
        unit_code,
        month,
        county_code,
        scoring_peer_group,
        scenario,
        weighting,
        normalisation,
        dropped_dimension,
        {{ safe_divide(
            exact_sum('scenario_weight * scenario_score'),
            exact_sum('scenario_weight')
        ) }} as composite_score
    from scenario_rows
    group by unit_code, month, county_code, scoring_peer_group, scenario, weighting, normalisation, dropped_dimension

),

ranked as (

    select
        *,
        case
            when composite_score is not null
                then rank() over (
                        partition by scenario, scoring_peer_group, month order by composite_score desc nulls last
                    )
        end as rank_in_peer_group,
        sum(case when composite_score is not null then 1 else 0 end)
            over (partition by scenario, scoring_peer_group, month) as peer_group_units_ranked
    from composites

),

final as (

    select
        ranked.unit_code,
        ranked.month,
        ranked.county_code,
        ranked.scoring_peer_group,
        ranked.scenario,
        ranked.weighting,
        ranked.normalisation,
        ranked.dropped_dimension,
        ranked.composite_score,
        ranked.rank_in_peer_group,
        ranked.peer_group_units_ranked,
        baseline.rank_in_peer_group as baseline_rank_in_peer_group,
        ranked.rank_in_peer_group - baseline.rank_in_peer_group as rank_shift
    from ranked
    left join ranked as baseline
        on
            ranked.unit_code = baseline.unit_code
            and ranked.month = baseline.month
            and baseline.scenario = 'baseline'

)

select * from final
