-- The scorecard (评价) per evaluated unit and month: six dimension scores and the composite, each a
-- weighted mean (seed scorecard_weights) of the indicator scores of mart_scorecard_indicators (0–100
-- within the peer group), ranks within peer group and county, and the change from the previous month.
--   dimension score = Σ_{scored indicators of the dimension} weight × score / Σ their weights
--   composite_score = Σ_{scored indicators} weight × score / Σ their weights
-- Units lacking data are scored on the indicators they have (weights renormalised) and marked:
-- scoring_status = 'complete' (every weighted indicator scored), 'partial', or 'no_data' (none; the
-- composite and ranks are null). No unit is dropped: every spine unit-month has a row.
-- Ranks: rank() by composite_score descending among the units of the peer group (resp. county) and
-- month that have a composite (ties share a rank); previous month = the calendar month before.

with

indicators as (

    select * from {{ ref('mart_scorecard_indicators') }}

),

unit_months as (

    select
        unit_code,
        month,
        max(county_code) as county_code,
        max(peer_group) as peer_group,
        sum(case when weight > 0 then 1 else 0 end) as indicators_weighted,
        sum(case when weight > 0 and score is not null then 1 else 0 end) as indicators_scored,
        {{ safe_divide('sum(case when score is not null then weight else 0 end)', 'sum(weight)') }}
            as weight_scored_share,
        {{ safe_divide('sum(case when score is not null then weight * score end)',
                       'sum(case when score is not null then weight end)') }} as composite_score,
        {{ dimension_score('professionalism') }} as professionalism_score,
        {{ dimension_score('responsiveness') }} as responsiveness_score,
        {{ dimension_score('self_governance') }} as self_governance_score,
        {{ dimension_score('institutionalisation') }} as institutionalisation_score,
        {{ dimension_score('digitalisation') }} as digitalisation_score,
        {{ dimension_score('coverage') }} as coverage_score
    from indicators
    group by unit_code, month

),

ranked as (

    select
        *,
        case
            when indicators_scored = 0 then 'no_data'
            when indicators_scored < indicators_weighted then 'partial'
            else 'complete'
        end as scoring_status,
        case
            when composite_score is not null
                then rank() over (partition by peer_group, month order by composite_score desc nulls last)
        end as rank_in_peer_group,
        sum(case when composite_score is not null then 1 else 0 end) over (partition by peer_group, month)
            as peer_group_units_ranked,
        case
            when composite_score is not null
                then rank() over (partition by county_code, month order by composite_score desc nulls last)
        end as rank_in_county,
        sum(case when composite_score is not null then 1 else 0 end) over (partition by county_code, month)
            as county_units_ranked
    from unit_months

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
        scoring_status,
        indicators_scored,
        indicators_weighted,
        weight_scored_share,
        professionalism_score,
        responsiveness_score,
        self_governance_score,
        institutionalisation_score,
        digitalisation_score,
        coverage_score,
        composite_score,
        rank_in_peer_group,
        peer_group_units_ranked,
        rank_in_county,
        county_units_ranked,
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
