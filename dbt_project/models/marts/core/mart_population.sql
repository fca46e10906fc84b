-- Population per evaluated unit and month (DESIGN §5): registered (户籍) and resident (常住) population as
-- of the month end (the latest snapshot at or before it, carried forward), residence_ratio, the age of
-- each snapshot, and vulnerable groups per resident and per member of staff. One carry-forward rule for
-- every snapshot feed (seed snapshot_max_age): per feed the snapshot date, its age at month end, its
-- status (current / stale_snapshot / no_snapshot) and an is_*_current flag, for the two population
-- feeds and the county's staff roster, so other marts can filter on them.

with

unit_months as (

    select * from {{ ref('int_unit_months') }}

),

population as (

    select * from {{ ref('int_population_unit_months') }}

),

staffing as (

    select * from {{ ref('int_staffing_unit_months') }}

),

units as (

    select * from {{ ref('dim_unit') }}

),

final as (

    select
        unit_months.unit_code,
        unit_months.month,
        unit_months.month_end,
        unit_months.county_code,
        unit_months.township_code,
        unit_months.unit_level,
        units.urban_rural_class,
        units.peer_group,
        population.registered_population,
        population.registered_households,
        population.registered_age_65_plus,
        population.registered_as_of_date,
        population.registered_snapshot_age_days,
        population.registration_status,
        population.is_registration_current,
        population.resident_population,
        population.resident_households,
        population.floating_population_in,
        population.residents_age_65_plus,
        population.vulnerable_persons,
        population.resident_as_of_date,
        population.resident_snapshot_age_days,
        population.resident_status,
        population.is_resident_current,
        staffing.roster_snapshot_date,
        staffing.roster_snapshot_age_days,
        staffing.roster_status,
        staffing.has_roster as is_roster_current,
        population.residence_ratio,
        population.migration_class,
        {{ safe_divide('population.residents_age_65_plus', 'population.resident_population') }}
            as residents_65_plus_share,
        {{ safe_divide('population.vulnerable_persons * 10000', 'population.resident_population') }}
            as vulnerable_per_10k_residents,
        staffing.total_fte as staff_fte,
        {{ safe_divide('population.vulnerable_persons', 'staffing.total_fte') }} as vulnerable_per_staff_fte,
        {{ safe_divide('population.residents_age_65_plus', 'staffing.total_fte') }}
            as residents_65_plus_per_staff_fte
    from unit_months
    left join population
        on
            unit_months.unit_code = population.unit_code
            and unit_months.month = population.month
    left join staffing
        on
            unit_months.unit_code = staffing.unit_code
            and unit_months.month = staffing.month
    left join units
        on unit_months.unit_code = units.unit_code

)

select * from final
