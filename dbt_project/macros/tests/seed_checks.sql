{#- Generic tests on the seeds (they take the seed as `model`). Each returns the offending rows. -#}

{#- The generated holiday calendar agrees with dates verified by hand against the State Council
    notice for 2024: 02-04 (Sunday) and 02-18 (Sunday) were make-up working days, 02-10 … 02-17 the
    Spring Festival holiday; 10-01 National Day. Also: every listed make-up working day is a weekend. -#}
{% test seed_calendar_covers_known_2024_dates(model) %}
    with expected as (
        select cast('2024-02-04' as date) as calendar_date, true as is_working_day
        union all select cast('2024-02-10' as date), false
        union all select cast('2024-02-13' as date), false
        union all select cast('2024-02-17' as date), false
        union all select cast('2024-02-18' as date), true
        union all select cast('2024-10-01' as date), false
    )
    select expected.calendar_date, 'missing or wrong' as problem
    from expected
    left join {{ model }} as seed
        on expected.calendar_date = seed.calendar_date
    where seed.calendar_date is null or seed.is_working_day <> expected.is_working_day
    union all
    select calendar_date, 'make-up working day on a weekday' as problem
    from {{ model }}
    where day_type = 'makeup_working_day' and {{ date_part_int('isodow', 'calendar_date') }} < 6
{% endtest %}

{#- Every norm the models read exists for both classes (directly or through `all`). -#}
{% test seed_staffing_norms_complete(model) %}
    with needed as (
        select 'community_workers_per_10k_residents' as norm_code, 'urban' as urban_rural_class
        union all select 'community_workers_per_10k_residents', 'rural'
        union all select 'community_worker_certified_share_min', 'urban'
        union all select 'community_worker_certified_share_min', 'rural'
        union all select 'households_per_grid', 'urban'
        union all select 'households_per_grid', 'rural'
        union all select 'grid_workers_per_grid', 'urban'
        union all select 'grid_workers_per_grid', 'rural'
        union all select 'min_fte_per_unit', 'urban'
        union all select 'min_fte_per_unit', 'rural'
    )
    select needed.norm_code, needed.urban_rural_class
    from needed
    left join {{ model }} as norms
        on
            needed.norm_code = norms.norm_code
            and norms.urban_rural_class in (needed.urban_rural_class, 'all')
    group by needed.norm_code, needed.urban_rural_class
    having count(norms.norm_code) <> 1
{% endtest %}

{#- Bands of the same level and class do not overlap ([min, max), empty bound = unbounded). -#}
{% test seed_peer_group_bands_do_not_overlap(model) %}
    select a.unit_level, a.urban_rural_class, a.band_code, b.band_code as overlapping_band
    from {{ model }} as a
    inner join {{ model }} as b
        on
            a.unit_level = b.unit_level
            and a.urban_rural_class = b.urban_rural_class
            and a.band_code < b.band_code
    where
        coalesce(a.min_population, -1) < coalesce(b.max_population, 9223372036854775807)
        and coalesce(b.min_population, -1) < coalesce(a.max_population, 9223372036854775807)
{% endtest %}
