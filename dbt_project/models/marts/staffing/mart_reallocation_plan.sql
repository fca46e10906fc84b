-- The reallocation plan as moves of whole posts (该增的增、该减的减): per county and month, which unit
-- gives how many posts to which, so that every unit in the allocation base reaches its planned staff
-- (int_reallocation_targets: planned_change_posts, the integer rounding of the target by residents
-- that keeps the county total and the floors; see that model's header).
--
-- Greedy interval matching, in SQL: donors (planned_change_posts < 0) ordered by posts given, most
-- first, lay them end to end on [0, M); receivers (planned_change_posts > 0) ordered by posts received,
-- most first, lay them end to end on [0, M) (both sum to M, the county's posts moved). A move is every
-- overlap of a donor's interval with a receiver's, of size min(ends) − max(starts): integer, because
-- every interval end is an integer. Each donor gives exactly its posts, each receiver gets exactly
-- its posts, at most donors + receivers − 1 moves per county-month, and Σ fte = M =
-- mart_staffing_mismatch_county.posts_to_reallocate (data test).

with

targets as (

    select * from {{ ref('int_reallocation_targets') }}

),

units as (

    select * from {{ ref('dim_unit') }}

),

donors as (

    select
        unit_code,
        month,
        county_code,
        staff_fte,
        target_fte,
        planned_fte,
        -planned_change_posts as surplus,
        sum(-planned_change_posts) over (
            partition by county_code, month order by planned_change_posts asc, unit_code asc
            rows between unbounded preceding and current row
        ) as interval_end
    from targets
    where planned_change_posts < 0

),

receivers as (

    select
        unit_code,
        month,
        county_code,
        staff_fte,
        target_fte,
        planned_fte,
        planned_change_posts as need,
        sum(planned_change_posts) over (
            partition by county_code, month order by planned_change_posts desc, unit_code asc
            rows between unbounded preceding and current row
        ) as interval_end
    from targets
    where planned_change_posts > 0

),

moves as (

    select
        donors.county_code,
        donors.month,
        donors.unit_code as from_unit_code,
        receivers.unit_code as to_unit_code,
        least(donors.interval_end, receivers.interval_end)
        - greatest(donors.interval_end - donors.surplus, receivers.interval_end - receivers.need) as fte,
        donors.staff_fte as from_staff_fte,
        donors.target_fte as from_target_fte,
        donors.planned_fte as from_planned_fte,
        receivers.staff_fte as to_staff_fte,
        receivers.target_fte as to_target_fte,
        receivers.planned_fte as to_planned_fte
    from donors
    inner join receivers
        on
            donors.county_code = receivers.county_code
            and donors.month = receivers.month
            and donors.interval_end - donors.surplus < receivers.interval_end
            and receivers.interval_end - receivers.need < donors.interval_end

),

final as (

    select
        moves.county_code,
        moves.month,
        row_number() over (
            partition by moves.county_code, moves.month
            order by moves.fte desc, moves.from_unit_code asc, moves.to_unit_code asc
        ) as move_rank,
        moves.from_unit_code,
        from_units.unit_name as from_unit_name,
        moves.to_unit_code,
        to_units.unit_name as to_unit_name,
        {{ to_float('moves.fte') }} as fte,
        moves.from_staff_fte,
        moves.from_target_fte,
        moves.from_planned_fte,
        moves.to_staff_fte,
        moves.to_target_fte,
        moves.to_planned_fte
    from moves
    left join units as from_units
        on moves.from_unit_code = from_units.unit_code
    left join units as to_units
        on moves.to_unit_code = to_units.unit_code
    where moves.fte > 0

)

select * from final
