-- One row per county and month: the allocation-mismatch indices of mart_staffing_mismatch with the
-- counts that explain them. posts_to_reallocate = ½ Σ |reallocation_delta| = D_resident × county
-- staff: the FTE that would move under the reallocation plan.

with

unit_rows as (

    select * from {{ ref('mart_staffing_mismatch') }}

),

final as (

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
        max(county_staff_fte) as county_staff_fte,
        sum(case when not in_allocation_base then staff_fte end) as staff_fte_outside_base,
        max(county_resident_population) as county_resident_population,
        max(county_registered_population) as county_registered_population,
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
        0.5 * {{ exact_sum('abs(reallocation_delta)') }} as posts_to_reallocate,
        {{ exact_sum('reallocation_delta') }} as reallocation_delta_sum
    from unit_rows
    group by county_code, month

)

select * from final
