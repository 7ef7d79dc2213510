-- grain: one row per month x order channel, plus channel 'all': the finance view of valid
-- orders' revenue. Sales (gross - discounts, excl. VAT) are booked in the order's month,
-- returns in the refund's month (fct_returns, refunds dated on or before as_of_date), so
-- net_revenue of a month = its sales - the returns booked in it, whatever the order month.
-- The channel is each order's own channel (its UTMs), returns follow their order's channel.
with

orders as (

    select
        order_id,
        order_month,
        channel,
        is_valid_order,
        net_sales_before_returns
    from {{ ref('int_orders_netted') }}

),

returns as (

    select
        order_id,
        refund_date,
        refund_month,
        is_valid_order,
        returns
    from {{ ref('int_refunds_dated') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

booked_rows as (

    -- sales on the order's month, returns on the refund's month, both on the order channel
    select
        order_month as month,
        channel,
        1 as valid_orders,
        net_sales_before_returns,
        0 as returns
    from orders
    where is_valid_order
    union all
    select
        returns.refund_month as month,
        orders.channel,
        0 as valid_orders,
        0 as net_sales_before_returns,
        returns.returns
    from returns
    inner join orders
        on returns.order_id = orders.order_id
    cross join as_of
    where returns.is_valid_order and returns.refund_date <= as_of.as_of_date

),

booked_per_channel as (

    select
        month,
        channel,
        sum(valid_orders) as valid_orders,
        sum(net_sales_before_returns) as net_sales_before_returns,
        sum(returns) as returns
    from booked_rows
    group by month, channel

),

booked_with_total as (

    {{ channel_total_unioned(
        'booked_per_channel',
        ['month'],
        ['valid_orders', 'net_sales_before_returns', 'returns'],
    ) }}

),

final as (

    select
        month,
        channel,
        cast(valid_orders as {{ dbt.type_int() }}) as valid_orders,
        cast(net_sales_before_returns as {{ type_money() }}) as net_sales_before_returns,
        cast(returns as {{ type_money() }}) as returns,
        cast(net_sales_before_returns - returns as {{ type_money() }}) as net_revenue
    from booked_with_total

)

select * from final
