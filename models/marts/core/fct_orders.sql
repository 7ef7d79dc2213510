-- grain: one row per order (valid or not); money excl. VAT, returns attributed to the order.
-- Computed in int_orders_netted (the hub); this mart is its contract and its incremental copy.
-- Incremental by change detection (README "Reliability"): every run recomputes all orders
-- (identity, sequence and refunds depend on whole histories) but writes only the rows that
-- differ from the previous build (new, changed); the post-hook deletes orders gone from the
-- export. Force a rebuild with `dbt build --full-refresh`.
-- depends_on: {{ ref('stg_shop__orders') }}
-- Spark (docs/spark.md): a plain table, rebuilt every run (its Hive tables take neither
-- delete nor merge; insert_overwrite would rewrite everything anyway).
{%- set is_spark = target.type == 'spark' %}
{{
    config(
        materialized=('table' if is_spark else 'incremental'),
        unique_key='order_id',
        incremental_strategy=var('incremental_strategy'),
        on_schema_change='fail',
        post_hook=([] if is_spark else [
            "delete from {{ this }} where order_id not in (
                select order_id from {{ ref('stg_shop__orders') }}
            )",
        ]),
    )
}}
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

    {{ select_changed_rows(ref('int_orders_netted'), columns) }}

)

select * from final
