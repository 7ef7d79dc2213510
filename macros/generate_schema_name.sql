{% macro generate_schema_name(custom_schema_name, node) -%}
    {#- Use the custom schema name as is (staging, intermediate, marts, seeds), so
        consumers query `marts.fct_orders` whatever the target's default schema. -#}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
