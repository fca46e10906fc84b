{#-
    Use custom schema names verbatim (staging, intermediate, marts) instead of dbt's default
    "<target_schema>_<custom_schema>", so that DuckDB and PostgreSQL both get exactly the schemas
    raw / staging / intermediate / marts that the rest of the pipeline (ingest, reports, Airflow)
    expects. Nodes without a custom schema fall back to the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
