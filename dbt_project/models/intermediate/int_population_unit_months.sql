-- Registered (户籍) and resident (常住) population of each unit as of each month end: the latest
-- snapshot with as_of_date on or before the month end, carried forward until a newer one arrives,
-- with its age in days. One row per spine row (unit × month). The same rule as the staff roster
-- (int_staffing_unit_months): a snapshot older than its feed's max_age_days (seed snapshot_max_age:
-- registration 62, resident population 400) at month end counts as missing. Status per feed:
--   'current'        snapshot found and age ≤ max age: figures published;
--   'stale_snapshot' snapshot found but older than max age: figures null (date and age kept);
--   'no_snapshot'    no snapshot at or before the month end: figures null.

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

max_age as (

    select
        max(case when feed = 'household_registration' then max_age_days end) as registration_max_age_days,
        max(case when feed = 'resident_population' then max_age_days end) as resident_max_age_days
    from {{ ref('snapshot_max_age') }}

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
        resident_validity.as_of_date as resident_as_of_date,
        {{ dbt.datediff('registration_validity.as_of_date', 'unit_months.month_end', 'day') }}
            as registered_snapshot_age_days,
        {{ dbt.datediff('resident_validity.as_of_date', 'unit_months.month_end', 'day') }}
            as resident_snapshot_age_days,
        max_age.registration_max_age_days,
        max_age.resident_max_age_days
    from unit_months
    cross join max_age
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

statused as (

    select
        *,
        case
            when registered_as_of_date is null then 'no_snapshot'
            when registered_snapshot_age_days > registration_max_age_days then 'stale_snapshot'
            else 'current'
        end as registration_status,
        case
            when resident_as_of_date is null then 'no_snapshot'
            when resident_snapshot_age_days > resident_max_age_days then 'stale_snapshot'
            else 'current'
        end as resident_status
    from joined

),

current_figures as (

    -- a stale snapshot counts as missing: its figures are null (its date and age stay visible)
    select
        unit_code,
        month,
        month_end,
        county_code,
        case when registration_status = 'current' then registered_population end as registered_population,
        case when registration_status = 'current' then registered_households end as registered_households,
        case when registration_status = 'current' then registered_age_65_plus end as registered_age_65_plus,
        registered_as_of_date,
        registered_snapshot_age_days,
        registration_status,
        registration_status = 'current' as is_registration_current,
        case when resident_status = 'current' then resident_population end as resident_population,
        case when resident_status = 'current' then resident_households end as resident_households,
        case when resident_status = 'current' then floating_population_in end as floating_population_in,
        case when resident_status = 'current' then residents_age_65_plus end as residents_age_65_plus,
        case when resident_status = 'current' then vulnerable_persons end as vulnerable_persons,
        resident_as_of_date,
        resident_snapshot_age_days,
        resident_status,
        resident_status = 'current' as is_resident_current
    from statused

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
        registered_snapshot_age_days,
        registration_status,
        is_registration_current,
        resident_population,
        resident_households,
        floating_population_in,
        residents_age_65_plus,
        vulnerable_persons,
        resident_as_of_date,
        resident_snapshot_age_days,
        resident_status,
        is_resident_current,
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
    from current_figures

)

select * from final
