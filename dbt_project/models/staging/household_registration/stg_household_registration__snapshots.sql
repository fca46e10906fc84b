-- One row per unit and as_of_date: the latest delivery of each snapshot wins (restatements).

with

source as (

    select * from {{ source('raw', 'household_registration') }}

),

renamed as (

    select
        cast(unit_code as {{ dbt.type_string() }}) as unit_code,
        {{ parent_unit_code('unit_code', 'county') }} as county_code,
        cast(as_of_date as date) as as_of_date,
        cast(registered_population as {{ dbt.type_bigint() }}) as registered_population,
        cast(registered_households as {{ dbt.type_bigint() }}) as registered_households,
        cast(registered_age_65_plus as {{ dbt.type_bigint() }}) as registered_age_65_plus,
        cast(delivery_date as date) as delivery_date,
        cast(load_id as {{ dbt.type_string() }}) as load_id,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(source_row as {{ dbt.type_bigint() }}) as source_row,
        cast(file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from source

),

latest_per_key as (

    {{ latest_per_key(
        'renamed',
        ['unit_code', 'as_of_date'],
        ['delivery_date desc', 'loaded_at desc', 'source_row desc']
    ) }}

),

final as (

    select
        unit_code,
        county_code,
        as_of_date,
        registered_population,
        registered_households,
        registered_age_65_plus,
        delivery_date,
        load_id,
        source_file,
        source_row,
        file_sha256,
        loaded_at
    from latest_per_key

)

select * from final
