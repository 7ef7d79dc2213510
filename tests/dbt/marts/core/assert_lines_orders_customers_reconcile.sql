-- The revenue ladder adds up across grains: lines -> orders (every order) and valid
-- orders -> customers. Returns one row per broken total.
with

line_totals as (

    select
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(gifted_value) as gifted_value,
        sum(net_revenue) as net_revenue
    from {{ ref('fct_order_lines') }}

),

order_totals as (

    select
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(gifted_value) as gifted_value,
        -- order-level refunds on line-less orders are all excess, so net agrees too
        sum(net_revenue) as net_revenue,
        sum(case when is_valid_order then net_revenue else 0 end) as valid_net_revenue,
        sum(case when is_valid_order then 1 else 0 end) as valid_orders,
        count(distinct case when is_valid_order then customer_id end) as valid_customers
    from {{ ref('fct_orders') }}

),

customer_totals as (

    select
        sum(net_revenue) as net_revenue,
        sum(order_count) as order_count,
        count(*) as customers
    from {{ ref('dim_customers') }}

),

checks as (

    select
        'gross_sales lines vs orders' as check_name,
        abs(line_totals.gross_sales - order_totals.gross_sales) > 0.01 as is_broken
    from line_totals cross join order_totals
    union all
    select
        'discounts lines vs orders' as check_name,
        abs(line_totals.discounts - order_totals.discounts) > 0.01 as is_broken
    from line_totals cross join order_totals
    union all
    select
        'gifted_value lines vs orders' as check_name,
        abs(line_totals.gifted_value - order_totals.gifted_value) > 0.01 as is_broken
    from line_totals cross join order_totals
    union all
    select
        'net_revenue lines vs orders' as check_name,
        abs(line_totals.net_revenue - order_totals.net_revenue) > 0.01 as is_broken
    from line_totals cross join order_totals
    union all
    select
        'net_revenue valid orders vs customers' as check_name,
        abs(order_totals.valid_net_revenue - customer_totals.net_revenue) > 0.01 as is_broken
    from order_totals cross join customer_totals
    union all
    select
        'valid orders vs customer order counts' as check_name,
        order_totals.valid_orders != customer_totals.order_count as is_broken
    from order_totals cross join customer_totals
    union all
    select
        'customers with a valid order vs dim_customers' as check_name,
        order_totals.valid_customers != customer_totals.customers as is_broken
    from order_totals cross join customer_totals

)

select check_name
from checks
where is_broken
