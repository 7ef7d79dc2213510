-- Orders and net revenue of the complete cohort months add up to the valid orders placed
-- up to the last complete month (nothing lost or double counted by the spine).
with

cohort_months as (

    select
        sum(order_count) as order_count,
        sum(net_revenue) as net_revenue,
        max(calendar_month_end) as last_complete_month_end
    from {{ ref('fct_cohort_retention') }}
    where is_complete

),

orders as (

    select
        order_date,
        net_revenue
    from {{ ref('fct_orders') }}
    where is_valid_order

),

orders_in_complete_months as (

    select
        count(*) as order_count,
        sum(orders.net_revenue) as net_revenue
    from orders
    cross join cohort_months
    where orders.order_date <= cohort_months.last_complete_month_end

)

select
    cohort_months.order_count as mart_orders,
    orders_in_complete_months.order_count as valid_orders,
    cohort_months.net_revenue as mart_net_revenue,
    orders_in_complete_months.net_revenue as valid_net_revenue
from cohort_months
cross join orders_in_complete_months
where
    cohort_months.order_count != orders_in_complete_months.order_count
    or abs(cohort_months.net_revenue - orders_in_complete_months.net_revenue) > 0.01
