{#-
    Shopify connector rows still live in Shopify: the connector keeps deleted rows with
    _fivetran_deleted = true; null (a table or sync without the column) counts as live.
    Unit-tested through stg_shopify__orders and stg_shopify__refunds (_shopify__models.yml).
-#}
{% macro shopify_not_deleted(column="_fivetran_deleted") %}
    not coalesce(cast({{ column }} as boolean), false)
{%- endmacro %}
