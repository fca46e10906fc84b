-- One row per person and post in the effective roster snapshot of a county and snapshot_date.
-- Restatements: the latest delivery per key wins (delivery_date, then loaded_at, then source_row);
-- with var staff_roster_restatement_replaces_snapshot (default true) a county's latest delivery for a
-- snapshot_date also replaces that whole snapshot, so rows a restatement dropped are dropped here.
--
-- A table, not a view: the restatement windows run over every roster row delivered (4.9 M a month
-- nationally); as a view they were re-run by each of its ~15 data tests and by both models reading
-- it (60-85 s each at national scale, bench/README.md). Rebuilt whole each run.
--
-- One person across units (docs/methodology.md, "One person's FTE across units"): a person is
-- person_key = id_number_hash (the pseudonymised ID number; staff_id when it is missing), and their
-- FTE over all active posts of one county snapshot (county_code, snapshot_date) is person_total_fte.
-- Above 1.0 the roster is wrong (one person cannot work more than full time); each of the person's
-- active posts then counts fte_capped = fte / person_total_fte, so the person sums to exactly 1.0
-- and keeps the split between units the roster gives. Otherwise fte_capped = fte. Staffing figures
-- sum fte_capped; int_staff_fte_over_one lists the persons (a warning test, not a failed build).
{{ config(materialized='table') }}
{%- set replaces_snapshot = var('staff_roster_restatement_replaces_snapshot', true) %}

with

source as (

    select * from {{ source('raw', 'staff_roster') }}

),

renamed as (

    select
        cast(staff_id as {{ dbt.type_string() }}) as staff_id,
        cast(id_number_hash as {{ dbt.type_string() }}) as id_number_hash,
        cast(phone_hash as {{ dbt.type_string() }}) as phone_hash,
        cast(unit_code as {{ dbt.type_string() }}) as unit_code,
        {{ parent_unit_code('unit_code', 'county') }} as county_code,
        lower(cast(post_category as {{ dbt.type_string() }})) as post_category,
        cast(fte as {{ type_double() }}) as fte,
        cast(hire_date as date) as hire_date,
        cast(exit_date as date) as exit_date,
        cast(education as {{ dbt.type_string() }}) as education,
        lower(cast(social_work_cert as {{ dbt.type_string() }})) as social_work_cert,
        cast(snapshot_date as date) as snapshot_date,
        cast(delivery_date as date) as delivery_date,
        cast(load_id as {{ dbt.type_string() }}) as load_id,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(source_row as {{ dbt.type_bigint() }}) as source_row,
        cast(file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from source

),

latest_delivery_per_snapshot as (

    -- the newest delivery_date of each county's snapshot: older deliveries of it are superseded
    select
        county_code,
        snapshot_date,
        max(delivery_date) as latest_delivery_date
    from renamed
    group by county_code, snapshot_date

),

current_deliveries as (

    select renamed.*
    from renamed
    inner join latest_delivery_per_snapshot as latest
        on
            renamed.county_code = latest.county_code
            and renamed.snapshot_date = latest.snapshot_date
            and {{ 'renamed.delivery_date = latest.latest_delivery_date' if replaces_snapshot else 'true' }}

),

latest_per_key as (

    {{ latest_per_key(
        'current_deliveries',
        ['staff_id', 'unit_code', 'post_category', 'snapshot_date'],
        ['delivery_date desc', 'loaded_at desc', 'source_row desc']
    ) }}

),

posts as (

    select
        *,
        coalesce(id_number_hash, 'staff_id:' || staff_id) as person_key,
        -- in post on the snapshot date: hired by then and not yet left
        (
            (hire_date is null or hire_date <= snapshot_date)
            and (exit_date is null or exit_date > snapshot_date)
        ) as is_active_at_snapshot
    from latest_per_key

),

person_totals as (

    select
        *,
        -- exact (order-independent) sum: a rebuild gives the same bits
        cast(
            sum(cast(case when is_active_at_snapshot then fte else 0 end as decimal(38, 18)))
                over (partition by county_code, snapshot_date, person_key)
            as {{ type_double() }}
        ) as person_total_fte
    from posts

),

final as (

    select
        staff_id,
        id_number_hash,
        phone_hash,
        unit_code,
        county_code,
        post_category,
        post_category in {{ sql_in_list(['civil_servant', 'public_institution']) }} as is_formal_post,
        fte,
        person_key,
        person_total_fte,
        case
            when is_active_at_snapshot and person_total_fte > 1 + 1e-9 then fte / person_total_fte
            else fte
        end as fte_capped,
        hire_date,
        exit_date,
        education,
        social_work_cert,
        coalesce(social_work_cert, 'none') <> 'none' as is_certified,
        is_active_at_snapshot,
        snapshot_date,
        delivery_date,
        load_id,
        source_file,
        source_row,
        file_sha256,
        loaded_at
    from person_totals

)

select * from final
