-- Registered (户籍) and resident (常住) population of each unit as of each month end: the latest
-- snapshot with as_of_date on or before the month end, carried forward until a newer one arrives,
-- with its age in days. One row per spine row (unit × month); populations are null when no
-- snapshot exists yet at that month end.

with

unit_months as (

    select * from {{ ref('int_unit_months') }}

),

registration as (

    select * from {{ ref('stg_household_registration__snapshots') }}

),

residents as (

    select * from {{ ref('stg_resident_population__snapshots') }}

),

-- each snapshot is valid from its as_of_date until the unit's next snapshot (exclusive); the last
-- one is open-ended. A far-future date instead of `or next is null` keeps the join a hash join on
-- unit_code with a range filter (an OR in the condition turns it into a nested loop).
registration_validity as (

    select
        unit_code,
        as_of_date,
        coalesce(
            lead(as_of_date) over (partition by unit_code order by as_of_date),
            cast('9999-12-31' as date)
        ) as valid_until,
        registered_population,
        registered_households,
        registered_age_65_plus
    from registration

),

resident_validity as (

    select
        unit_code,
        as_of_date,
        coalesce(
            lead(as_of_date) over (partition by unit_code order by as_of_date),
            cast('9999-12-31' as date)
        ) as valid_until,
        resident_population,
        resident_households,
        floating_population_in,
        residents_age_65_plus,
        vulnerable_persons
    from residents

),

joined as (

    select
        unit_months.unit_code,
        unit_months.month,
        unit_months.month_end,
        unit_months.county_code,
        registration_validity.registered_population,
        registration_validity.registered_households,
        registration_validity.registered_age_65_plus,
        registration_validity.as_of_date as registered_as_of_date,
        resident_validity.resident_population,
        resident_validity.resident_households,
        resident_validity.floating_population_in,
        resident_validity.residents_age_65_plus,
        resident_validity.vulnerable_persons,
        resident_validity.as_of_date as resident_as_of_date
    from unit_months
    left join registration_validity
        on
            unit_months.unit_code = registration_validity.unit_code
            and unit_months.month_end >= registration_validity.as_of_date
            and unit_months.month_end < registration_validity.valid_until
    left join resident_validity
        on
            unit_months.unit_code = resident_validity.unit_code
            and unit_months.month_end >= resident_validity.as_of_date
            and unit_months.month_end < resident_validity.valid_until

),

final as (

    select
        unit_code,
        month,
        month_end,
        county_code,
        registered_population,
        registered_households,
        registered_age_65_plus,
        registered_as_of_date,
        {{ dbt.datediff('registered_as_of_date', 'month_end', 'day') }} as registered_snapshot_age_days,  -- noqa: LT05
        resident_population,
        resident_households,
        floating_population_in,
        residents_age_65_plus,
        vulnerable_persons,
        resident_as_of_date,
        {{ dbt.datediff('resident_as_of_date', 'month_end', 'day') }} as resident_snapshot_age_days,  -- noqa: LT05
        {{ safe_divide('resident_population', 'registered_population') }} as residence_ratio,
        case
            when registered_population is null or resident_population is null then null
            when {{ safe_divide('resident_population', 'registered_population') }} is null then null
            when {{ safe_divide('resident_population', 'registered_population') }}
                < {{ var('residence_ratio_out_migration_below') }} then 'out_migration'
            when {{ safe_divide('resident_population', 'registered_population') }}
                > {{ var('residence_ratio_in_migration_above') }} then 'in_migration'
            else 'balanced'
        end as migration_class
    from joined

)

select * from final
