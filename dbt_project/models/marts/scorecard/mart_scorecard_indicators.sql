-- Scorecard indicators scored within peer groups (因地制宜), one row per evaluated unit, month and
-- indicator. Score (0–100) by min–max within the unit's peer group and month, over the units that
-- have a value:
--   higher_better: 100 × (value − peer_min) / (peer_max − peer_min)
--   lower_better:  100 × (peer_max − value) / (peer_max − peer_min)
--   all peers equal (peer_max = peer_min, incl. a peer group of one): 100 (nobody is behind a peer)
--   no value: score null (the indicator does not count for that unit-month; see mart_scorecard).

with

indicator_values as (

    select * from {{ ref('int_scorecard_indicator_values') }}

),

weights as (

    select * from {{ ref('scorecard_weights') }}

),

peer_ranges as (

    select
        *,
        min(indicator_value) over (partition by peer_group, month, indicator_code) as peer_min,
        max(indicator_value) over (partition by peer_group, month, indicator_code) as peer_max,
        count(indicator_value) over (partition by peer_group, month, indicator_code) as peers_with_value
    from indicator_values

),

final as (

    select
        peer_ranges.unit_code,
        peer_ranges.month,
        peer_ranges.county_code,
        peer_ranges.peer_group,
        peer_ranges.indicator_code,
        weights.dimension,
        weights.dimension_zh,
        weights.label_zh,
        weights.direction,
        weights.weight,
        peer_ranges.indicator_value,
        peer_ranges.peer_min,
        peer_ranges.peer_max,
        peer_ranges.peers_with_value,
        {{ to_float(
            "case"
            ~ " when peer_ranges.indicator_value is null then null"
            ~ " when peer_ranges.peer_max = peer_ranges.peer_min then 100.0"
            ~ " when weights.direction = 'lower_better' then 100.0 * (peer_ranges.peer_max - peer_ranges.indicator_value)"
            ~ " / (peer_ranges.peer_max - peer_ranges.peer_min)"
            ~ " else 100.0 * (peer_ranges.indicator_value - peer_ranges.peer_min)"
            ~ " / (peer_ranges.peer_max - peer_ranges.peer_min) end"
        ) }} as score
    from peer_ranges
    inner join weights
        on peer_ranges.indicator_code = weights.indicator_code

)

select * from final
