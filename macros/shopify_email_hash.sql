{#-
    The email hash of a Shopify connector row: the `email_hash` column that
    scripts/load_shopify.py adds (the raw contract loader's rule, salted with DTC_PII_SALT
    outside dbt) when the relation has it; else, for tables synced straight into the
    warehouse, md5 of the trimmed, lower-cased email, unsalted (the salt never reaches dbt;
    docs/sources/shopify.md).
-#}
{% macro shopify_email_hash(relation, email_column="email") %}
    {%- set has_hash = false -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute="name")
            | map("lower") | list -%}
        {%- set has_hash = "email_hash" in names -%}
    {%- endif -%}
    {%- if has_hash -%}
        email_hash
    {%- else -%}
        case
            when nullif(trim({{ email_column }}), '') is not null
                then md5(lower(trim({{ email_column }})))
        end
    {%- endif -%}
{%- endmacro %}
