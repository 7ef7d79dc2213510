-- grain: one row per customer x calendar date with at least one valid order (a purchase
-- day). Same-day orders are one purchase occasion, so gaps between purchases are never 0.
with

orders as (

    select
        customer_id,
        order_date,
        order_month,
        order_sequence,
        net_revenue
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

purchase_days as (

    select
        customer_id,
        order_date as purchase_date,
        order_month as purchase_month,
        count(*) as orders,
        sum(net_revenue) as net_revenue,
        sum(case when order_sequence = 1 then net_revenue else 0 end) as first_order_net_revenue
    from orders
    group by customer_id, order_date, order_month

),

purchase_days_ordered as (

    select
        customer_id,
        purchase_date,
        purchase_month,
        orders,
        net_revenue,
        first_order_net_revenue,
        row_number() over (
            partition by customer_id order by purchase_date
        ) as purchase_day_number,
        lag(purchase_date) over (
            partition by customer_id order by purchase_date
        ) as previous_purchase_date
    from purchase_days

),

final as (

    select
        customer_id,
        purchase_date,
        purchase_month,
        cast(purchase_day_number as {{ dbt.type_int() }}) as purchase_day_number,
        previous_purchase_date,
        cast(
            {{ dbt.datediff('previous_purchase_date', 'purchase_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_previous_purchase,
        cast(orders as {{ dbt.type_int() }}) as orders,
        net_revenue,
        -- the customer's first valid order is on its first purchase day (0 on other days)
        first_order_net_revenue
    from purchase_days_ordered

)

select * from final
