{% macro to_reporting_timezone(column) -%}
    {{ return(adapter.dispatch('to_reporting_timezone', 'dtc_economics')(column)) }}
{%- endmacro %}

{% macro default__to_reporting_timezone(column) -%}
    {#- UTC timestamp -> wall-clock timestamp in var reporting_timezone (DuckDB, Postgres). -#}
    (({{ column }} at time zone 'UTC') at time zone '{{ var("reporting_timezone") }}')
{%- endmacro %}

{% macro spark__to_reporting_timezone(column) -%}
    from_utc_timestamp({{ column }}, '{{ var("reporting_timezone") }}')
{%- endmacro %}
