-- grain: one row per order (valid or not); money excl. VAT, returns attributed to the order.
-- The contract of int_orders_netted (the hub): a view of the hub's rows, not an incremental
-- copy. The hub recomputes every order on every run anyway; a copy added a second write of
-- every row and a primary-key index (at 1M customers more CPU than it saved), while a view
-- equals a full refresh by construction (docs/pending/perflines.md). The key is checked on
-- the hub (order_id unique and not_null), whose rows these are. A table on Spark, whose
-- Hive catalog the equivalence test reads as files (docs/spark.md).
{{ config(materialized=('table' if target.type == 'spark' else 'view')) }}
{%- set columns = [
    'order_id', 'customer_id', 'source_customer_id', 'identity_source',
    'ordered_at', 'ordered_at_local', 'order_date', 'order_month',
    'order_status', 'is_valid_order', 'invalid_reason', 'order_sequence', 'is_first_order',
    'previous_order_date', 'days_since_previous_order',
    'channel', 'utm_source', 'utm_medium', 'utm_campaign', 'discount_code', 'purchase_type',
    'currency', 'prices_include_tax', 'is_bfcm_order', 'line_count', 'units',
    'gross_sales', 'discounts', 'gifted_value', 'returns', 'net_sales_before_returns',
    'net_revenue', 'discount_depth',
    'refund_count', 'refunded_amount', 'refund_excess', 'last_refunded_at', 'is_fully_refunded',
    'shipping_amount',
    'cogs', 'gross_margin', 'shipping_cost', 'payment_fees', 'fulfillment_cost',
    'contribution_margin', 'has_known_cost',
] %}
with

final as (

    select
        {{ columns | join(',\n        ') }}
    from {{ ref('int_orders_netted') }}

)

select * from final
