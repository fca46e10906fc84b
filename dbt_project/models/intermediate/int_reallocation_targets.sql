-- Target staffing of every unit in its county's allocation base (see mart_staffing_mismatch) under the
-- reallocation plan: staff follow residents, the county total is unchanged, and no unit falls below
-- the floor (seed staffing_norms, norm min_fte_per_unit: 1 FTE per village or community by default).
--
--   target_i = max(floor_i, λ × resident_i), with λ chosen so that Σ target_i = county staff T.
--
-- This is "max(floor, fair share), rescaled to keep the total" done exactly (rescaling max(floor, fair)
-- by a single factor would push floored units below the floor). Computed in one pass (water-filling):
-- order units by resident_i / floor_i; flooring the first k units leaves
-- λ_k = (T − Σ_{j≤k} floor_j) / (R − Σ_{j≤k} resident_j) for the rest; k is the smallest count for which
-- the (k+1)-th unit is not below its floor at λ_k, i.e. (T − Σ_{j≤k} floor_j) × resident_{k+1}
-- ≥ floor_{k+1} × (R − Σ_{j≤k} resident_j). When the county has fewer staff than the floors need
-- (T < Σ floor), the floor cannot be kept: target = fair share (floor_feasible = false).
-- target_delta_i = target_i − staff_i sums to zero over the county (tested).
-- Only county-months whose indices are published (mart_staffing_mismatch.d_null_reason null: staff
-- known, coverage reached) are planned.
--
-- Whole posts (the plan a county can carry out). target_fte is exact but fractional; the plan moves
-- integers:
--   donors (target_delta < 0) give donor_posts_i = floor(surplus_i), surplus_i = staff_i − target_i:
--     a donor keeps staff_i − floor(surplus_i) ≥ target_i ≥ its floor, so no unit drops below its floor
--     and a unit below its floor is never a donor;
--   M = Σ donor_posts_i posts are handed out to the receivers (target_delta > 0) by the largest-
--     remainder (Hamilton) method on their needs: quota_i = M × need_i / Σ need, each gets
--     floor(quota_i), and the M − Σ floor(quota) posts left go one each to the largest remainders
--     quota_i − floor(quota_i) (ties by unit_code);
--   planned_change_posts_i = −donor_posts_i, +received_i, or 0: integers summing to 0 per county-month
--     (county total kept); planned_fte_i = staff_i + planned_change_posts_i.
-- Comparisons carry a 1e-9 tolerance so that 2.9999999999 FTE of float noise counts as 3.

with

mismatch as (

    select * from {{ ref('mart_staffing_mismatch') }}

),

units as (

    select * from {{ ref('dim_unit') }}

),

norms as (

    select * from {{ ref('staffing_norms') }}

),

classes as (

    select 'urban' as urban_rural_class
    union all
    select 'rural' as urban_rural_class
    union all
    select 'unclassified' as urban_rural_class

),

floors as (

    select
        classes.urban_rural_class,
        max(norms.norm_value) as floor_fte
    from classes
    left join norms
        on
            norms.norm_code = 'min_fte_per_unit'
            and norms.urban_rural_class in (classes.urban_rural_class, 'all')
    group by classes.urban_rural_class

),

base as (

    select
        mismatch.unit_code,
        mismatch.month,
        mismatch.county_code,
        mismatch.staff_fte,
        mismatch.resident_population,
        mismatch.fair_share_staff,
        mismatch.county_staff_fte,
        mismatch.county_resident_population,
        coalesce(floors.floor_fte, 0) as floor_fte
    from mismatch
    left join units
        on mismatch.unit_code = units.unit_code
    left join floors
        on coalesce(units.urban_rural_class, 'unclassified') = floors.urban_rural_class
    where
        mismatch.in_allocation_base
        and mismatch.d_null_reason is null
        and mismatch.county_staff_fte is not null
        and mismatch.county_resident_population > 0

),

ordered as (

    select
        *,
        sum(floor_fte) over (partition by county_code, month) as county_floor_fte,
        coalesce(
            sum(floor_fte) over (
                partition by county_code, month
                order by
                    case when floor_fte > 0 then resident_population / floor_fte end nulls last, unit_code
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as floors_before,
        coalesce(
            sum(resident_population) over (
                partition by county_code, month
                order by
                    case when floor_fte > 0 then resident_population / floor_fte end nulls last, unit_code
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as residents_before,
        row_number() over (
            partition by county_code, month
            order by case when floor_fte > 0 then resident_population / floor_fte end nulls last, unit_code
        ) as floor_order
    from base

),

split as (

    select
        *,
        -- number of floored units: the first unit (in floor_order) not below its floor, minus one
        coalesce(
            min(
                case
                    when (county_staff_fte - floors_before) * resident_population
                        >= floor_fte * (county_resident_population - residents_before)
                        then floor_order - 1
                end
            ) over (partition by county_code, month),
            count(*) over (partition by county_code, month)
        ) as units_floored
    from ordered

),

flagged as (

    select
        *,
        county_staff_fte >= county_floor_fte as floor_feasible,
        floor_order <= units_floored as is_floored
    from split

),

lambdas as (

    select
        *,
        sum(case when is_floored then floor_fte else 0 end) over (partition by county_code, month)
            as floored_fte,
        sum(case when is_floored then 0 else resident_population end) over (partition by county_code, month)
            as unfloored_residents
    from flagged

),

targets as (

    select
        unit_code,
        month,
        county_code,
        staff_fte,
        resident_population,
        fair_share_staff,
        floor_fte,
        county_staff_fte,
        county_resident_population,
        floor_feasible,
        floor_feasible and is_floored as is_floored,
        {{ to_float(
            "case when not floor_feasible then fair_share_staff"
            ~ " when is_floored then floor_fte"
            ~ " else (county_staff_fte - floored_fte) * resident_population / nullif(unfloored_residents, 0) end"
        ) }} as target_fte
    from lambdas

),

deltas as (

    select
        *,
        target_fte - staff_fte as target_delta,
        case
            when target_fte - staff_fte < -1e-9 then cast(floor(staff_fte - target_fte + 1e-9) as {{ dbt.type_int() }})
            else 0
        end as donor_posts,
        case when target_fte - staff_fte > 1e-9 then target_fte - staff_fte else 0 end as need_fte
    from targets

),

quotas as (

    select
        *,
        sum(donor_posts) over (partition by county_code, month) as county_posts_moved,
        sum(need_fte) over (partition by county_code, month) as county_need_fte
    from deltas

),

hamilton as (

    select
        *,
        case
            when need_fte > 0
                then cast(floor(county_posts_moved * need_fte / county_need_fte + 1e-9) as {{ dbt.type_int() }})
            else 0
        end as quota_floor,
        case
            when need_fte > 0
                then round(
                        cast(
                            county_posts_moved * need_fte / county_need_fte
                            - floor(county_posts_moved * need_fte / county_need_fte + 1e-9) as decimal(38, 18)
                        ),
                        9
                    )
        end as quota_remainder
    from quotas

),

ranked as (

    select
        *,
        county_posts_moved - sum(quota_floor) over (partition by county_code, month) as posts_left,
        row_number() over (
            partition by county_code, month
            order by case when need_fte > 0 then 0 else 1 end asc, quota_remainder desc, unit_code asc
        ) as remainder_rank
    from hamilton

),

final as (

    select
        unit_code,
        month,
        county_code,
        staff_fte,
        resident_population,
        fair_share_staff,
        floor_fte,
        county_staff_fte,
        county_resident_population,
        floor_feasible,
        is_floored,
        target_fte,
        target_delta,
        cast(
            case
                when donor_posts > 0 then -donor_posts
                when need_fte > 0 then quota_floor + case when remainder_rank <= posts_left then 1 else 0 end
                else 0
            end as {{ dbt.type_int() }}
        ) as planned_change_posts
    from ranked

)

select
    *,
    {{ to_float('staff_fte + planned_change_posts') }} as planned_fte
from final
