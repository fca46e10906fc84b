-- The scorecard (评价) per evaluated unit and month (docs/methodology.md): six dimension
-- scores, their contributions, the composite, ranks within the scoring peer group and county, the rank
-- range across the sensitivity scenarios, and the change from the previous month.
--   dimension score        = Σ_{scored indicators of the dimension} w × s / Σ their w
--   <dimension>_contribution = Σ_{scored indicators of the dimension} w × s / Σ_{all scored} w
--   composite_score        = Σ_{scored indicators} w × s / Σ their w = Σ contributions
-- Only units with scoring_status complete or partial (coverage ≥ min_coverage and a peer group of at
-- least min_peer_group_units) get a composite and ranks; insufficient_data, too_few_peers and no_data
-- units keep their row with the composite and ranks null. Ranks: rank() by composite_score descending
-- (ties share) within scoring_peer_group (resp. county) and month; previous month = the calendar
-- month before. window_months = the largest window of the unit-month's indicators (case_window_months
-- of seed scorecard_settings when the scorecard has a case rate; case rates are windowed upstream in
-- mart_scorecard_indicators).

with

indicators as (

    select * from {{ ref('mart_scorecard_indicators') }}

),

sensitivity as (

    select * from {{ ref('mart_scorecard_sensitivity') }}

),

unit_months as (

    select
        unit_code,
        month,
        max(county_code) as county_code,
        max(peer_group) as peer_group,
        max(scoring_peer_group) as scoring_peer_group,
        max(peer_group_fallback) as peer_group_fallback,
        max(scoring_status) as scoring_status,
        max(coverage) as coverage,
        max(window_months) as window_months,
        sum(case when weight > 0 then 1 else 0 end) as indicators_weighted,
        sum(case when weight > 0 and score is not null then 1 else 0 end) as indicators_scored,
        {{ safe_divide(
            exact_sum('case when score is not null then weight else 0 end'), exact_sum('weight')
        ) }} as weight_scored_share,
        {{ safe_divide(scorecard_weighted_sum(), scorecard_weight_sum()) }} as composite_score,
        {{ safe_divide(scorecard_weighted_sum('professionalism'), scorecard_weight_sum('professionalism')) }}
            as professionalism_score,
        {{ safe_divide(scorecard_weighted_sum('responsiveness'), scorecard_weight_sum('responsiveness')) }}
            as responsiveness_score,
        {{ safe_divide(scorecard_weighted_sum('self_governance'), scorecard_weight_sum('self_governance')) }}
            as self_governance_score,
        {{ safe_divide(scorecard_weighted_sum('institutionalisation'), scorecard_weight_sum('institutionalisation')) }}
            as institutionalisation_score,
        {{ safe_divide(scorecard_weighted_sum('digitalisation'), scorecard_weight_sum('digitalisation')) }}
            as digitalisation_score,
        {{ safe_divide(scorecard_weighted_sum('coverage'), scorecard_weight_sum('coverage')) }}
            as coverage_score,
        {{ dimension_contribution('professionalism') }} as professionalism_contribution,
        {{ dimension_contribution('responsiveness') }} as responsiveness_contribution,
        {{ dimension_contribution('self_governance') }} as self_governance_contribution,
        {{ dimension_contribution('institutionalisation') }} as institutionalisation_contribution,
        {{ dimension_contribution('digitalisation') }} as digitalisation_contribution,
        {{ dimension_contribution('coverage') }} as coverage_contribution
    from indicators
    group by unit_code, month

),

rank_ranges as (

    select
        unit_code,
        month,
        min(rank_in_peer_group) as rank_min,
        max(rank_in_peer_group) as rank_max
    from sensitivity
    where baseline_rank_in_peer_group is not null
    group by unit_code, month

),

ranked as (

    select
        unit_months.*,
        rank_ranges.rank_min,
        rank_ranges.rank_max,
        case
            when unit_months.composite_score is not null
                then rank() over (
                        partition by unit_months.scoring_peer_group, unit_months.month
                        order by unit_months.composite_score desc nulls last
                    )
        end as rank_in_peer_group,
        sum(case when unit_months.composite_score is not null then 1 else 0 end)
            over (partition by unit_months.scoring_peer_group, unit_months.month) as peer_group_units_ranked,
        case
            when unit_months.composite_score is not null
                then rank() over (
                        partition by unit_months.county_code, unit_months.month
                        order by unit_months.composite_score desc nulls last
                    )
        end as rank_in_county,
        sum(case when unit_months.composite_score is not null then 1 else 0 end)
            over (partition by unit_months.county_code, unit_months.month) as county_units_ranked
    from unit_months
    left join rank_ranges
        on unit_months.unit_code = rank_ranges.unit_code and unit_months.month = rank_ranges.month

),

with_previous as (

    select
        *,
        lag(month) over (partition by unit_code order by month) as previous_month,
        lag(composite_score) over (partition by unit_code order by month) as previous_lag_score,
        lag(rank_in_peer_group) over (partition by unit_code order by month) as previous_lag_rank
    from ranked

),

final as (

    select
        unit_code,
        month,
        county_code,
        peer_group,
        scoring_peer_group,
        peer_group_fallback,
        scoring_status,
        coverage,
        window_months,
        indicators_scored,
        indicators_weighted,
        weight_scored_share,
        professionalism_score,
        responsiveness_score,
        self_governance_score,
        institutionalisation_score,
        digitalisation_score,
        coverage_score,
        professionalism_contribution,
        responsiveness_contribution,
        self_governance_contribution,
        institutionalisation_contribution,
        digitalisation_contribution,
        coverage_contribution,
        composite_score,
        rank_in_peer_group,
        peer_group_units_ranked,
        rank_in_county,
        county_units_ranked,
        rank_min,
        rank_max,
        rank_max - rank_min as rank_range,
        case
            when previous_month = cast({{ dbt.dateadd('month', -1, 'month') }} as date) then previous_lag_score
        end as previous_composite_score,
        composite_score
        - case
            when previous_month = cast({{ dbt.dateadd('month', -1, 'month') }} as date) then previous_lag_score
        end as composite_score_change,
        case
            when previous_month = cast({{ dbt.dateadd('month', -1, 'month') }} as date) then previous_lag_rank
        end as previous_rank_in_peer_group
    from with_previous

)

select * from final
