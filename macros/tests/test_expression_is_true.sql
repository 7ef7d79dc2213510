{% test expression_is_true(model, expression, where_clause=none) %}
    {#- Fails with every row for which `expression` is not true (null counts as failing). -#}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
    {%- if where_clause %}
        and ({{ where_clause }})
    {%- endif %}
{% endtest %}
