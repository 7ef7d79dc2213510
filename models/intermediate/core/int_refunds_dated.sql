-- grain: one row per refund x order line it is allocated to; dated by refund date
-- (the finance view: a return is booked in the month the money went back).
-- Hub of the core area: fct_returns selects from it; intermediate models read it.
with

refunds as (

    select
        refund_id,
        order_id,
        order_line_id,
        refunded_at,
        refunded_amount,
        returns,
        refund_excess
    from {{ ref('int_refunds_allocated') }}

),

orders as (

    select
        order_id,
        customer_id,
        order_date,
        is_valid_order
    from {{ ref('int_orders_netted') }}

),

final as (

    select
        -- ids (return_id last, as in the contract: Spark keeps this select's order)
        refunds.refund_id,
        refunds.order_id,
        refunds.order_line_id,
        orders.customer_id,

        -- dates
        refunds.refunded_at,
        cast({{ to_reporting_timezone('refunds.refunded_at') }} as date) as refund_date,
        {{ month_start(
            'cast(' ~ to_reporting_timezone('refunds.refunded_at') ~ ' as date)'
        ) }} as refund_month,
        orders.order_date,
        orders.is_valid_order,

        -- amounts
        refunds.refunded_amount,
        refunds.returns,
        refunds.refund_excess,
        {{ dbt.concat([
            'refunds.refund_id', "'|'", "coalesce(refunds.order_line_id, '')"
        ]) }} as return_id
    from refunds
    inner join orders
        on refunds.order_id = orders.order_id

)

select * from final
