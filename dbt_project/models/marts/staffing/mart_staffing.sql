-- Staffing per evaluated unit and month against the norms (DESIGN §5; seed staffing_norms):
--   FTE by post category, formal (civil_servant, public_institution) vs semi-formal (the rest),
--   certified share, staff per 10,000 residents and per 10,000 registered;
--   required_community_worker_fte = norm community_workers_per_10k_residents × resident_population / 10,000
--   required_grids                = ceil(households / norm households_per_grid)   (households = resident
--                                   households, else registered households)
--   required_grid_worker_fte      = required_grids × norm grid_workers_per_grid
--   required_staff_fte            = required_community_worker_fte + required_grid_worker_fte
--   norm_staffing_gap             = required_staff_fte − (community_worker_fte + grid_worker_fte)
--                                   (positive = understaffed; only the posts the norms govern count);
--   staffing_gap                  = norm_staffing_gap (the earlier name, kept as a documented alias)
-- Two questions, two answers: norm_staffing_gap compares the unit with the national/provincial norm
-- (more staff may be needed overall); planned_change_posts (int_reallocation_targets) redistributes
-- the county's OWN staff by residents, county total unchanged. Both are on every row, side by side.
--   certification: at least norm community_worker_certified_share_min of community workers certified.
-- Norms apply to village-level units (communities and villages) of a known urban/rural class; township
-- offices and unclassified units get null requirements. Unknown roster → actual staff null → gap null.

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

reallocation as (

    select * from {{ ref('int_reallocation_targets') }}

),

norms as (

    select * from {{ ref('staffing_norms') }}

),

classes as (

    select 'urban' as urban_rural_class
    union all
    select 'rural' as urban_rural_class

),

norms_by_class as (

    -- one row per class; a class-specific norm and an `all` norm never coexist (seed test)
    select
        classes.urban_rural_class,
        max(case when norms.norm_code = 'community_workers_per_10k_residents' then norms.norm_value end)
            as community_workers_per_10k_norm,
        max(case when norms.norm_code = 'community_worker_certified_share_min' then norms.norm_value end)
            as certified_share_norm,
        max(case when norms.norm_code = 'households_per_grid' then norms.norm_value end)
            as households_per_grid_norm,
        max(case when norms.norm_code = 'grid_workers_per_grid' then norms.norm_value end)
            as grid_workers_per_grid_norm
    from classes
    left join norms
        on norms.urban_rural_class in (classes.urban_rural_class, 'all')
    group by classes.urban_rural_class

),

joined as (

    select
        unit_months.unit_code,
        unit_months.month,
        unit_months.county_code,
        unit_months.township_code,
        unit_months.unit_level,
        units.urban_rural_class,
        units.peer_group,
        staffing.has_roster,
        staffing.roster_snapshot_date,
        staffing.roster_snapshot_age_days,
        staffing.roster_status,
        staffing.has_roster_snapshot_in_month,
        reallocation.target_fte as reallocation_target_fte,
        reallocation.planned_change_posts,
        staffing.civil_servant_fte,
        staffing.public_institution_fte,
        staffing.community_worker_fte,
        staffing.grid_worker_fte,
        staffing.auxiliary_fte,
        staffing.formal_fte,
        staffing.semi_formal_fte,
        staffing.total_fte,
        staffing.headcount,
        staffing.certified_headcount,
        staffing.certified_share,
        staffing.community_worker_headcount,
        staffing.certified_community_worker_headcount,
        staffing.community_worker_certified_share,
        population.resident_population,
        population.registered_population,
        coalesce(population.resident_households, population.registered_households) as households,
        case when unit_months.unit_level = 'village' then norms_by_class.community_workers_per_10k_norm end
            as community_workers_per_10k_norm,
        case when unit_months.unit_level = 'village' then norms_by_class.certified_share_norm end
            as certified_share_norm,
        case when unit_months.unit_level = 'village' then norms_by_class.households_per_grid_norm end
            as households_per_grid_norm,
        case when unit_months.unit_level = 'village' then norms_by_class.grid_workers_per_grid_norm end
            as grid_workers_per_grid_norm
    from unit_months
    left join staffing
        on
            unit_months.unit_code = staffing.unit_code
            and unit_months.month = staffing.month
    left join population
        on
            unit_months.unit_code = population.unit_code
            and unit_months.month = population.month
    left join units
        on unit_months.unit_code = units.unit_code
    left join reallocation
        on
            unit_months.unit_code = reallocation.unit_code
            and unit_months.month = reallocation.month
    left join norms_by_class
        on units.urban_rural_class = norms_by_class.urban_rural_class

),

required as (

    select
        *,
        community_workers_per_10k_norm * resident_population / 10000.0 as required_community_worker_fte,
        ceil({{ safe_divide('households', 'households_per_grid_norm') }}) as required_grids
    from joined

),

final as (

    select
        unit_code,
        month,
        county_code,
        township_code,
        unit_level,
        urban_rural_class,
        peer_group,
        has_roster,
        roster_snapshot_date,
        roster_snapshot_age_days,
        roster_status,
        has_roster as is_roster_current,
        has_roster_snapshot_in_month,
        civil_servant_fte,
        public_institution_fte,
        community_worker_fte,
        grid_worker_fte,
        auxiliary_fte,
        formal_fte,
        semi_formal_fte,
        total_fte,
        {{ safe_divide('formal_fte', 'total_fte') }} as formal_fte_share,
        headcount,
        certified_headcount,
        certified_share,
        community_worker_headcount,
        certified_community_worker_headcount,
        community_worker_certified_share,
        resident_population,
        registered_population,
        households,
        {{ safe_divide('total_fte * 10000', 'resident_population') }} as staff_per_10k_residents,
        {{ safe_divide('total_fte * 10000', 'registered_population') }} as staff_per_10k_registered,
        {{ safe_divide('community_worker_fte * 10000', 'resident_population') }}
            as community_workers_per_10k_residents,
        community_workers_per_10k_norm,
        certified_share_norm,
        households_per_grid_norm,
        {{ to_float('required_community_worker_fte') }} as required_community_worker_fte,
        cast(required_grids as {{ dbt.type_int() }}) as required_grids,
        {{ to_float('required_grids * grid_workers_per_grid_norm') }} as required_grid_worker_fte,
        {{ to_float('required_community_worker_fte + required_grids * grid_workers_per_grid_norm') }}
            as required_staff_fte,
        {{ to_float('required_community_worker_fte - community_worker_fte') }} as community_worker_gap,
        {{ to_float('required_grids * grid_workers_per_grid_norm - grid_worker_fte') }} as grid_worker_gap,
        {{ to_float(
            'required_community_worker_fte + required_grids * grid_workers_per_grid_norm'
            ~ ' - (community_worker_fte + grid_worker_fte)'
        ) }} as norm_staffing_gap,
        {{ to_float(
            'required_community_worker_fte + required_grids * grid_workers_per_grid_norm'
            ~ ' - (community_worker_fte + grid_worker_fte)'
        ) }} as staffing_gap,
        reallocation_target_fte,
        planned_change_posts,
        case
            when community_workers_per_10k_norm is null or community_worker_fte is null then null
            when resident_population is null then null
            else community_worker_fte >= required_community_worker_fte
        end as meets_community_worker_norm,
        case
            when certified_share_norm is null or certified_share_norm = 0 then null
            when community_worker_headcount is null or community_worker_headcount = 0 then null
            else community_worker_certified_share >= certified_share_norm
        end as meets_certification_norm,
        case
            when certified_share_norm > 0 and community_worker_headcount is not null
                then cast(ceil(certified_share_norm * community_worker_headcount) as {{ dbt.type_int() }})
        end as required_certified_community_workers
    from required

)

select * from final
