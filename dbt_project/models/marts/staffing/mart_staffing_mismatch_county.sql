-- One row per county and month: the allocation-mismatch indices of mart_staffing_mismatch with the
-- counts that explain them, the coverage rule and the size of the reallocation plan:
--   fte_misallocated    = ½ Σ_base |reallocation_delta| = d_resident × county_staff_fte: the exact,
--                         fractional FTE in the wrong place (null when d_null_reason is set);
--   posts_to_reallocate = Σ planned_change_posts > 0 of int_reallocation_targets = Σ fte of the
--                         county-month's moves in mart_reallocation_plan (whole posts, floors kept;
--                         0 when nothing moves; null when d_null_reason is set). A data test asserts
--                         it equals the plan.

with

unit_rows as (

    select * from {{ ref('mart_staffing_mismatch') }}

),

targets as (

    select * from {{ ref('int_reallocation_targets') }}

),

planned as (

    select
        county_code,
        month,
        sum(case when planned_change_posts > 0 then planned_change_posts else 0 end) as posts_planned,
        sum(planned_change_posts) as planned_change_sum
    from targets
    group by county_code, month

),

aggregated as (

    select
        county_code,
        month,
        count(*) as units_evaluated,
        sum(case when in_allocation_base then 1 else 0 end) as units_in_allocation_base,
        sum(
            case when unit_level = 'village' and (resident_population is null or registered_population is null)
                    then 1
                else 0
            end
        ) as villages_missing_population,
        sum(case when has_roster then 1 else 0 end) > 0 as has_roster,
        max(roster_snapshot_date) as roster_snapshot_date,
        max(roster_snapshot_age_days) as roster_snapshot_age_days,
        max(roster_status) as roster_status,
        max(county_staff_fte) as county_staff_fte,
        sum(case when not in_allocation_base then staff_fte end) as staff_fte_outside_base,
        max(county_resident_population) as county_resident_population,
        max(county_registered_population) as county_registered_population,
        max(census_resident_population) as census_resident_population,
        max(allocation_base_coverage_basis) as allocation_base_coverage_basis,
        max(allocation_base_coverage) as allocation_base_coverage,
        max(min_allocation_base_coverage) as min_allocation_base_coverage,
        max(d_null_reason) as d_null_reason,
        {{ safe_divide('max(county_resident_population)', 'max(county_registered_population)') }}
            as county_residence_ratio,
        {{ safe_divide('max(county_staff_fte) * 10000', 'max(county_resident_population)') }}
            as staff_per_10k_residents,
        {{ safe_divide('max(county_staff_fte) * 10000', 'max(county_registered_population)') }}
            as staff_per_10k_registered,
        max(d_resident) as d_resident,
        max(d_registered) as d_registered,
        max(d_resident) - max(d_registered) as d_gap,
        case
            when max(d_resident) is null or max(d_registered) is null then null
            else max(d_registered) < max(d_resident)
        end as allocated_by_registration,
        0.5 * {{ exact_sum('abs(reallocation_delta)') }} as fte_misallocated,
        {{ exact_sum('reallocation_delta') }} as reallocation_delta_sum
    from unit_rows
    group by county_code, month

),

final as (

    select
        aggregated.*,
        case
            when aggregated.d_null_reason is null
                then cast(coalesce(planned.posts_planned, 0) as {{ dbt.type_int() }})
        end as posts_to_reallocate,
        planned.planned_change_sum
    from aggregated
    left join planned
        on
            aggregated.county_code = planned.county_code
            and aggregated.month = planned.month

)

select * from final
