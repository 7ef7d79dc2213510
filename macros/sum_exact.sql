{% macro sum_exact(expression) -%}
    {#- Sum of a double expression as a DECIMAL(38, 12): each value is rounded to 12
        decimals, then added exactly, so the result is the same bits whatever order the rows
        are added in (DuckDB's parallel aggregation adds doubles in no fixed order: two
        builds of a large store differed in the last bits). Returns a decimal (null when
        every value is null); cast it to a double where it is presented. -#}
    sum(cast({{ expression }} as decimal(38, 12)))
{%- endmacro %}
