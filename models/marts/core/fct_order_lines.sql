-- grain: one row per order line; money excl. VAT, returns attributed to the line.
-- The contract of int_order_lines_netted (the hub): a view of the hub's rows, not an incremental
-- copy. The hub recomputes every line on every run anyway; a copy added a second write of
-- every row and a primary-key index (at 1M customers more CPU than it saved), while a view
-- equals a full refresh by construction (docs/pending/perflines.md). The key is checked on
-- the hub (order_line_id unique and not_null), whose rows these are. A table on Spark, whose
-- Hive catalog the equivalence test reads as files (docs/spark.md).
{{ config(materialized=('table' if target.type == 'spark' else 'view')) }}
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

    select
        {{ columns | join(',\n        ') }}
    from {{ ref('int_order_lines_netted') }}

)

select * from final
