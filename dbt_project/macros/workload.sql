{#-
    Aggregates of fct_cases shared by mart_workload (per unit) and the roll-ups mart_workload_county,
    mart_workload_township and mart_workload_category, so every level uses exactly the same
    definitions. Counts are over the cases *received* (reported) in the month, in their latest state;
    `alias` is the fct_cases alias.
-#}
{% macro case_counts(alias='') -%}
{%- set alias = (alias ~ '.') if alias else '' -%}
        count(*) as cases_received,
        sum(case when {{ alias }}is_cancelled then 1 else 0 end) as cases_cancelled,
        sum(case when {{ alias }}is_responded then 1 else 0 end) as cases_responded,
        sum(case when {{ alias }}is_responded_within_sla then 1 else 0 end) as cases_responded_within_sla,
        sum(case when {{ alias }}is_closed then 1 else 0 end) as cases_closed,
        sum(case when {{ alias }}is_closed_within_sla then 1 else 0 end) as cases_closed_within_sla,
        sum(case when {{ alias }}is_escalated then 1 else 0 end) as cases_escalated,
        sum(case when {{ alias }}is_resolved_locally then 1 else 0 end) as cases_resolved_locally,
        sum(case when {{ alias }}is_rated then 1 else 0 end) as cases_rated,
        sum(case when {{ alias }}is_satisfied then 1 else 0 end) as cases_satisfied,
        sum(case when {{ alias }}is_repeat then 1 else 0 end) as cases_repeat,
        sum(case when {{ alias }}is_resident_initiated then 1 else 0 end) as cases_resident_initiated,
        sum(case when {{ alias }}is_digital_channel then 1 else 0 end) as cases_digital_channel,
        {{ percentile_cont(alias ~ 'response_hours', 0.5) }} as response_hours_median,
        {{ percentile_cont(alias ~ 'response_hours', 0.9) }} as response_hours_p90,
        {{ percentile_cont(alias ~ 'closure_hours', 0.5) }} as closure_hours_median,
        {{ percentile_cont(alias ~ 'closure_hours', 0.9) }} as closure_hours_p90,
        {{ percentile_cont(alias ~ 'response_working_hours', 0.5) }} as response_working_hours_median,
        {{ percentile_cont(alias ~ 'closure_working_hours', 0.5) }} as closure_working_hours_median
{%- endmacro %}

{#-
    Rates over the counts of case_counts (columns of `alias`), null when the denominator is 0:
      response_rate (响应率)            = responded within SLA / received
      responded_within_sla_rate         = responded within SLA / responded
      resolution_rate (解决率)          = closed / (received − cancelled)
      closed_within_sla_rate            = closed within SLA / closed
      satisfaction_rate (满意率)        = (satisfied + basically satisfied) / rated
      escalation_rate                   = escalated / received
      resolved_locally_rate             = closed without escalation at the unit itself / closed
      repeat_rate                       = repeat cases / received
      resident_initiated_share          = not grid_patrol / received
      digital_channel_share             = (mobile_app + online_portal) / received
-#}
{% macro case_rates(alias='') -%}
{%- set alias = (alias ~ '.') if alias else '' -%}
        {{ safe_divide(alias ~ 'cases_responded_within_sla', alias ~ 'cases_received') }} as response_rate,
        {{ safe_divide(alias ~ 'cases_responded_within_sla', alias ~ 'cases_responded') }}
            as responded_within_sla_rate,
        {{ safe_divide(alias ~ 'cases_closed', alias ~ 'cases_received - ' ~ alias ~ 'cases_cancelled') }}
            as resolution_rate,
        {{ safe_divide(alias ~ 'cases_closed_within_sla', alias ~ 'cases_closed') }} as closed_within_sla_rate,
        {{ safe_divide(alias ~ 'cases_satisfied', alias ~ 'cases_rated') }} as satisfaction_rate,
        {{ safe_divide(alias ~ 'cases_escalated', alias ~ 'cases_received') }} as escalation_rate,
        {{ safe_divide(alias ~ 'cases_resolved_locally', alias ~ 'cases_closed') }} as resolved_locally_rate,
        {{ safe_divide(alias ~ 'cases_repeat', alias ~ 'cases_received') }} as repeat_rate,
        {{ safe_divide(alias ~ 'cases_resident_initiated', alias ~ 'cases_received') }}
            as resident_initiated_share,
        {{ safe_divide(alias ~ 'cases_digital_channel', alias ~ 'cases_received') }} as digital_channel_share
{%- endmacro %}

{#- Names of the additive counts of case_counts, in its order. -#}
{% macro case_count_names() -%}
    {{ return([
        'cases_received', 'cases_cancelled', 'cases_responded', 'cases_responded_within_sla', 'cases_closed',
        'cases_closed_within_sla', 'cases_escalated', 'cases_resolved_locally', 'cases_rated',
        'cases_satisfied', 'cases_repeat', 'cases_resident_initiated', 'cases_digital_channel'
    ]) }}
{%- endmacro %}

{#- Names of the duration percentiles of case_counts that the roll-up marts publish (SLA clock). -#}
{% macro case_hours_names() -%}
    {{ return(['response_hours_median', 'response_hours_p90', 'closure_hours_median', 'closure_hours_p90']) }}
{%- endmacro %}

{#-
    A select list of `names`, each taken from `alias` (if any) and kept under its own name:
    `coalesce_to` replaces nulls (0 for the counts of a spine row without cases), `to_double` casts to
    type_double(). Used by the roll-up marts to carry the case_counts columns through their CTEs.
-#}
{% macro column_list(names, alias='', coalesce_to=none, to_double=false) -%}
{%- set prefix = (alias ~ '.') if alias else '' -%}
{%- for name in names %}
    {%- set expr = prefix ~ name -%}
    {%- if coalesce_to is not none %}{% set expr = 'coalesce(' ~ expr ~ ', ' ~ coalesce_to ~ ')' %}{% endif -%}
    {%- if to_double %}{% set expr = to_float(expr) %}{% endif %}
        {{ expr }}{% if expr != name %} as {{ name }}{% endif %}{% if not loop.last %},{% endif %}
{%- endfor %}
{%- endmacro %}

{#-
    Totals over the unit rows of mart_workload (to be grouped by the roll-up's key): units on the spine,
    units with cases, backlog, roster presence, staff FTE (null when no unit has a roster: unknown) and
    resident population of the units with a known figure.
-#}
{% macro unit_workload_totals() -%}
        count(*) as units_evaluated,
        sum(case when cases_received > 0 then 1 else 0 end) as units_with_cases,
        sum(backlog_month_end) as backlog_month_end,
        max(case when has_roster then 1 else 0 end) = 1 as has_roster,
        sum(staff_fte) as staff_fte,
        sum(resident_population) as resident_population
{%- endmacro %}

{#- Load measures of a roll-up over its staff and residents (null when staff or residents unknown or 0). -#}
{% macro staff_workload_measures() -%}
        {{ safe_divide('cases_received', 'staff_fte') }} as cases_per_fte,
        {{ safe_divide('cases_received * 10000', 'resident_population') }} as cases_per_10k_residents,
        backlog_month_end,
        {{ safe_divide('backlog_month_end', 'staff_fte') }} as backlog_per_fte
{%- endmacro %}

{#- Weighted mean score of one scorecard dimension (mart_scorecard): Σ weight × score / Σ weight over
    the dimension's scored indicators. -#}
{% macro dimension_score(dimension) -%}
    {{ safe_divide(
        "sum(case when dimension = '" ~ dimension ~ "' and score is not null then weight * score end)",
        "sum(case when dimension = '" ~ dimension ~ "' and score is not null then weight end)"
    ) }}
{%- endmacro %}
