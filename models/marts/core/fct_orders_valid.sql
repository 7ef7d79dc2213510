-- grain: one row per valid order (is_valid_order): the orders every metric counts.
-- The safe table to sum: fct_orders keeps cancelled, test, zero-value, future-dated and
-- unidentifiable orders (flagged, for audit); this view holds only the valid ones, with the
-- same columns, so `select sum(net_revenue) from marts.fct_orders_valid` is right as written.
-- A table on Spark, whose Hive catalog the equivalence test reads as files (docs/spark.md).
{{ config(materialized=('table' if target.type == 'spark' else 'view')) }}

with

orders as (

    select * from {{ ref('fct_orders') }}

),

final as (

    select
        order_id,
        customer_id,
        source_customer_id,
        identity_source,
        ordered_at,
        ordered_at_local,
        order_date,
        order_month,
        order_status,
        is_valid_order,
        invalid_reason,
        order_sequence,
        is_first_order,
        previous_order_date,
        days_since_previous_order,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        discount_code,
        purchase_type,
        currency,
        prices_include_tax,
        is_bfcm_order,
        line_count,
        units,
        gross_sales,
        discounts,
        gifted_value,
        returns,
        net_sales_before_returns,
        net_revenue,
        discount_depth,
        refund_count,
        refunded_amount,
        refund_excess,
        last_refunded_at,
        is_fully_refunded,
        shipping_amount,
        cogs,
        gross_margin,
        shipping_cost,
        payment_fees,
        fulfillment_cost,
        contribution_margin,
        has_known_cost
    from orders
    where is_valid_order

)

select * from final
