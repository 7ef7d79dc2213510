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

order_costs as (

    select
        orders.order_id,
        orders.shipping_cost,
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
        orders.order_id,
        orders.customer_id,
        orders.source_customer_id,
        orders.identity_source,

        -- dates
        orders.ordered_at,
        orders.ordered_at_local,
        orders.order_date,
        orders.order_month,

        -- validity and sequence
        orders.order_status,
        orders.is_valid_order,
        orders.invalid_reason,
        cast(orders.order_sequence as {{ dbt.type_int() }}) as order_sequence,
        orders.is_first_order,
        orders.previous_order_date,
        cast(orders.days_since_previous_order as {{ dbt.type_int() }})
            as days_since_previous_order,

        -- attributes
        orders.channel,
        orders.utm_source,
        orders.utm_medium,
        orders.utm_campaign,
        orders.discount_code,
        orders.purchase_type,
        orders.currency,
        orders.prices_include_tax,
        orders.is_bfcm_order,
        cast(orders.line_count as {{ dbt.type_int() }}) as line_count,
        cast(orders.units as {{ dbt.type_int() }}) as units,

        -- revenue ladder excl. VAT
        orders.gross_sales,
        orders.discounts,
        orders.gifted_value,
        cast(coalesce(refunds_per_order.returns, 0) as {{ type_money() }}) as returns,
        cast(orders.gross_sales - orders.discounts as {{ type_money() }})
            as net_sales_before_returns,
        cast(
            orders.gross_sales - orders.discounts - coalesce(refunds_per_order.returns, 0)
            as {{ type_money() }}
        ) as net_revenue,
        orders.discount_depth,

        -- refunds and memo amounts
        cast(coalesce(refunds_per_order.refund_count, 0) as {{ dbt.type_int() }})
            as refund_count,
        cast(coalesce(refunds_per_order.refunded_amount, 0) as {{ type_money() }})
            as refunded_amount,
        cast(coalesce(refunds_per_order.refund_excess, 0) as {{ type_money() }})
            as refund_excess,
        refunds_per_order.last_refunded_at,
        (
            orders.gross_sales - orders.discounts > 0
            and coalesce(refunds_per_order.returns, 0)
            >= (orders.gross_sales - orders.discounts) - 0.005
        ) as is_fully_refunded,
        orders.shipping_amount,

        -- margins (issue 15): null when a line's cost or the shipping cost is unknown
        cast(order_costs.cogs as {{ type_money() }}) as cogs,
        cast(order_costs.gross_margin as {{ type_money() }}) as gross_margin,
        order_costs.shipping_cost,
        cast(order_costs.payment_fees as {{ type_money() }}) as payment_fees,
        cast(order_costs.fulfillment_cost as {{ type_money() }}) as fulfillment_cost,
        cast(
            order_costs.gross_margin - order_costs.shipping_cost
            {%- if shipping_as_revenue %} + orders.shipping_amount{% endif %}
            - order_costs.payment_fees - order_costs.fulfillment_cost
            as {{ type_money() }}
        ) as contribution_margin,
        order_costs.has_known_cost
    from orders
    left join refunds_per_order
        on orders.order_id = refunds_per_order.order_id
    left join order_costs
        on orders.order_id = order_costs.order_id

)

select * from final
