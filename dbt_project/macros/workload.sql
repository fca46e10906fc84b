{#-
    Aggregates of fct_cases shared by mart_workload (per unit) and the roll-ups mart_workload_county,
    mart_workload_township and mart_workload_category, so every level uses exactly the same
    definitions. Counts are over the cases *received* (reported) in the month, in their latest state;
    `alias` is the fct_cases alias.

    Valid cases (docs block valid_cases): cases_valid = cases_received − cases_cancelled. Every count
    below except cases_received and cases_cancelled counts valid cases only, so a numerator is always a
    subset of its denominator. Three denominators are not derivable from the other counts and are
    counted here (additive, so the roll-ups carry them like the counts):
      response_rate_denominator             valid, SLA known, response data known
      responded_within_sla_rate_denominator valid, SLA known, responded
      closed_within_sla_rate_denominator    closed (hence valid), SLA known
    Durations: median and p90 of the valid cases' calendar hours and, separately, working hours
    (never mixed; the DuckDB percentile macro computes both fractions of a column in one aggregate).
-#}
{% macro case_counts(alias='') -%}
{%- set a = (alias ~ '.') if alias else '' -%}
{%- set valid = 'not ' ~ a ~ 'is_cancelled' -%}
{%- set sla_known = a ~ "sla_status = 'known'" -%}
{%- set response_known = a ~ "response_data_status = 'known'" -%}
        count(*) as cases_received,
        sum(case when {{ a }}is_cancelled then 1 else 0 end) as cases_cancelled,
        sum(case when {{ valid }} then 1 else 0 end) as cases_valid,
        sum(case when {{ valid }} and not ({{ sla_known }}) then 1 else 0 end) as cases_without_sla,
        sum(case when {{ valid }} and not ({{ response_known }}) then 1 else 0 end)
            as cases_without_response_data,
        sum(case when {{ valid }} and {{ a }}is_responded then 1 else 0 end) as cases_responded,
        sum(case when {{ valid }} and {{ a }}is_responded_within_sla then 1 else 0 end)
            as cases_responded_within_sla,
        sum(case when {{ valid }} and {{ a }}is_closed then 1 else 0 end) as cases_closed,
        sum(case when {{ valid }} and {{ a }}is_closed_within_sla then 1 else 0 end) as cases_closed_within_sla,
        sum(case when {{ valid }} and {{ a }}is_escalated then 1 else 0 end) as cases_escalated,
        sum(case when {{ valid }} and {{ a }}is_resolved_locally then 1 else 0 end) as cases_resolved_locally,
        sum(case when {{ valid }} and {{ a }}is_rated then 1 else 0 end) as cases_rated,
        sum(case when {{ valid }} and {{ a }}is_satisfied then 1 else 0 end) as cases_satisfied,
        sum(case when {{ valid }} and {{ a }}is_repeat then 1 else 0 end) as cases_repeat,
        sum(case when {{ valid }} and {{ a }}is_resident_initiated then 1 else 0 end) as cases_resident_initiated,
        sum(case when {{ valid }} and {{ a }}is_digital_channel then 1 else 0 end) as cases_digital_channel,
        sum(case when {{ valid }} and {{ sla_known }} and {{ response_known }} then 1 else 0 end)
            as response_rate_denominator,
        sum(case when {{ valid }} and {{ sla_known }} and {{ a }}is_responded then 1 else 0 end)
            as responded_within_sla_rate_denominator,
        sum(case when {{ valid }} and {{ sla_known }} and {{ a }}is_closed then 1 else 0 end)
            as closed_within_sla_rate_denominator,
        {{ valid_case_percentiles(a, 'response_calendar_hours', valid) }},
        {{ valid_case_percentiles(a, 'response_working_hours', valid) }},
        {{ valid_case_percentiles(a, 'closure_calendar_hours', valid) }},
        {{ valid_case_percentiles(a, 'closure_working_hours', valid) }}
{%- endmacro %}

{#- Median and p90 (continuous) of a duration column of fct_cases over the valid cases, named
    <column>_median and <column>_p90 (e.g. response_calendar_hours_median). -#}
{% macro valid_case_percentiles(prefix, column, valid) -%}
{%- set expr = 'case when ' ~ valid ~ ' then ' ~ prefix ~ column ~ ' end' -%}
        {{ percentile_cont(expr, 0.5) }} as {{ column }}_median,
        {{ percentile_cont(expr, 0.9) }} as {{ column }}_p90
{%- endmacro %}

{#-
    Rates over the counts of case_counts (columns of `alias`), each published with its denominator
    (`<rate>_denominator`, so numerator = rate × denominator) and a null reason (`<rate>_null_reason`,
    null when the rate is not null). A rate is null exactly when its denominator is 0. Valid = received −
    cancelled (docs block valid_cases):
      response_rate (响应率)      = responded within SLA / valid with known SLA and known response data
      responded_share             = responded / valid with known response data
      responded_within_sla_rate   = responded within SLA / responded with known SLA
      resolution_rate (解决率)    = closed / valid
      closed_within_sla_rate      = closed within SLA / closed with known SLA
      satisfaction_rate (满意率)  = (satisfied + basically satisfied) / rated (valid)
      escalation_rate             = escalated / valid
      resolved_locally_rate       = closed without escalation at the unit itself / closed
      repeat_rate                 = repeat cases / valid
      resident_initiated_share    = not grid_patrol / valid
      digital_channel_share       = (mobile_app + online_portal) / valid
    Null reasons: no_cases (no valid case), no_response_data (every valid case lacks response data),
    no_sla_for_category (what is left has no SLA), no_responded_cases, no_closed_cases, no_rated_cases.
-#}
{% macro case_rates(alias='') -%}
{%- set a = (alias ~ '.') if alias else '' -%}
{%- set no_cases = a ~ 'cases_valid = 0' -%}
{%- set no_response_data = a ~ 'cases_valid = ' ~ a ~ 'cases_without_response_data' -%}
{%- set rates = [
    ('response_rate', 'cases_responded_within_sla', a ~ 'response_rate_denominator',
        [(no_cases, 'no_cases'), (no_response_data, 'no_response_data'), (none, 'no_sla_for_category')]),
    ('responded_share', 'cases_responded', a ~ 'cases_valid - ' ~ a ~ 'cases_without_response_data',
        [(no_cases, 'no_cases'), (none, 'no_response_data')]),
    ('responded_within_sla_rate', 'cases_responded_within_sla', a ~ 'responded_within_sla_rate_denominator',
        [(no_cases, 'no_cases'), (no_response_data, 'no_response_data'),
         (a ~ 'cases_responded = 0', 'no_responded_cases'), (none, 'no_sla_for_category')]),
    ('resolution_rate', 'cases_closed', a ~ 'cases_valid', [(none, 'no_cases')]),
    ('closed_within_sla_rate', 'cases_closed_within_sla', a ~ 'closed_within_sla_rate_denominator',
        [(no_cases, 'no_cases'), (a ~ 'cases_closed = 0', 'no_closed_cases'), (none, 'no_sla_for_category')]),
    ('satisfaction_rate', 'cases_satisfied', a ~ 'cases_rated', [(no_cases, 'no_cases'), (none, 'no_rated_cases')]),
    ('escalation_rate', 'cases_escalated', a ~ 'cases_valid', [(none, 'no_cases')]),
    ('resolved_locally_rate', 'cases_resolved_locally', a ~ 'cases_closed',
        [(no_cases, 'no_cases'), (none, 'no_closed_cases')]),
    ('repeat_rate', 'cases_repeat', a ~ 'cases_valid', [(none, 'no_cases')]),
    ('resident_initiated_share', 'cases_resident_initiated', a ~ 'cases_valid', [(none, 'no_cases')]),
    ('digital_channel_share', 'cases_digital_channel', a ~ 'cases_valid', [(none, 'no_cases')]),
] -%}
{%- for name, numerator, denominator, reasons in rates %}
        {%- if denominator != a ~ name ~ '_denominator' %}
        {{ denominator }} as {{ name }}_denominator,
        {%- endif %}
        {{ safe_divide(a ~ numerator, denominator) }} as {{ name }},
        case
            when {{ denominator }} > 0 then null
            {%- for condition, reason in reasons %}
            {%- if loop.last %}
            else '{{ reason }}'
            {%- else %}
            when {{ condition }} then '{{ reason }}'
            {%- endif %}
            {%- endfor %}
        end as {{ name }}_null_reason{% if not loop.last %},{% endif %}
{%- endfor %}
{%- endmacro %}

{#- Names of the additive counts of case_counts, in its order. -#}
{% macro case_count_names() -%}
    {{ return([
        'cases_received', 'cases_cancelled', 'cases_valid', 'cases_without_sla', 'cases_without_response_data',
        'cases_responded', 'cases_responded_within_sla', 'cases_closed', 'cases_closed_within_sla',
        'cases_escalated', 'cases_resolved_locally', 'cases_rated', 'cases_satisfied', 'cases_repeat',
        'cases_resident_initiated', 'cases_digital_channel', 'response_rate_denominator',
        'responded_within_sla_rate_denominator', 'closed_within_sla_rate_denominator'
    ]) }}
{%- endmacro %}

{#- Names of the duration percentiles of case_counts: calendar and working hours kept apart. -#}
{% macro case_hours_names() -%}
    {{ return([
        'response_calendar_hours_median', 'response_calendar_hours_p90',
        'response_working_hours_median', 'response_working_hours_p90',
        'closure_calendar_hours_median', 'closure_calendar_hours_p90',
        'closure_working_hours_median', 'closure_working_hours_p90'
    ]) }}
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
        sum(stale_open_cases) as stale_open_cases,
        max(case when has_roster then 1 else 0 end) = 1 as has_roster,
        sum(staff_fte) as staff_fte,
        sum(resident_population) as resident_population
{%- endmacro %}

{#- Load measures over staff and residents (mart_workload and its roll-ups), null when staff or
    residents are unknown or 0, with the reason: per_fte_null_reason no_roster (staff_fte null) or
    zero_staff (0 FTE); per_10k_null_reason no_population (resident population unknown or 0). -#}
{% macro staff_workload_measures() -%}
        {{ safe_divide('cases_received', 'staff_fte') }} as cases_per_fte,
        {{ safe_divide('cases_received * 10000', 'resident_population') }} as cases_per_10k_residents,
        backlog_month_end,
        {{ safe_divide('backlog_month_end', 'staff_fte') }} as backlog_per_fte,
        stale_open_cases,
        case
            when staff_fte is null then 'no_roster'
            when staff_fte = 0 then 'zero_staff'
        end as per_fte_null_reason,
        case
            when resident_population is null or resident_population = 0 then 'no_population'
        end as per_10k_null_reason
{%- endmacro %}
