{#- One person's FTE across units (docs/methodology.md). Both return the offending persons. -#}

{#- Finding, severity warn: persons listed above 1.0 FTE in one county roster snapshot. `model` is
    int_staff_fte_over_one, which holds exactly those persons: every row is a finding. A warning, not
    a failed build: the staffing figures already count such a person at 1.0 (fte_capped), so one bad
    roster row must not stop the nightly build; the run's findings list it for the county to fix. -#}
{% test person_fte_at_most_one(model) %}
    select county_code, snapshot_date, person_key, unit_codes, total_fte
    from {{ model }}
    where total_fte > 1 + 1e-9
{% endtest %}

{#- Invariant, severity error: after the cap nobody counts above 1.0 FTE in a county snapshot
    (`model` is stg_staff_roster__staff_posts; the staffing figures sum fte_capped). -#}
{% test person_fte_capped_at_most_one(model) %}
    select county_code, snapshot_date, person_key, sum(fte_capped) as fte_capped
    from {{ model }}
    where is_active_at_snapshot
    group by county_code, snapshot_date, person_key
    having sum(fte_capped) > 1 + 1e-9
{% endtest %}
