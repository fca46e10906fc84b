-- Finding: persons whose FTE over all active posts of one county roster snapshot is above 1.0
-- (docs/methodology.md, "One person's FTE across units"). One row per person and snapshot:
-- person_key (the pseudonymised ID number, never in clear), the units and staff_ids the roster
-- lists them under, and the total. The staffing figures count such a person at 1.0 (fte_capped of
-- stg_staff_roster__staff_posts); this model tells the county which roster rows to correct.
-- Summed here from the posts, independently of the staging model's person_total_fte.

with

staff_posts as (

    select * from {{ ref('stg_staff_roster__staff_posts') }}

),

persons as (

    select
        county_code,
        snapshot_date,
        person_key,
        count(*) as active_posts,
        count(distinct unit_code) as units,
        {{ dbt.listagg('distinct unit_code', "', '", 'order by unit_code') }} as unit_codes,
        {{ dbt.listagg('distinct staff_id', "', '", 'order by staff_id') }} as staff_ids,
        {{ exact_sum('fte') }} as total_fte,
        {{ exact_sum('fte_capped') }} as total_fte_capped
    from staff_posts
    where is_active_at_snapshot
    group by county_code, snapshot_date, person_key

),

final as (

    select * from persons
    where total_fte > 1 + 1e-9

)

select * from final
