{#-
    The relation a stg_shop__* model reads, chosen by var source_system (docs/sources/shopify.md):
      contract          -> source('shop', <table>), the raw contract loaded by scripts/load_raw.py
      shopify_export    -> source('shop', <table>) too: scripts/load_shopify_export.py normalises
                           Shopify's orders_export.csv into the raw contract
                           (docs/sources/shopify_export.md)
      shopify_connector -> ref('stg_shopify__<table>'), the Shopify connector tables renamed
                           into the raw contract's columns (models/staging/shopify/)
    The stg_shop__* models keep doing the cleaning (trims, defaults, email hashing, formula
    escaping) for every source, so the layers above staging read one interface.
-#}
{% macro shop_source(table_name) %}
    {%- set system = var("source_system", env_var("DTC_SOURCE_SYSTEM", "contract")) -%}
    {%- if system in ("contract", "shopify_export") -%}
        {{ source("shop", table_name) }}
    {%- elif system == "shopify_connector" -%}
        {{ ref("stg_shopify__" ~ table_name) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var source_system = '" ~ system ~ "' is not one of: contract, shopify_connector, shopify_export"
        ) }}
    {%- endif -%}
{% endmacro %}
