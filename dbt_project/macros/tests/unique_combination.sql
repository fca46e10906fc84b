{#-
    Generic test: the combination of `combination_of_columns` is unique in the model
    (a minimal stand-in for dbt_utils.unique_combination_of_columns, which cannot be downloaded here).
    Returns one row per duplicated combination.
-#}
{% test unique_combination(model, combination_of_columns) %}
    {%- set cols = combination_of_columns | join(', ') %}
    select
        {{ cols }},
        count(*) as n_rows
    from {{ model }}
    group by {{ cols }}
    having count(*) > 1
{% endtest %}
