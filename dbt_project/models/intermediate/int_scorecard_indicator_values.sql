-- Scorecard indicator values, one row per evaluated unit, month and indicator of the scorecard_weights
-- seed (long format; null when the unit-month lacks the data). Definitions (DESIGN §5, scorecard):
--   professionalism   certified_share, formal_fte_share                       (mart_staffing)
--   responsiveness    response_rate, resolution_rate, satisfaction_rate,
--                     closed_within_sla_rate, response_hours_median           (mart_workload)
--   self_governance   resolved_locally_rate, resident_initiated_share         (mart_workload)
--   institutionalisation  feeds_current_share: proxy for "feeds delivered on time and passing
--                     validation" available in the warehouse = share of the unit's three feeds that are
--                     current for the month: a roster snapshot dated in the month; a registration and a
--                     resident-population snapshot current at month end (not older than their maximum
--                     age in seed snapshot_max_age: the carry-forward rule of int_population_unit_months).
--   digitalisation    digital_channel_share                                   (mart_workload)
--   coverage          data_completeness = share of the four inputs present for the unit-month:
--                     registered population, resident population, roster, and a case feed for the
--                     county that month (at least one case reported in the county).
-- Beside each value: the seed's scope (unit / county) and value_kind, the count the value rests on
-- (indicator_denominator: cases in a rate's denominator, responded cases for the median, roster
-- headcount or FTE for the staff shares; null for the feed facts), the numerator of a case rate
-- (rate × denominator), and missing_reason when the value is null: no_roster (no roster snapshot
-- for the unit-month), no_staff (a roster with no staff in the unit), no_cases (no case in the
-- denominator), rate_unknown (cases, but mart_workload publishes no rate).

with

staffing as (

    select * from {{ ref('mart_staffing') }}

),

workload as (

    select * from {{ ref('mart_workload') }}

),

population as (

    select * from {{ ref('mart_population') }}

),

weights as (

    select * from {{ ref('scorecard_weights') }}

),

county_case_months as (

    select distinct
        county_code,
        reported_month as month
    from {{ ref('fct_cases') }}

),

wide as (

    select
        population.unit_code,
        population.month,
        population.county_code,
        population.peer_group,
        population.unit_level,
        population.urban_rural_class,
        staffing.has_roster,
        staffing.headcount,
        staffing.total_fte,
        workload.response_rate_denominator,
        workload.resolution_rate_denominator,
        workload.satisfaction_rate_denominator,
        workload.closed_within_sla_rate_denominator,
        workload.cases_responded,
        workload.resolved_locally_rate_denominator,
        workload.resident_initiated_share_denominator,
        workload.digital_channel_share_denominator,
        staffing.certified_share,
        staffing.formal_fte_share,
        workload.response_rate,
        workload.resolution_rate,
        workload.satisfaction_rate,
        workload.closed_within_sla_rate,
        workload.response_calendar_hours_median as response_hours_median,
        workload.resolved_locally_rate,
        workload.resident_initiated_share,
        workload.digital_channel_share,
        (
            case when coalesce(staffing.has_roster_snapshot_in_month, false) then 1.0 else 0.0 end
            + case when coalesce(population.is_registration_current, false) then 1.0 else 0.0 end
            + case when coalesce(population.is_resident_current, false) then 1.0 else 0.0 end
        ) / 3.0 as feeds_current_share,
        (
            case when population.registered_population is not null then 1.0 else 0.0 end
            + case when population.resident_population is not null then 1.0 else 0.0 end
            + case when coalesce(staffing.has_roster, false) then 1.0 else 0.0 end
            + case when county_case_months.county_code is not null then 1.0 else 0.0 end
        ) / 4.0 as data_completeness
    from population
    left join staffing
        on
            population.unit_code = staffing.unit_code
            and population.month = staffing.month
    left join workload
        on
            population.unit_code = workload.unit_code
            and population.month = workload.month
    left join county_case_months
        on
            population.county_code = county_case_months.county_code
            and population.month = county_case_months.month

),

values_long as (

    select
        wide.unit_code,
        wide.month,
        wide.county_code,
        wide.peer_group,
        wide.unit_level,
        wide.urban_rural_class,
        wide.has_roster,
        weights.indicator_code,
        weights.scope,
        weights.value_kind,
        {{ to_float(
            "case weights.indicator_code"
            ~ " when 'certified_share' then wide.certified_share"
            ~ " when 'formal_fte_share' then wide.formal_fte_share"
            ~ " when 'response_rate' then wide.response_rate"
            ~ " when 'resolution_rate' then wide.resolution_rate"
            ~ " when 'satisfaction_rate' then wide.satisfaction_rate"
            ~ " when 'closed_within_sla_rate' then wide.closed_within_sla_rate"
            ~ " when 'response_hours_median' then wide.response_hours_median"
            ~ " when 'resolved_locally_rate' then wide.resolved_locally_rate"
            ~ " when 'resident_initiated_share' then wide.resident_initiated_share"
            ~ " when 'feeds_current_share' then wide.feeds_current_share"
            ~ " when 'digital_channel_share' then wide.digital_channel_share"
            ~ " when 'data_completeness' then wide.data_completeness"
            ~ " end"
        ) }} as indicator_value,
        {{ to_float(
            "case weights.indicator_code"
            ~ " when 'certified_share' then wide.headcount"
            ~ " when 'formal_fte_share' then wide.total_fte"
            ~ " when 'response_rate' then wide.response_rate_denominator"
            ~ " when 'resolution_rate' then wide.resolution_rate_denominator"
            ~ " when 'satisfaction_rate' then wide.satisfaction_rate_denominator"
            ~ " when 'closed_within_sla_rate' then wide.closed_within_sla_rate_denominator"
            ~ " when 'response_hours_median' then wide.cases_responded"
            ~ " when 'resolved_locally_rate' then wide.resolved_locally_rate_denominator"
            ~ " when 'resident_initiated_share' then wide.resident_initiated_share_denominator"
            ~ " when 'digital_channel_share' then wide.digital_channel_share_denominator"
            ~ " end"
        ) }} as indicator_denominator
    from wide
    cross join weights

),

final as (

    select
        unit_code,
        month,
        county_code,
        peer_group,
        unit_level,
        urban_rural_class,
        indicator_code,
        scope,
        value_kind,
        indicator_value,
        indicator_denominator,
        case when value_kind = 'case_rate' then indicator_value * indicator_denominator end
            as indicator_numerator,
        case
            when indicator_value is not null then null
            when value_kind = 'staff_share' and not coalesce(has_roster, false) then 'no_roster'
            when value_kind = 'staff_share' then 'no_staff'
            when coalesce(indicator_denominator, 0) = 0 then 'no_cases'
            else 'rate_unknown'
        end as missing_reason
    from values_long

)

select * from final
