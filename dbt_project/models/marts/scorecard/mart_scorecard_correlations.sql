-- Multivariate check of the scorecard (OECD/JRC Handbook, step 4): Pearson correlation of the
-- indicator scores, pair by pair, within each scoring peer group and month, over the scored units
-- (scoring_status complete or partial) that have a score on both indicators. A pair correlated
-- near ±1 measures one thing twice (redundant); r is null with fewer than 3 units or when a score
-- does not vary. r = (n Σab − Σa Σb) / √((n Σa² − (Σa)²)(n Σb² − (Σb)²)) from exact (decimal) sums, so
-- that a rebuild gives the same bits whatever the row order (DESIGN §7; corr() is order-dependent).

with

indicators as (

    select * from {{ ref('mart_scorecard_indicators') }}
    where scoring_status in ('complete', 'partial') and score is not null

),

pairs as (

    select
        a.scoring_peer_group,
        a.month,
        a.indicator_code as indicator_a,
        b.indicator_code as indicator_b,
        a.dimension as dimension_a,
        b.dimension as dimension_b,
        a.score as score_a,
        b.score as score_b
    from indicators as a
    inner join indicators as b
        on
            a.unit_code = b.unit_code
            and a.month = b.month
            and a.indicator_code < b.indicator_code

),

sums as (

    select
        scoring_peer_group,
        month,
        indicator_a,
        indicator_b,
        max(dimension_a) as dimension_a,
        max(dimension_b) as dimension_b,
        count(*) as units,
        max(score_a) > min(score_a) and max(score_b) > min(score_b) as both_vary,
        {{ exact_sum('score_a') }} as sum_a,
        {{ exact_sum('score_b') }} as sum_b,
        {{ exact_sum('score_a * score_a') }} as sum_aa,
        {{ exact_sum('score_b * score_b') }} as sum_bb,
        {{ exact_sum('score_a * score_b') }} as sum_ab
    from pairs
    group by scoring_peer_group, month, indicator_a, indicator_b

),

final as (

    select
        scoring_peer_group,
        month,
        indicator_a,
        indicator_b,
        dimension_a,
        dimension_b,
        units,
        case
            when units >= 3 and both_vary
                then {{ to_float(
                    '(units * sum_ab - sum_a * sum_b)'
                    ~ ' / sqrt(nullif((units * sum_aa - sum_a * sum_a) * (units * sum_bb - sum_b * sum_b), 0))'
                ) }}
        end as pearson_r
    from sums

)

select * from final
