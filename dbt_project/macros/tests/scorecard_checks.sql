{#- Consistency tests on mart_scorecard (generic tests taking the mart as `model`); each returns the
    offending rows. -#}

{#- The dimension contributions add up to the composite (decomposition), within 1e-6. -#}
{% test scorecard_contributions_sum_to_composite(model) %}
    select unit_code, month, composite_score
    from {{ model }}
    where
        composite_score is not null
        and abs(
            {%- for dimension in scorecard_dimensions() %}
            coalesce({{ dimension }}_contribution, 0){{ ' +' if not loop.last }}
            {%- endfor %}
            - composite_score
        ) > 0.000001
{% endtest %}

{#- Only scored units (complete, partial) have a composite and ranks; every one of them has both,
    and its baseline rank lies within its rank range. -#}
{% test scorecard_ranks_only_scored_units(model) %}
    select unit_code, month, scoring_status, rank_in_peer_group
    from {{ model }}
    where
        (scoring_status not in ('complete', 'partial')
            and (composite_score is not null or rank_in_peer_group is not null or rank_in_county is not null))
        or (scoring_status in ('complete', 'partial')
            and (composite_score is null or rank_in_peer_group is null or rank_in_county is null
                or rank_in_peer_group < rank_min or rank_in_peer_group > rank_max))
{% endtest %}
