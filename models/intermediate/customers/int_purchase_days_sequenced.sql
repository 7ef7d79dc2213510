-- grain: one row per customer x calendar date with at least one valid order (a purchase
-- day). Same-day orders are one purchase occasion, so gaps between purchases are never 0.
-- customer_key: an integer key in customer id order (1 = the first customer id), so that
-- the per-customer work downstream groups, sorts and joins on integers, not on text ids.
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

customer_keys as (

    -- numbered on the narrow rows of the first purchase days (one per customer)
    select
        customer_id,
        row_number() over (order by customer_id) as customer_key
    from purchase_days_ordered
    where purchase_day_number = 1

),

final as (

    select
        purchase_days_ordered.customer_id,
        cast(customer_keys.customer_key as {{ dbt.type_int() }}) as customer_key,
        purchase_days_ordered.purchase_date,
        purchase_days_ordered.purchase_month,
        cast(purchase_days_ordered.purchase_day_number as {{ dbt.type_int() }})
            as purchase_day_number,
        purchase_days_ordered.previous_purchase_date,
        cast(
            {{ dbt.datediff(
                'purchase_days_ordered.previous_purchase_date',
                'purchase_days_ordered.purchase_date',
                'day',
            ) }} as {{ dbt.type_int() }}
        ) as days_since_previous_purchase,
        cast(purchase_days_ordered.orders as {{ dbt.type_int() }}) as orders,
        cast(purchase_days_ordered.net_revenue as {{ type_money() }}) as net_revenue,
        -- the customer's first valid order is on its first purchase day (0 on other days)
        cast(purchase_days_ordered.first_order_net_revenue as {{ type_money() }})
            as first_order_net_revenue
    from purchase_days_ordered
    inner join customer_keys
        on purchase_days_ordered.customer_id = customer_keys.customer_id

)

select * from final
