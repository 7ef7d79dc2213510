-- grain: one row per order line; money excl. VAT, returns attributed to the line.
-- Computed in int_order_lines_netted (the hub); this mart is its contract and its incremental copy.
-- Incremental by change detection like fct_orders (README "Reliability"): all lines are
-- recomputed, only new or changed rows are written; the post-hook deletes lines gone from
-- the export. Force a rebuild with `dbt build --full-refresh`.
-- depends_on: {{ ref('stg_shop__order_lines') }}
-- Spark (docs/spark.md): a plain table, rebuilt every run (its Hive tables take neither
-- delete nor merge; insert_overwrite would rewrite everything anyway).
{%- set is_spark = target.type == 'spark' %}
{{
    config(
        materialized=('table' if is_spark else 'incremental'),
        unique_key='order_line_id',
        incremental_strategy=var('incremental_strategy'),
        on_schema_change='fail',
        post_hook=([] if is_spark else [
            "delete from {{ this }} where order_line_id not in (
                select order_line_id from {{ ref('stg_shop__order_lines') }}
            )",
        ]),
    )
}}
{%- set columns = [
    'order_line_id', 'order_id', 'customer_id', 'product_id',
    'ordered_at', 'order_date', 'order_month', 'is_valid_order', 'order_sequence',
    'quantity', 'unit_price', 'tax_rate', 'is_gift',
    'gross_sales', 'discounts', 'gifted_value', 'returns', 'net_sales_before_returns',
    'net_revenue', 'refund_excess', 'returned_quantity',
    'unit_cost', 'cogs', 'gross_margin',
] %}
with

final as (

    {{ select_changed_rows(ref('int_order_lines_netted'), columns) }}

)

select * from final
