-- grain: one row per order line; money excl. VAT, returns attributed to the line.
-- Hub of the core area: fct_order_lines selects from it; intermediate models read it.
with

order_lines as (

    select
        order_line_id,
        order_id,
        product_id,
        quantity,
        unit_price,
        tax_rate,
        is_gift,
        gross_sales,
        discounts,
        gifted_value,
        unit_cost,
        has_known_cost,
        cogs
    from {{ ref('int_order_lines_priced') }}

),

orders as (

    select
        order_id,
        customer_id,
        ordered_at,
        order_date,
        order_month,
        is_valid_order,
        order_sequence
    from {{ ref('int_orders_netted') }}

),

refunds as (

    select
        order_line_id,
        refund_quantity,
        returns,
        refund_excess
    from {{ ref('int_refunds_allocated') }}
    where order_line_id is not null

),

refunds_per_line as (

    select
        order_line_id,
        sum(returns) as returns,
        sum(refund_excess) as refund_excess,
        sum(coalesce(refund_quantity, 0)) as returned_quantity
    from refunds
    group by order_line_id

),

final as (

    select
        -- ids
        order_lines.order_line_id,
        order_lines.order_id,
        orders.customer_id,
        order_lines.product_id,

        -- order context
        orders.ordered_at,
        orders.order_date,
        orders.order_month,
        orders.is_valid_order,
        orders.order_sequence,

        -- line attributes
        cast(order_lines.quantity as {{ dbt.type_int() }}) as quantity,
        order_lines.unit_price,
        order_lines.tax_rate,
        order_lines.is_gift,

        -- revenue ladder excl. VAT
        order_lines.gross_sales,
        order_lines.discounts,
        order_lines.gifted_value,
        cast(coalesce(refunds_per_line.returns, 0) as {{ type_money() }}) as returns,
        cast(order_lines.gross_sales - order_lines.discounts as {{ type_money() }})
            as net_sales_before_returns,
        cast(
            order_lines.gross_sales - order_lines.discounts
            - coalesce(refunds_per_line.returns, 0)
            as {{ type_money() }}
        ) as net_revenue,
        cast(coalesce(refunds_per_line.refund_excess, 0) as {{ type_money() }})
            as refund_excess,
        cast(coalesce(refunds_per_line.returned_quantity, 0) as {{ dbt.type_int() }})
            as returned_quantity,

        -- margin (issue 15): unknown cost stays null, never 0
        order_lines.unit_cost,
        coalesce(order_lines.has_known_cost, false) as has_known_cost,
        cast(order_lines.cogs as {{ type_money() }}) as cogs,
        cast(
            order_lines.gross_sales - order_lines.discounts
            - coalesce(refunds_per_line.returns, 0) - order_lines.cogs
            as {{ type_money() }}
        ) as gross_margin
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join refunds_per_line
        on order_lines.order_line_id = refunds_per_line.order_line_id

)

select * from final
