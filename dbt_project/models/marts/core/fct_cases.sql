-- One row per case (latest version), with its service levels and the measures the workload marts
-- aggregate. Incremental: each run takes the cases with a version loaded since the last run
-- (stg last_loaded_at ≥ the newest already in the table; ≥ so a batch loaded at the same instant is
-- never skipped, and re-processing it is idempotent) plus every case sharing a (reporter, category)
-- with them (before or after the change), because the repeat flag of those cases depends on them;
-- delete+insert on case_id then replaces their rows. A full refresh gives the same table (tested).
-- stg_case_log__cases is an incremental table (last_loaded_at a stored column), so the watermark
-- filter reads a column instead of re-windowing every case version.
--
-- Durations (hours):
--   *_calendar_hours = elapsed clock time;
--   *_working_hours  = working time (var working_day_start_hour … working_day_end_hour on dim_date
--                      working days: weekends and public holidays excluded, make-up days included);
--   *_hours          = the clock of the category's SLA: calendar hours when the SLA unit is `hours`,
--                      working hours when it is `working_days` (SLA = N × working hours per day).
--   response_hours / closure_hours are null when the category has no SLA (not in case_categories).
-- Unknown stays unknown (docs blocks sla_status, response_data_status):
--   sla_status = 'no_sla_for_category' when the category is absent from seed case_categories: the
--     case has no SLA, so is_responded_within_sla and is_closed_within_sla are null (not false);
--   response_data_status = 'no_response_data' when the delivery file of the case's latest version
--     (source_file) has no first_response_at in any of its raw rows: the supplier does not send
--     response times, so is_responded and is_responded_within_sla are null (not false).
-- Repeat: an earlier case (by reported_at, then case_id) with the same reporter_phone_hash and
-- category reported at most var repeat_case_window_days (30) days before.
{{
    config(
        materialized='incremental',
        unique_key='case_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['case_id']},
            {'columns': ['last_loaded_at']},
        ] if target.type == 'postgres' else []
    )
}}
{%- set hours_per_working_day = var('working_day_end_hour') - var('working_day_start_hour') %}

with

cases as (

    select * from {{ ref('stg_case_log__cases') }}

),

categories as (

    select * from {{ ref('case_categories') }}

),

calendar as (

    select * from {{ ref('dim_date') }}

),

{% if is_incremental() %}

changed_cases as (

    select
        case_id,
        reporter_phone_hash,
        category
    from cases
    where
        last_loaded_at >= (
            select coalesce(max(last_loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
            from {{ this }}
        )

),

affected_keys as (

    -- the changed cases' reporter and category, now and as previously stored
    select
        reporter_phone_hash,
        category
    from changed_cases
    union
    select
        previous.reporter_phone_hash,
        previous.category
    from {{ this }} as previous
    inner join changed_cases
        on previous.case_id = changed_cases.case_id

),

{% endif %}

scope as (

    select *
    from cases
    {% if is_incremental() %}
        where
            case_id in (select changed_cases.case_id from changed_cases)
            or exists (
                select 1
                from affected_keys
                where
                    affected_keys.reporter_phone_hash = cases.reporter_phone_hash
                    and affected_keys.category = cases.category
            )
    {% endif %}

),

-- delivery files that carry response times: a file with no first_response_at in any raw row is a
-- supplier that does not send them (lineage column source_file of raw.case_log)
response_files as (

    select
        source_file,
        count(first_response_at) > 0 as file_has_response_data
    from {{ source('raw', 'case_log') }}
    {% if is_incremental() %}
        where source_file in (select scope.source_file from scope)
    {% endif %}
    group by source_file

),

repeats as (

    select
        *,
        lag(reported_at) over (
            partition by reporter_phone_hash, category order by reported_at, case_id
        ) as previous_reported_at
    from scope

),

with_sla as (

    select
        repeats.*,
        case when categories.category is not null then 'known' else 'no_sla_for_category' end as sla_status,
        case
            when
                repeats.first_response_at is not null
                or coalesce(response_files.file_has_response_data, true)
                then 'known'
            else 'no_response_data'
        end as response_data_status,
        categories.response_sla,
        categories.response_sla_unit,
        categories.resolution_sla,
        categories.resolution_sla_unit,
        case categories.response_sla_unit
            when 'hours' then categories.response_sla
            when 'working_days' then categories.response_sla * {{ hours_per_working_day }}
        end as response_sla_hours,
        case categories.resolution_sla_unit
            when 'hours' then categories.resolution_sla
            when 'working_days' then categories.resolution_sla * {{ hours_per_working_day }}
        end as resolution_sla_hours
    from repeats
    left join categories
        on repeats.category = categories.category
    left join response_files
        on repeats.source_file = response_files.source_file

),

clocks as (

    select
        with_sla.*,
        {{ working_clock_seconds('with_sla.reported_at', 'reported_day') }} as reported_clock,
        {{ working_clock_seconds('with_sla.first_response_at', 'response_day') }} as response_clock,
        {{ working_clock_seconds('with_sla.closed_at', 'closed_day') }} as closed_clock
    from with_sla
    left join calendar as reported_day
        on cast(with_sla.reported_at as date) = reported_day.date_day
    left join calendar as response_day
        on cast(with_sla.first_response_at as date) = response_day.date_day
    left join calendar as closed_day
        on cast(with_sla.closed_at as date) = closed_day.date_day

),

durations as (

    select
        *,
        {{ dbt.datediff('reported_at', 'first_response_at', 'second') }} / 3600.0 as response_calendar_hours,  -- noqa: LT05
        (response_clock - reported_clock) / 3600.0 as response_working_hours,
        case
            when status = 'closed' then {{ dbt.datediff('reported_at', 'closed_at', 'second') }} / 3600.0  -- noqa: LT05
        end as closure_calendar_hours,
        case when status = 'closed' then (closed_clock - reported_clock) / 3600.0 end as closure_working_hours
    from clocks

),

sla_clock as (

    select
        *,
        case response_sla_unit
            when 'working_days' then response_working_hours
            when 'hours' then response_calendar_hours
        end as response_hours,
        case resolution_sla_unit
            when 'working_days' then closure_working_hours
            when 'hours' then closure_calendar_hours
        end as closure_hours
    from durations

),

final as (

    select
        case_id,
        unit_code,
        county_code,
        {{ parent_unit_code('unit_code', 'township') }} as township_code,
        channel,
        category,
        reported_at,
        reported_month,
        assigned_at,
        first_response_at,
        closed_at,
        case when status = 'closed' then {{ month_start('closed_at') }} end as closed_month,
        status,
        escalated_to_level,
        handled_by_unit_code,
        satisfaction,
        reporter_phone_hash,
        updated_at,
        last_loaded_at,
        version_count,
        response_sla,
        response_sla_unit,
        response_sla_hours,
        resolution_sla,
        resolution_sla_unit,
        resolution_sla_hours,
        {{ to_float('response_calendar_hours') }} as response_calendar_hours,
        {{ to_float('response_working_hours') }} as response_working_hours,
        {{ to_float('response_hours') }} as response_hours,
        {{ to_float('closure_calendar_hours') }} as closure_calendar_hours,
        {{ to_float('closure_working_hours') }} as closure_working_hours,
        {{ to_float('closure_hours') }} as closure_hours,
        sla_status,
        response_data_status,
        status = 'cancelled' as is_cancelled,
        case when response_data_status = 'known' then first_response_at is not null end as is_responded,
        case
            when sla_status = 'known' and response_data_status = 'known'
                then coalesce(first_response_at is not null and response_hours <= response_sla_hours, false)
        end as is_responded_within_sla,
        status = 'closed' as is_closed,
        case
            when sla_status = 'known'
                then coalesce(status = 'closed' and closure_hours <= resolution_sla_hours, false)
        end as is_closed_within_sla,
        coalesce(escalated_to_level, 'none') <> 'none' as is_escalated,
        -- resolved at the community: closed, never escalated, handled by the unit it arose in
        (
            status = 'closed'
            and coalesce(escalated_to_level, 'none') = 'none'
            and coalesce(handled_by_unit_code, unit_code) = unit_code
        ) as is_resolved_locally,
        coalesce(satisfaction in ('satisfied', 'basically_satisfied', 'unsatisfied'), false) as is_rated,
        coalesce(satisfaction in ('satisfied', 'basically_satisfied'), false) as is_satisfied,
        -- grid patrols are staff-initiated; every other channel is a resident's own request
        coalesce(channel <> 'grid_patrol', false) as is_resident_initiated,
        coalesce(channel in ('mobile_app', 'online_portal'), false) as is_digital_channel,
        coalesce(
            reporter_phone_hash is not null
            and previous_reported_at is not null
            and {{ dbt.datediff('previous_reported_at', 'reported_at', 'second') }}
            <= {{ var('repeat_case_window_days') * 86400 }},
            false
        ) as is_repeat
    from sla_clock

)

select * from final
