-- One row per statistical division (province … village) with its ancestors' codes and names, its
-- urban/rural class and its peer group. is_evaluated marks the units on the evaluation spine
-- (int_unit_months).
-- Peer group (因地制宜) = urban_rural_class × population band (seed peer_group_bands), banded by the
-- unit's latest known resident population (registered when no resident figure exists): a unit keeps
-- one peer group over time, so month-on-month ranks compare like with like.

with

divisions as (

    select * from {{ ref('stg_reference__divisions') }}

),

evaluated as (

    select distinct unit_code from {{ ref('int_unit_months') }}

),

bands as (

    select * from {{ ref('peer_group_bands') }}

),

latest_resident as (

    {{ latest_per_key(
        ref('stg_resident_population__snapshots'), ['unit_code'], ['as_of_date desc']
    ) }}

),

latest_registered as (

    {{ latest_per_key(
        ref('stg_household_registration__snapshots'), ['unit_code'], ['as_of_date desc']
    ) }}

),

classified as (

    select
        divisions.unit_code,
        divisions.unit_name,
        divisions.unit_level,
        divisions.parent_code,
        -- ancestors only: a county's derived township code is its own code, and so on
        case when divisions.unit_level in ('township', 'village') then divisions.township_code end
            as township_code,
        case when divisions.unit_level in ('township', 'village') then townships.unit_name end
            as township_name,
        case when divisions.unit_level in ('county', 'township', 'village') then divisions.county_code end
            as county_code,
        case when divisions.unit_level in ('county', 'township', 'village') then counties.unit_name end
            as county_name,
        case when divisions.unit_level <> 'province' then divisions.city_code end as city_code,
        case when divisions.unit_level <> 'province' then cities.unit_name end as city_name,
        divisions.province_code,
        provinces.unit_name as province_name,
        divisions.urban_rural,
        -- delivered class first; otherwise from the name: 社区/居委会 and 街道 are urban,
        -- 村/嘎查 and 镇/乡/苏木 rural (DESIGN §4)
        coalesce(
            divisions.urban_rural,
            case
                when divisions.unit_level = 'village' and (
                        divisions.unit_name like '%社区' or divisions.unit_name like '%居委会'
                        or divisions.unit_name like '%社区居民委员会'
                    ) then 'urban'
                when divisions.unit_level = 'village' and (
                        divisions.unit_name like '%村' or divisions.unit_name like '%村委会'
                        or divisions.unit_name like '%村民委员会' or divisions.unit_name like '%嘎查'
                    ) then 'rural'
                when divisions.unit_level = 'township' and divisions.unit_name like '%街道%' then 'urban'
                when divisions.unit_level = 'township' and (
                        divisions.unit_name like '%镇' or divisions.unit_name like '%乡'
                        or divisions.unit_name like '%苏木'
                    ) then 'rural'
            end
        ) as urban_rural_class,
        evaluated.unit_code is not null as is_evaluated,
        coalesce(latest_resident.resident_population, latest_registered.registered_population)
            as peer_group_population
    from divisions
    left join divisions as townships
        on divisions.township_code = townships.unit_code
    left join divisions as counties
        on divisions.county_code = counties.unit_code
    left join divisions as cities
        on divisions.city_code = cities.unit_code
    left join divisions as provinces
        on divisions.province_code = provinces.unit_code
    left join evaluated
        on divisions.unit_code = evaluated.unit_code
    left join latest_resident
        on divisions.unit_code = latest_resident.unit_code
    left join latest_registered
        on divisions.unit_code = latest_registered.unit_code

),

final as (

    select
        classified.*,
        bands.band_code as population_band,
        case
            when classified.unit_level in ('township', 'village')
                then
                    {{ dbt.concat([
                        "coalesce(classified.urban_rural_class, 'unclassified')",
                        "'_'",
                        "coalesce(bands.band_code, 'unknown')",
                    ]) }}
        end as peer_group
    from classified
    left join bands
        on
            classified.unit_level = bands.unit_level
            and coalesce(classified.urban_rural_class, 'unclassified') = bands.urban_rural_class
            and (bands.min_population is null or classified.peer_group_population >= bands.min_population)
            and (bands.max_population is null or classified.peer_group_population < bands.max_population)
            -- a bounded band needs a known population
            and (
                classified.peer_group_population is not null
                or (bands.min_population is null and bands.max_population is null)
            )

)

select * from final
