{#
  No month outside the evaluation period: on or after the seed evaluation_period's start_month, and
  not after its end_month or, when that is blank, after the month of the latest delivery date of any
  feed (the spine's open end, int_unit_months). Fails with each month beyond it: a mistyped future
  date that reached a mart would also become the report's default period.
#}
{% test months_within_evaluation_period(model, column_name) %}

with

period as (

    select * from {{ ref('evaluation_period') }}

),

delivered as (

    select max(delivery_dates.delivery_date) as latest_delivery_date
    from (
        select delivery_date from {{ ref('stg_staff_roster__staff_posts') }}
        union all
        select delivery_date from {{ ref('stg_household_registration__snapshots') }}
        union all
        select delivery_date from {{ ref('stg_case_log__cases') }}
    ) as delivery_dates

)

select checked.{{ column_name }}
from {{ model }} as checked
cross join period
cross join delivered
where
    checked.{{ column_name }} < period.start_month
    or checked.{{ column_name }} > coalesce(
        period.end_month, {{ month_start('delivered.latest_delivery_date') }}
    )

{% endtest %}
