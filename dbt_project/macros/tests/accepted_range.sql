{#-
    Generic test: non-null values of `column_name` lie within [min_value, max_value]
    (bounds optional; `inclusive: false` makes them strict). Returns the offending rows.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {%- set ge = '>=' if inclusive else '>' -%}
    {%- set le = '<=' if inclusive else '<' -%}
    select *
    from {{ model }}
    where {{ column_name }} is not null
      and not (
        1 = 1
        {%- if min_value is not none %}
        and {{ column_name }} {{ ge }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        and {{ column_name }} {{ le }} {{ max_value }}
        {%- endif %}
      )
{% endtest %}
