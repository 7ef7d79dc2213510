{% macro month_start(date_expression) -%}
    {#- First day of the month of a date, as a date (date_trunc returns a timestamp). -#}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}
