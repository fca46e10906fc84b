-- Staffing of each unit and month from its county's roster carried forward to the month end (the same
-- rule as population, int_population_unit_months): the county's latest roster snapshot_date at or
-- before the month end (rosters are delivered per county), with its age in days. Only posts active on
-- the snapshot date count. roster_status:
--   'current'        age ≤ max_age_days of feed staff_roster (seed snapshot_max_age, 62): staff known;
--   'stale_snapshot' older than that: every measure null (the date and age stay visible);
--   'no_snapshot'    no roster at or before the month end: every measure null.
-- has_roster = (roster_status = 'current'). A unit in a county whose usable roster lists nobody at the
-- unit gets 0 FTE; without a usable roster every measure is null (unknown, not zero).
-- FTE is fte_capped (stg_staff_roster__staff_posts): a person listed above 1.0 FTE in total over the
-- snapshot's units counts 1.0, split in proportion to the roster (docs/methodology.md).

with

unit_months as (

    select * from {{ ref('int_unit_months') }}

),

staff_posts as (

    select * from {{ ref('stg_staff_roster__staff_posts') }}

),

max_age as (

    select max(max_age_days) as roster_max_age_days
    from {{ ref('snapshot_max_age') }}
    where feed = 'staff_roster'

),

snapshot_dates as (

    select distinct
        county_code,
        snapshot_date
    from staff_posts

),

-- each county snapshot is valid from its date until the county's next snapshot (exclusive)
snapshot_validity as (

    select
        county_code,
        snapshot_date,
        coalesce(
            lead(snapshot_date) over (partition by county_code order by snapshot_date),
            cast('9999-12-31' as date)
        ) as valid_until
    from snapshot_dates

),

county_months as (

    select distinct
        county_code,
        month,
        month_end
    from unit_months

),

roster_snapshots as (

    select
        county_months.county_code,
        county_months.month,
        snapshot_validity.snapshot_date as roster_snapshot_date,
        {{ dbt.datediff('snapshot_validity.snapshot_date', 'county_months.month_end', 'day') }}
            as roster_snapshot_age_days,
        max_age.roster_max_age_days
    from county_months
    cross join max_age
    inner join snapshot_validity
        on
            county_months.county_code = snapshot_validity.county_code
            and county_months.month_end >= snapshot_validity.snapshot_date
            and county_months.month_end < snapshot_validity.valid_until

),

current_rosters as (

    select * from roster_snapshots
    where roster_snapshot_age_days <= roster_max_age_days

),

active_posts as (

    select
        staff_posts.*,
        current_rosters.month
    from staff_posts
    inner join current_rosters
        on
            staff_posts.county_code = current_rosters.county_code
            and staff_posts.snapshot_date = current_rosters.roster_snapshot_date
    where staff_posts.is_active_at_snapshot

),

unit_staffing as (

    select
        unit_code,
        month,
        {{ exact_sum("case when post_category = 'civil_servant' then fte_capped else 0 end") }} as civil_servant_fte,
        {{ exact_sum("case when post_category = 'public_institution' then fte_capped else 0 end") }}
            as public_institution_fte,
        {{ exact_sum("case when post_category = 'community_worker' then fte_capped else 0 end") }}
            as community_worker_fte,
        {{ exact_sum("case when post_category = 'grid_worker' then fte_capped else 0 end") }} as grid_worker_fte,
        {{ exact_sum("case when post_category = 'auxiliary' then fte_capped else 0 end") }} as auxiliary_fte,
        {{ exact_sum("case when is_formal_post then fte_capped else 0 end") }} as formal_fte,
        {{ exact_sum("case when not is_formal_post then fte_capped else 0 end") }} as semi_formal_fte,
        {{ exact_sum('fte_capped') }} as total_fte,
        count(distinct staff_id) as headcount,
        count(distinct case when is_certified then staff_id end) as certified_headcount,
        count(distinct case when post_category = 'community_worker' then staff_id end)
            as community_worker_headcount,
        count(distinct case when post_category = 'community_worker' and is_certified then staff_id end)
            as certified_community_worker_headcount
    from active_posts
    group by unit_code, month

),

joined as (

    select
        unit_months.unit_code,
        unit_months.month,
        unit_months.county_code,
        roster_snapshots.roster_snapshot_date,
        roster_snapshots.roster_snapshot_age_days,
        case
            when roster_snapshots.roster_snapshot_date is null then 'no_snapshot'
            when roster_snapshots.roster_snapshot_age_days > roster_snapshots.roster_max_age_days
                then 'stale_snapshot'
            else 'current'
        end as roster_status,
        coalesce(roster_snapshots.roster_snapshot_age_days <= roster_snapshots.roster_max_age_days, false)
            as has_roster,
        coalesce({{ month_start('roster_snapshots.roster_snapshot_date') }} = unit_months.month, false)
            as has_roster_snapshot_in_month,
        unit_staffing.civil_servant_fte,
        unit_staffing.public_institution_fte,
        unit_staffing.community_worker_fte,
        unit_staffing.grid_worker_fte,
        unit_staffing.auxiliary_fte,
        unit_staffing.formal_fte,
        unit_staffing.semi_formal_fte,
        unit_staffing.total_fte,
        unit_staffing.headcount,
        unit_staffing.certified_headcount,
        unit_staffing.community_worker_headcount,
        unit_staffing.certified_community_worker_headcount
    from unit_months
    left join roster_snapshots
        on
            unit_months.county_code = roster_snapshots.county_code
            and unit_months.month = roster_snapshots.month
    left join unit_staffing
        on
            unit_months.unit_code = unit_staffing.unit_code
            and unit_months.month = unit_staffing.month

),

final as (

    -- no usable roster for the county-month: unknown (null); roster without the unit: zero
    select
        unit_code,
        month,
        county_code,
        roster_snapshot_date,
        roster_snapshot_age_days,
        roster_status,
        has_roster,
        has_roster as is_roster_current,
        has_roster_snapshot_in_month,
        case when has_roster then coalesce(civil_servant_fte, 0) end as civil_servant_fte,
        case when has_roster then coalesce(public_institution_fte, 0) end as public_institution_fte,
        case when has_roster then coalesce(community_worker_fte, 0) end as community_worker_fte,
        case when has_roster then coalesce(grid_worker_fte, 0) end as grid_worker_fte,
        case when has_roster then coalesce(auxiliary_fte, 0) end as auxiliary_fte,
        case when has_roster then coalesce(formal_fte, 0) end as formal_fte,
        case when has_roster then coalesce(semi_formal_fte, 0) end as semi_formal_fte,
        case when has_roster then coalesce(total_fte, 0) end as total_fte,
        case when has_roster then coalesce(headcount, 0) end as headcount,
        case when has_roster then coalesce(certified_headcount, 0) end as certified_headcount,
        case when has_roster then coalesce(community_worker_headcount, 0) end as community_worker_headcount,
        case when has_roster then coalesce(certified_community_worker_headcount, 0) end
            as certified_community_worker_headcount,
        {{ safe_divide('certified_headcount', 'headcount') }} as certified_share,
        {{ safe_divide('certified_community_worker_headcount', 'community_worker_headcount') }}
            as community_worker_certified_share
    from joined

)

select * from final
