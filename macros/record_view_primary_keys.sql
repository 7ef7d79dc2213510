{% macro record_view_primary_keys() -%}
    {#- DuckDB views hold no constraints. Called by duckdb__publish_serving_copy after a build
        or run: writes meta.view_primary_keys, the contract's primary key (model-level or
        column-level primary_key constraint) of every view model, from which the serving copy
        (dtc_economics.publish) gives the table it writes for a view the key of its contract. -#}
    {%- set rows = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized == 'view' -%}
        {%- set key = [] -%}
        {%- for constraint in node.constraints if constraint.type == 'primary_key' -%}
            {%- do key.extend(constraint.columns) -%}
        {%- endfor -%}
        {%- for column in node.columns.values() -%}
            {%- for constraint in column.constraints if constraint.type == 'primary_key' -%}
                {%- do key.append(column.name) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if key -%}
            {%- do rows.append(
                "('" ~ node.schema ~ "', '" ~ (node.alias or node.name) ~ "', ['"
                ~ key | join("', '") ~ "'])"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do run_query("create schema if not exists meta") -%}
    {%- do run_query(
        "create or replace table meta.view_primary_keys "
        ~ "(schema_name varchar, table_name varchar, key_columns varchar[])"
    ) -%}
    {%- if rows -%}
        {%- do run_query("insert into meta.view_primary_keys values " ~ rows | join(", ")) -%}
    {%- endif -%}
{%- endmacro %}
