{#-
    Aggregates of fct_cases shared by mart_workload (per unit) and mart_workload_county (per county),
    so both levels use exactly the same definitions. Counts are over the cases *received* (reported)
    in the month, in their latest state; `alias` is the fct_cases alias.
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

{#- Weighted mean score of one scorecard dimension (mart_scorecard): Σ weight × score / Σ weight over
    the dimension's scored indicators. -#}
{% macro dimension_score(dimension) -%}
    {{ safe_divide(
        "sum(case when dimension = '" ~ dimension ~ "' and score is not null then weight * score end)",
        "sum(case when dimension = '" ~ dimension ~ "' and score is not null then weight end)"
    ) }}
{%- endmacro %}
