-- Staffing of each unit and month from the county's roster snapshot of that month: the latest
-- snapshot_date within the month (rosters are delivered per county). Only posts active on the
-- snapshot date count. A unit in a county whose roster for the month exists but lists nobody at the
-- unit gets 0 FTE; when the county delivered no roster for the month every measure is null (unknown,
-- not zero) and has_roster is false.

with

unit_months as (

    select * from {{ ref('int_unit_months') }}

),

staff_posts as (

    select * from {{ ref('stg_staff_roster__staff_posts') }}

),

roster_snapshots as (

    select
        county_code,
        {{ month_start('snapshot_date') }} as month,
        max(snapshot_date) as roster_snapshot_date
    from staff_posts
    group by county_code, {{ month_start('snapshot_date') }}

),

active_posts as (

    select
        staff_posts.*,
        roster_snapshots.month
    from staff_posts
    inner join roster_snapshots
        on
            staff_posts.county_code = roster_snapshots.county_code
            and staff_posts.snapshot_date = roster_snapshots.roster_snapshot_date
    where staff_posts.is_active_at_snapshot

),

unit_staffing as (

    select
        unit_code,
        month,
        {{ exact_sum("case when post_category = 'civil_servant' then fte else 0 end") }} as civil_servant_fte,
        {{ exact_sum("case when post_category = 'public_institution' then fte else 0 end") }} as public_institution_fte,
        {{ exact_sum("case when post_category = 'community_worker' then fte else 0 end") }} as community_worker_fte,
        {{ exact_sum("case when post_category = 'grid_worker' then fte else 0 end") }} as grid_worker_fte,
        {{ exact_sum("case when post_category = 'auxiliary' then fte else 0 end") }} as auxiliary_fte,
        {{ exact_sum("case when is_formal_post then fte else 0 end") }} as formal_fte,
        {{ exact_sum("case when not is_formal_post then fte else 0 end") }} as semi_formal_fte,
        {{ exact_sum('fte') }} as total_fte,
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
        roster_snapshots.roster_snapshot_date is not null as has_roster,
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

    -- no roster for the county-month: unknown (null); roster without the unit: zero
    select
        unit_code,
        month,
        county_code,
        roster_snapshot_date,
        has_roster,
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
