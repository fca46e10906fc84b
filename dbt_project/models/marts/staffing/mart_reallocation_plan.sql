-- The reallocation plan as moves (该增的增、该减的减): per county and month, which unit gives how many FTE
-- to which, so that every unit in the allocation base reaches its target (int_reallocation_targets:
-- fair share by residents, at least the floor, county total unchanged).
--
-- Greedy interval matching, in SQL: donors (target_delta < 0) ordered by surplus, largest first, lay
-- their surpluses end to end on [0, S); receivers (target_delta > 0) ordered by need, largest first,
-- lay their needs end to end on [0, S) (Σ surplus = Σ need = S because deltas sum to zero). A move is
-- every overlap of a donor's interval with a receiver's, of size min(ends) − max(starts). Each donor
-- gives exactly its surplus, each receiver gets exactly its need, and there are at most
-- donors + receivers − 1 moves per county-month. FTE are fractional; overlaps below 1e-9 (rounding)
-- are dropped.

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
        -target_delta as surplus,
        sum(-target_delta) over (
            partition by county_code, month order by target_delta asc, unit_code asc
            rows between unbounded preceding and current row
        ) as interval_end
    from targets
    where target_delta < -1e-9

),

receivers as (

    select
        unit_code,
        month,
        county_code,
        staff_fte,
        target_fte,
        target_delta as need,
        sum(target_delta) over (
            partition by county_code, month order by target_delta desc, unit_code asc
            rows between unbounded preceding and current row
        ) as interval_end
    from targets
    where target_delta > 1e-9

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
        receivers.staff_fte as to_staff_fte,
        receivers.target_fte as to_target_fte
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
        moves.to_staff_fte,
        moves.to_target_fte
    from moves
    left join units as from_units
        on moves.from_unit_code = from_units.unit_code
    left join units as to_units
        on moves.to_unit_code = to_units.unit_code
    where moves.fte > 1e-9

)

select * from final
