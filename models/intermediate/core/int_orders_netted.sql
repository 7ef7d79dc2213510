-- grain: one row per order (valid or not); money excl. VAT, returns attributed to the order.
-- Hub of the core area: fct_orders selects from it, and every intermediate model that needs
-- orders reads this model, never the mart (one direction of flow).
-- Margins (issue 15, doc blocks in _margin__docs.md): COGS of the lines and shipping paid to
-- carriers (summed and carried by int_orders_validated), payment fees and fulfilment from vars.
{%- set shipping_as_revenue = var('shipping_charged_as_revenue') in [true, 'true', 'True'] %}
with

orders as (

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
        discount_depth,
        shipping_amount,
        lines_cogs,
        has_known_line_costs,
        paid_incl_vat,
        shipping_cost
    from {{ ref('int_orders_validated') }}

),

refunds as (

    select
        order_id,
        refund_id,
        refunded_at,
        refunded_amount,
        returns,
        refund_excess
    from {{ ref('int_refunds_allocated') }}

),

refunds_per_order as (

    select
        order_id,
        count(distinct refund_id) as refund_count,
        sum(refunded_amount) as refunded_amount,
        sum(returns) as returns,
        sum(refund_excess) as refund_excess,
        max(refunded_at) as last_refunded_at
    from refunds
    group by order_id

),

orders_costed as (

    -- each order with its refunds and its costs, one row per order (final reads only this)
    select
        orders.*,
        refunds_per_order.refund_count,
        refunds_per_order.refunded_amount,
        coalesce(refunds_per_order.returns, 0) as returns,
        refunds_per_order.refund_excess,
        refunds_per_order.last_refunded_at,
        orders.lines_cogs as cogs,
        orders.gross_sales - orders.discounts - coalesce(refunds_per_order.returns, 0)
        - orders.lines_cogs as gross_margin,
        -- fees and fulfilment exist for valid orders only (nothing charged, nothing shipped
        -- otherwise); fees on the amount paid incl. VAT and shipping, before refunds
        case
            when orders.is_valid_order
                then
                    {{ var('payment_fee_rate') }}
                    * (coalesce(orders.paid_incl_vat, 0) + orders.shipping_amount)
                    + {{ var('payment_fee_fixed') }}
            else 0
        end as payment_fees,
        case
            when orders.is_valid_order then {{ var('fulfillment_cost_per_order') }}
            else 0
        end as fulfillment_cost,
        coalesce(orders.has_known_line_costs, false)
        and orders.shipping_cost is not null as has_known_cost
    from orders
    left join refunds_per_order
        on orders.order_id = refunds_per_order.order_id

),

final as (

    select
        -- ids
        orders_costed.order_id,
        orders_costed.customer_id,
        orders_costed.source_customer_id,
        orders_costed.identity_source,

        -- dates
        orders_costed.ordered_at,
        orders_costed.ordered_at_local,
        orders_costed.order_date,
        orders_costed.order_month,

        -- validity and sequence
        orders_costed.order_status,
        orders_costed.is_valid_order,
        orders_costed.invalid_reason,
        cast(orders_costed.order_sequence as {{ dbt.type_int() }}) as order_sequence,
        orders_costed.is_first_order,
        orders_costed.previous_order_date,
        cast(orders_costed.days_since_previous_order as {{ dbt.type_int() }})
            as days_since_previous_order,

        -- attributes
        orders_costed.channel,
        orders_costed.utm_source,
        orders_costed.utm_medium,
        orders_costed.utm_campaign,
        orders_costed.discount_code,
        orders_costed.purchase_type,
        orders_costed.currency,
        orders_costed.prices_include_tax,
        orders_costed.is_bfcm_order,
        cast(orders_costed.line_count as {{ dbt.type_int() }}) as line_count,
        cast(orders_costed.units as {{ dbt.type_int() }}) as units,

        -- revenue ladder excl. VAT
        orders_costed.gross_sales,
        orders_costed.discounts,
        orders_costed.gifted_value,
        cast(orders_costed.returns as {{ type_money() }}) as returns,
        cast(orders_costed.gross_sales - orders_costed.discounts as {{ type_money() }})
            as net_sales_before_returns,
        cast(
            orders_costed.gross_sales - orders_costed.discounts - orders_costed.returns
            as {{ type_money() }}
        ) as net_revenue,
        orders_costed.discount_depth,

        -- refunds and memo amounts
        cast(coalesce(orders_costed.refund_count, 0) as {{ dbt.type_int() }})
            as refund_count,
        cast(coalesce(orders_costed.refunded_amount, 0) as {{ type_money() }})
            as refunded_amount,
        cast(coalesce(orders_costed.refund_excess, 0) as {{ type_money() }})
            as refund_excess,
        orders_costed.last_refunded_at,
        (
            orders_costed.gross_sales - orders_costed.discounts > 0
            and orders_costed.returns
            >= (orders_costed.gross_sales - orders_costed.discounts) - 0.005
        ) as is_fully_refunded,
        orders_costed.shipping_amount,

        -- margins (issue 15): null when a line's cost or the shipping cost is unknown
        cast(orders_costed.cogs as {{ type_money() }}) as cogs,
        cast(orders_costed.gross_margin as {{ type_money() }}) as gross_margin,
        orders_costed.shipping_cost,
        cast(orders_costed.payment_fees as {{ type_money() }}) as payment_fees,
        cast(orders_costed.fulfillment_cost as {{ type_money() }}) as fulfillment_cost,
        cast(
            orders_costed.gross_margin - orders_costed.shipping_cost
            {%- if shipping_as_revenue %} + orders_costed.shipping_amount{% endif %}
            - orders_costed.payment_fees - orders_costed.fulfillment_cost
            as {{ type_money() }}
        ) as contribution_margin,
        orders_costed.has_known_cost
    from orders_costed

)

select * from final
