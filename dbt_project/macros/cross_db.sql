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
