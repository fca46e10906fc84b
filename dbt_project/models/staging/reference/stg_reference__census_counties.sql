-- One row per census county (2020). County codes are normalised to the 12-digit form used by
-- unit_code (a 6-digit census code is right-padded with zeros); rows without a code are dropped.

with

source as (

    select * from {{ source('raw', 'ref_census_county') }}

),

renamed as (

    select
        rpad(cast(county_code as {{ dbt.type_string() }}), 12, '0') as county_code,
        cast(pop_total as {{ dbt.type_bigint() }}) as census_pop_total,
        cast(pop_urban as {{ dbt.type_bigint() }}) as census_pop_urban,
        cast(pop_rural as {{ dbt.type_bigint() }}) as census_pop_rural,
        cast(family_households as {{ dbt.type_bigint() }}) as census_family_households,
        cast(share_65plus as {{ type_double() }}) as census_share_65plus_pct
    from source
    where county_code is not null

)

select * from renamed
