{#-
    Scorecard aggregates over rows of mart_scorecard_indicators grouped by unit and month (only the
    scored indicators, score not null, count). Sums are exact (exact_sum), so the composite, its
    contributions and the ranks are the same on every build.
-#}

{#- Σ weight × score over the scored indicators of `dimension` (all dimensions when none). -#}
{% macro scorecard_weighted_sum(dimension=none, weight='weight', score='score') -%}
    {%- set cond = (" and dimension = '" ~ dimension ~ "'") if dimension else "" -%}
    {{ exact_sum("case when " ~ score ~ " is not null" ~ cond ~ " then " ~ weight ~ " * " ~ score ~ " end") }}
{%- endmacro %}

{#- Σ weight over the scored indicators of `dimension` (all dimensions when none). -#}
{% macro scorecard_weight_sum(dimension=none, weight='weight', score='score') -%}
    {%- set cond = (" and dimension = '" ~ dimension ~ "'") if dimension else "" -%}
    {{ exact_sum("case when " ~ score ~ " is not null" ~ cond ~ " then " ~ weight ~ " end") }}
{%- endmacro %}

{#- Contribution of `dimension` to the composite: Σ_{i∈dimension} w_i s_i / Σ_i w_i (all scored
    indicators); the contributions of the six dimensions add up to the composite. -#}
{% macro dimension_contribution(dimension) -%}
    {{ safe_divide(scorecard_weighted_sum(dimension), scorecard_weight_sum()) }}
{%- endmacro %}

{#- The six dimensions of the scorecard (seed scorecard_weights). -#}
{% macro scorecard_dimensions() -%}
    {{ return(['professionalism', 'responsiveness', 'self_governance', 'institutionalisation',
               'digitalisation', 'coverage']) }}
{%- endmacro %}
