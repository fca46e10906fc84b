{#-
    Keep the latest version of each key: rows of `relation_sql` (a CTE name) numbered within
    `partition_by` by `order_by` (newest first); only row 1 survives. Written as a subquery with
    row_number() (not QUALIFY) so that it runs on PostgreSQL as well as DuckDB.
-#}
{% macro latest_per_key(relation_sql, partition_by, order_by) -%}
    select ranked.*
    from (
        select
            versions.*,
            row_number() over (
                partition by {{ partition_by | join(', ') }}
                order by {{ order_by | join(', ') }}
            ) as version_rank
        from {{ relation_sql }} as versions
    ) as ranked
    where ranked.version_rank = 1
{%- endmacro %}
