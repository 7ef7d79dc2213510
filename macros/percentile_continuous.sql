{% macro percentile_continuous(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_continuous', 'dtc_economics')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_continuous(expression, fraction) -%}
    {#- Aggregate: the `fraction` quantile of `expression`, linear interpolation between the
        two nearest values (pandas' default); nulls ignored. DuckDB, Postgres. -#}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro spark__percentile_continuous(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}
