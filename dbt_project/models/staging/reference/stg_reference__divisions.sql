-- One row per division code (province … village). Ancestor codes are derived from the unit_code prefix
-- (12-digit, zero-padded) so they join regardless of how the reference table pads its own columns.
-- The 2023 source repeats three codes at two levels (东莞, 中山 and 儋州 appear again as their own
-- county): the shallowest level is kept, so unit_code is unique.

with

source as (

    select * from {{ source('raw', 'ref_divisions') }}

),

renamed as (

    select
        cast(unit_code as {{ dbt.type_string() }}) as unit_code,
        cast(name as {{ dbt.type_string() }}) as unit_name,
        lower(cast(level as {{ dbt.type_string() }})) as unit_level,
        cast(parent_code as {{ dbt.type_string() }}) as parent_code,
        {{ parent_unit_code('unit_code', 'province') }} as province_code,
        {{ parent_unit_code('unit_code', 'city') }} as city_code,
        {{ parent_unit_code('unit_code', 'county') }} as county_code,
        {{ parent_unit_code('unit_code', 'township') }} as township_code,
        lower(cast(urban_rural as {{ dbt.type_string() }})) as urban_rural
    from source

),

ranked as (

    select
        *,
        row_number() over (
            partition by unit_code
            order by
                case unit_level
                    when 'province' then 1
                    when 'city' then 2
                    when 'county' then 3
                    when 'township' then 4
                    else 5
                end
        ) as level_rank
    from renamed

)

select
    unit_code,
    unit_name,
    unit_level,
    parent_code,
    province_code,
    city_code,
    county_code,
    township_code,
    urban_rural
from ranked
where level_rank = 1
