{% macro type_money() -%}
    {{ return(adapter.dispatch('type_money', 'dtc_economics')()) }}
{%- endmacro %}

{% macro default__type_money() -%}
    {#- Fixed-point money: 18 digits, 4 after the point
        (docs/decisions.md, "Money is fixed-point"). -#}
    numeric(18, 4)
{%- endmacro %}

{% macro duckdb__type_money() -%}
    decimal(18, 4)
{%- endmacro %}

{% macro spark__type_money() -%}
    decimal(18, 4)
{%- endmacro %}
