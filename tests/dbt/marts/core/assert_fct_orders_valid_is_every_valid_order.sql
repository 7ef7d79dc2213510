-- fct_orders_valid holds exactly the valid orders of fct_orders: same count, same net
-- revenue, no invalid row. Fails with one row when any differs.
with

view_totals as (

    select
        count(*) as orders,
        coalesce(sum(net_revenue), 0) as net_revenue,
        sum(case when is_valid_order then 0 else 1 end) as invalid_orders
    from {{ ref('fct_orders_valid') }}

),

mart_totals as (

    select
        count(*) as orders,
        coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('fct_orders') }}
    where is_valid_order

),

final as (

    select
        view_totals.orders as view_orders,
        mart_totals.orders as mart_orders,
        view_totals.invalid_orders
    from view_totals
    cross join mart_totals
    where
        view_totals.orders != mart_totals.orders
        or view_totals.net_revenue != mart_totals.net_revenue
        or view_totals.invalid_orders > 0

)

select * from final
