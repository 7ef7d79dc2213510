{% macro decimal_text(expression, scale) -%}
    {#- A number as text with exactly `scale` decimals (12.5, 2 -> '12.50'), for the
        human-readable reason strings: decimal(18, scale) first, so every engine prints
        the same digits (a double or a wider decimal would not). -#}
    cast(cast({{ expression }} as decimal(18, {{ scale }})) as {{ dbt.type_string() }})
{%- endmacro %}
