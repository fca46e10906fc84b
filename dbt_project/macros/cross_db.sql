{#-
    Small cross-database helpers built on dbt's own cross-db macros (dbt.date_trunc, dbt.dateadd,
    dbt.type_*), so every model compiles to SQL that runs on DuckDB and on PostgreSQL.
-#}

{# First day of the month of a date/timestamp expression, as a DATE. #}
{% macro month_start(expr) -%}
    cast({{ dbt.date_trunc('month', expr) }} as date)
{%- endmacro %}

{# Last day of the month that starts at `month_expr` (a DATE that is the first of a month). #}
{% macro month_end(month_expr) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month_expr)) }} as date)
{%- endmacro %}

{# Division in double precision that never divides by zero, and never does integer division
   (PostgreSQL bigint / bigint truncates). #}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif(cast({{ denominator }} as {{ type_double() }}), 0))
{%- endmacro %}

{#-
    64-bit floating point on every adapter. Not dbt.type_float(): on DuckDB that renders FLOAT, which is
    a 4-byte REAL there (7 significant digits), while PostgreSQL's float is 8 bytes.
-#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'grassroots')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{# Cast to double precision. #}
{% macro to_float(expr) -%}
    cast({{ expr }} as {{ type_double() }})
{%- endmacro %}

{#-
    12-digit code of the ancestor of a 12-digit unit code at `level`, derived from the code's prefix
    (2 province, 2 city, 2 county, 3 township, 3 village digits, zero-padded). Deriving instead of
    reading parent columns makes joins independent of how a reference table pads its codes.
-#}
{% macro parent_unit_code(unit_code, level) -%}
    {%- set prefix = {'province': 2, 'city': 4, 'county': 6, 'township': 9}[level] -%}
    {{ dbt.concat(["substr(" ~ unit_code ~ ", 1, " ~ prefix ~ ")", "'" ~ ('0' * (12 - prefix)) ~ "'"]) }}
{%- endmacro %}

{#- A list of strings rendered as a SQL `in (...)` list. -#}
{% macro sql_in_list(values) -%}
    ({%- for v in values -%}'{{ v }}'{%- if not loop.last -%}, {% endif -%}{%- endfor -%})
{%- endmacro %}

{#-
    Continuous percentile (linear interpolation) of `expr` as an aggregate: `fraction` in [0, 1].
    PostgreSQL and DuckDB both accept the ordered-set form `percentile_cont(f) within group (order by x)`;
    dispatched so another adapter can override it (e.g. a quantile function).
-#}
{% macro percentile_cont(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'grassroots')(expr, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expr, fraction) -%}
    {#- A median and a P90 of the same column come from one list-valued aggregate, which DuckDB
        evaluates once: a quantile state holds every value of its group, outside memory_limit, so
        this halves that memory (mart_workload over 45.6 M national cases). -#}
    {%- if fraction in (0.5, 0.9) -%}
        quantile_cont({{ expr }}, [0.5, 0.9])[{{ 1 if fraction == 0.5 else 2 }}]
    {%- else -%}
        quantile_cont({{ expr }}, {{ fraction }})
    {%- endif -%}
{%- endmacro %}

{# Seconds since midnight of a timestamp (whole seconds). #}
{% macro seconds_of_day(ts) -%}
    (
        {{ date_part_int('hour', ts) }} * 3600
        + {{ date_part_int('minute', ts) }} * 60
        + {{ date_part_int('second', ts) }}
    )
{%- endmacro %}

{# Seconds of working time in a working day (var working_day_start_hour … working_day_end_hour). #}
{% macro working_seconds_per_day() -%}
    {{ (var('working_day_end_hour') - var('working_day_start_hour')) * 3600 }}
{%- endmacro %}

{#-
    Working-time clock: working seconds elapsed from the start of dim_date up to timestamp `ts`,
    given `day_alias`, the dim_date row of the timestamp's date (joined on date_day = cast(ts as date)):
        working_days_before × seconds per working day
        + on a working day, the part of [start hour, end hour) already elapsed at `ts`.
    Working time between two timestamps is the difference of their clocks, so weekends, public
    holidays and make-up working days (调休上班) are handled by dim_date, and a case reported at night or
    on a holiday starts counting at the next working day's opening hour.
-#}
{% macro working_clock_seconds(ts, day_alias) -%}
    (
        {{ day_alias }}.working_days_before * {{ working_seconds_per_day() }}
        + case
            when {{ day_alias }}.is_working_day
                then least(
                    greatest({{ seconds_of_day(ts) }} - {{ var('working_day_start_hour') * 3600 }}, 0),
                    {{ working_seconds_per_day() }}
                )
            else 0
        end
    )
{%- endmacro %}

{# A date part as an integer: `extract(part from expr)` (standard SQL on PostgreSQL and DuckDB). #}
{% macro date_part_int(part, expr) -%}
    cast(floor(extract({{ part }} from {{ expr }})) as {{ dbt.type_int() }})
{%- endmacro %}

{#-
    Sum of a double-precision expression that does not depend on the order of the rows. A float sum
    depends on the order in which the rows arrive, which a parallel aggregate or an unordered window
    does not fix, so two builds of the same data could differ in the last bit (DESIGN §7 wants the
    marts identical byte for byte). Each term is rounded to 18 decimals and summed exactly as a
    decimal, then returned as a double. An aggregate; for a window, write the same casts around
    `sum(...) over (...)` (as mart_staffing_mismatch does).
-#}
{% macro exact_sum(expr) -%}
    cast(sum(cast({{ expr }} as decimal(38, 18))) as {{ type_double() }})
{%- endmacro %}
