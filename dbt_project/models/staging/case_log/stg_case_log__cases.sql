-- One row per case: its current version, with the number of versions delivered so far and the
-- newest loaded_at among them.
--
-- The current version is the first by a total order that depends on the delivered content only,
-- never on when or in which order files were loaded (docs/methodology.md, "Case versions"):
--   1. updated_at, latest first (a version without updated_at comes last);
--   2. status precedence at an equal updated_at: closed > cancelled > in_progress > open > any other;
--   3. delivery_date, latest first;
--   4. source_file, then source_row, greatest first.
-- (source_file, source_row) is unique in raw (one live load per path, grassroots.ingest), so the
-- order is total: every load order, incremental or full refresh, keeps the same version. source_file
-- compares by code point on both engines (PostgreSQL: collate "C"; DuckDB's default), so a file name
-- orders the same whatever the database's locale.
--
-- Incremental table, not a view (dbt's structure guide keeps staging as views, but allows a table
-- where a staging model does heavy work): deduplicating every version of every case is a window over
-- the whole of raw.case_log (47 M rows nationally), which a view would redo for each of its data
-- tests and for each model reading it (fct_cases, int_unit_months). An incremental run recomputes
-- only the cases with a raw version loaded at or after the newest loaded_at already processed
-- (max last_loaded_at in this table), from all the versions of those cases (a semi-join of raw on
-- their case_id), and delete+insert on case_id replaces their rows. `>=` so a batch loaded at the
-- same instant as the last one processed is never skipped; re-processing a case recomputes it from
-- all its versions, so it is idempotent. version_count and last_loaded_at are therefore exact for a
-- case whose new version arrives later, and an incremental run equals a full refresh (tested in
-- tests/dbt_project). Raw rows deleted without a replacement (a re-delivered file that drops a case)
-- are only seen by a --full-refresh.
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

with

source as (

    select * from {{ source('raw', 'case_log') }}
    {% if is_incremental() %}
        -- every version of the cases with a version loaded since the last run
        where case_id in (
            select changed.case_id
            from {{ source('raw', 'case_log') }} as changed
            where
                changed.loaded_at >= (
                    select coalesce(max(processed.last_loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
                    from {{ this }} as processed
                )
        )
    {% endif %}

),

renamed as (

    select
        cast(case_id as {{ dbt.type_string() }}) as case_id,
        cast(unit_code as {{ dbt.type_string() }}) as unit_code,
        {{ parent_unit_code('unit_code', 'county') }} as county_code,
        lower(cast(channel as {{ dbt.type_string() }})) as channel,
        lower(cast(category as {{ dbt.type_string() }})) as category,
        cast(reported_at as {{ dbt.type_timestamp() }}) as reported_at,
        cast(assigned_at as {{ dbt.type_timestamp() }}) as assigned_at,
        cast(first_response_at as {{ dbt.type_timestamp() }}) as first_response_at,
        cast(closed_at as {{ dbt.type_timestamp() }}) as closed_at,
        lower(cast(status as {{ dbt.type_string() }})) as status,
        lower(cast(escalated_to_level as {{ dbt.type_string() }})) as escalated_to_level,
        cast(handled_by_unit_code as {{ dbt.type_string() }}) as handled_by_unit_code,
        lower(cast(satisfaction as {{ dbt.type_string() }})) as satisfaction,
        cast(reporter_phone_hash as {{ dbt.type_string() }}) as reporter_phone_hash,
        cast(description_length as {{ dbt.type_int() }}) as description_length,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        cast(delivery_date as date) as delivery_date,
        cast(load_id as {{ dbt.type_string() }}) as load_id,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(source_row as {{ dbt.type_bigint() }}) as source_row,
        cast(file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from source

),

versions_counted as (

    select
        *,
        count(*) over (partition by case_id) as version_count,
        max(loaded_at) over (partition by case_id) as last_loaded_at,
        -- a case's status only moves forward (open → in_progress → closed or cancelled), so at one
        -- updated_at the version further along is the later one; closed outranks cancelled, because
        -- a closure records handling that happened (closed_at, satisfaction), which a cancel
        -- stamped in the same second cannot undo
        case status
            when 'closed' then 4
            when 'cancelled' then 3
            when 'in_progress' then 2
            when 'open' then 1
            else 0
        end as status_precedence
    from renamed

),

latest_version as (

    {{ latest_per_key(
        'versions_counted',
        ['case_id'],
        [
            'updated_at desc nulls last',
            'status_precedence desc',
            'delivery_date desc',
            ('source_file collate "C" desc' if target.type == 'postgres' else 'source_file desc'),
            'source_row desc',
        ]
    ) }}

),

final as (

    select
        case_id,
        unit_code,
        county_code,
        channel,
        category,
        reported_at,
        {{ month_start('reported_at') }} as reported_month,
        assigned_at,
        first_response_at,
        closed_at,
        status,
        escalated_to_level,
        handled_by_unit_code,
        satisfaction,
        reporter_phone_hash,
        description_length,
        updated_at,
        version_count,
        last_loaded_at,
        delivery_date,
        load_id,
        source_file,
        source_row,
        file_sha256,
        loaded_at
    from latest_version

)

select * from final
