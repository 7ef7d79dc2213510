{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'dtc_economics')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {#- 64-bit float for money and rates (dbt.type_float() is 32-bit on DuckDB). -#}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
