-- Staff follow paper, not people (DESIGN §5, allocation mismatch): one row per evaluated unit and
-- month, with the county-month indices repeated on every unit row.
--
-- Allocation base: a unit takes part in the shares, the dissimilarity indices and the reallocation
-- plan when it is village-level (village or community), both its registered and resident population
-- are known at month end, and its county delivered a roster for the month. Township-level offices
-- (staff but no population of their own) and units without population data are reported with their
-- staff but null shares, fair share and delta; their staff are not counted in county_staff_fte.
-- Both indices use the same base, so D_resident and D_registered are comparable.
--   staff_share_i      = staff_fte_i / Σ_base staff_fte          (null if the county has 0 staff)
--   resident_share_i   = resident_i  / Σ_base resident           (null if the county has 0 residents)
--   registered_share_i = registered_i / Σ_base registered
--   D_resident   = ½ Σ_base |staff_share_i − resident_share_i|
--   D_registered = ½ Σ_base |staff_share_i − registered_share_i|
--   allocated_by_registration = D_registered < D_resident (null when either index is null)
--   fair_share_staff_i   = county_staff_fte × resident_share_i
--   reallocation_delta_i = fair_share_staff_i − staff_fte_i  (sums to 0 over the county's base)
-- Coverage rule: allocation_base_coverage = Σ_base residents / the county's estimated residents, where
-- the estimate is the residents of its villages with a known figure at month end plus, for each village
-- without one, the median figure of those with one (basis 'villages_known_plus_median_imputed'). The
-- 2020 census is published beside it (census_resident_population) but is not the denominator: resident
-- populations have moved since 2020, by the very migration this mart measures, so a complete county
-- that lost people would fail a census-based rule. d_null_reason, first that applies:
--   'no_roster' / 'stale_roster'  the county's staff are unknown (roster_status no/stale_snapshot);
--   'no_population'               no unit has both populations (empty base);
--   'no_staff'                    the base has 0 staff (staff shares undefined);
--   'low_coverage'                coverage < min_allocation_base_coverage (seed allocation_rules, 0.8).
-- When d_null_reason is set, d_resident, d_registered, allocated_by_registration, fair_share_staff and
-- reallocation_delta are null (and the county gets no reallocation plan); the shares stay published.

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

census as (

    select * from {{ ref('stg_reference__census_counties') }}

),

rules as (

    select max(rule_value) as min_allocation_base_coverage
    from {{ ref('allocation_rules') }}
    where rule_code = 'min_allocation_base_coverage'

),

joined as (

    select
        unit_months.unit_code,
        unit_months.month,
        unit_months.county_code,
        unit_months.township_code,
        unit_months.unit_level,
        population.resident_population,
        population.registered_population,
        population.residence_ratio,
        population.resident_snapshot_age_days,
        population.registered_snapshot_age_days,
        staffing.has_roster,
        staffing.roster_status,
        staffing.roster_snapshot_date,
        staffing.roster_snapshot_age_days,
        staffing.total_fte as staff_fte,
        staffing.formal_fte,
        staffing.semi_formal_fte,
        coalesce(
            unit_months.unit_level = 'village'
            and population.resident_population is not null
            and population.registered_population is not null
            and staffing.total_fte is not null,
            false
        ) as in_allocation_base
    from unit_months
    left join population
        on
            unit_months.unit_code = population.unit_code
            and unit_months.month = population.month
    left join staffing
        on
            unit_months.unit_code = staffing.unit_code
            and unit_months.month = staffing.month

),

county_totals as (

    select
        *,
        sum(case when in_allocation_base then staff_fte end)
            over (partition by county_code, month) as county_staff_fte,
        sum(case when in_allocation_base then resident_population end)
            over (partition by county_code, month) as county_resident_population,
        sum(case when in_allocation_base then registered_population end)
            over (partition by county_code, month) as county_registered_population,
        sum(case when in_allocation_base then 1 else 0 end)
            over (partition by county_code, month) as county_units_in_base
    from joined

),

-- the county's villages with and without a resident figure at month end, and the median figure
village_residents as (

    select
        county_code,
        month,
        sum(coalesce(resident_population, 0)) as known_village_residents,
        sum(case when resident_population is null then 1 else 0 end) as villages_without_residents,
        {{ percentile_cont('resident_population', 0.5) }} as median_village_residents
    from joined
    where unit_level = 'village'
    group by county_code, month

),

coverage as (

    select
        county_totals.*,
        census.census_pop_total as census_resident_population,
        rules.min_allocation_base_coverage,
        'villages_known_plus_median_imputed' as allocation_base_coverage_basis,
        {{ safe_divide(
            'coalesce(county_totals.county_resident_population, 0) * 1.0',
            'village_residents.known_village_residents'
            ~ ' + village_residents.villages_without_residents * village_residents.median_village_residents'
        ) }} as allocation_base_coverage
    from county_totals
    cross join rules
    left join census
        on county_totals.county_code = census.county_code
    left join village_residents
        on
            county_totals.county_code = village_residents.county_code
            and county_totals.month = village_residents.month

),

reasons as (

    select
        *,
        case
            when roster_status = 'stale_snapshot' then 'stale_roster'
            when roster_status is null or roster_status <> 'current' then 'no_roster'
            when county_resident_population is null then 'no_population'
            when county_staff_fte = 0 then 'no_staff'
            when allocation_base_coverage is null
                or allocation_base_coverage < min_allocation_base_coverage then 'low_coverage'
        end as d_null_reason
    from coverage

),

shares as (

    select
        *,
        case
            when in_allocation_base then {{ safe_divide('staff_fte', 'county_staff_fte') }}
        end as staff_share,
        case
            when in_allocation_base then {{ safe_divide('resident_population', 'county_resident_population') }}
        end as resident_share,
        case
            when in_allocation_base
                then {{ safe_divide('registered_population', 'county_registered_population') }}
        end as registered_share
    from reasons

),

indices as (

    select
        *,
        case when d_null_reason is null then county_staff_fte * resident_share end as fair_share_staff,
        -- exact (order-independent) sums: a rebuild gives the same bits (DESIGN §7)
        case when d_null_reason is null then 0.5 end * cast(
            sum(cast(abs(staff_share - resident_share) as decimal(38, 18)))
                over (partition by county_code, month)
            as {{ type_double() }}
        ) as d_resident,
        case when d_null_reason is null then 0.5 end * cast(
            sum(cast(abs(staff_share - registered_share) as decimal(38, 18)))
                over (partition by county_code, month)
            as {{ type_double() }}
        ) as d_registered
    from shares

),

final as (

    select
        unit_code,
        month,
        county_code,
        township_code,
        unit_level,
        resident_population,
        registered_population,
        residence_ratio,
        resident_snapshot_age_days,
        registered_snapshot_age_days,
        has_roster,
        roster_status,
        roster_snapshot_date,
        roster_snapshot_age_days,
        staff_fte,
        formal_fte,
        semi_formal_fte,
        {{ safe_divide('staff_fte * 10000', 'resident_population') }} as staff_per_10k_residents,
        {{ safe_divide('staff_fte * 10000', 'registered_population') }} as staff_per_10k_registered,
        in_allocation_base,
        county_staff_fte,
        county_resident_population,
        county_registered_population,
        census_resident_population,
        allocation_base_coverage_basis,
        {{ to_float('allocation_base_coverage') }} as allocation_base_coverage,
        min_allocation_base_coverage,
        d_null_reason,
        staff_share,
        resident_share,
        registered_share,
        fair_share_staff,
        fair_share_staff - staff_fte as reallocation_delta,
        d_resident,
        d_registered,
        case
            when d_resident is null or d_registered is null then null
            else d_registered < d_resident
        end as allocated_by_registration
    from indices

)

select * from final
