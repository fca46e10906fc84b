-- Workload and responsiveness per county, month and case category: the definitions of
-- mart_workload_county (macros/workload.sql) over the county's cases of one category, so the SLA rates
-- compare categories with different SLAs (seed case_categories) on their own clocks. Dense: every
-- category of the seed for every county-month on the spine (0 cases → counts 0, rates and hours null),
-- plus any other category that has cases (not in the seed, or missing: null category), so the categories
-- of a county-month sum to mart_workload_county (tested). No staff measures: staff are not per category.

with

county_months as (

    select distinct
        county_code,
        month
    from {{ ref('int_unit_months') }}

),

categories as (

    select * from {{ ref('case_categories') }}

),

cases as (

    select * from {{ ref('fct_cases') }}

),

received as (

    select
        county_code,
        reported_month as month,
        category,
        {{ case_counts() }}
    from cases
    group by county_code, reported_month, category

),

category_months as (

    select
        county_months.county_code,
        county_months.month,
        categories.category
    from county_months
    cross join categories
    union
    select
        received.county_code,
        received.month,
        received.category
    from received
    inner join county_months
        on
            received.county_code = county_months.county_code
            and received.month = county_months.month

),

joined as (

    select
        category_months.county_code,
        category_months.month,
        category_months.category,
        categories.label_zh as category_label_zh,
        categories.label_en as category_label_en,
        {{ column_list(case_count_names(), 'received', coalesce_to=0) }},
        {{ column_list(case_hours_names(), 'received') }}
    from category_months
    left join categories
        on category_months.category = categories.category
    left join received
        on
            category_months.county_code = received.county_code
            and category_months.month = received.month
            and (
                category_months.category = received.category
                or (category_months.category is null and received.category is null)
            )

),

final as (

    select
        county_code,
        month,
        category,
        category_label_zh,
        category_label_en,
        {{ column_list(case_count_names()) }},
        {{ column_list(case_hours_names(), to_double=true) }},
        {{ case_rates() }}
    from joined

)

select * from final
