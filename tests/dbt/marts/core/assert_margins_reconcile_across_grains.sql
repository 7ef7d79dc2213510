-- Margins add up across grains (issue 15): line COGS and CM1 -> the order's (null when any
-- line's cost is unknown), valid orders' CM1 / CM2 -> the customer's (null when any of its
-- valid orders has an unknown cost), valid orders with a known cost -> the month's margins
-- in fct_kpis_monthly (null exactly when the month's coverage is below var
-- min_cost_coverage), and the grand totals of the known-cost orders agree at every grain.
-- Returns one row per broken check.
with

lines_per_order as (

    select
        order_id,
        count(*) as lines,
        count(cogs) as costed_lines,
        sum(cogs) as cogs,
        sum(gross_margin) as gross_margin
    from {{ ref('fct_order_lines') }}
    group by order_id

),

orders as (

    select
        order_id,
        customer_id,
        order_month,
        is_valid_order,
        net_revenue,
        cogs,
        gross_margin,
        contribution_margin,
        has_known_cost
    from {{ ref('fct_orders') }}

),

valid_orders_per_customer as (

    select
        customer_id,
        count(*) as orders,
        count(gross_margin) as orders_with_gross_margin,
        sum(case when has_known_cost then 1 else 0 end) as known_cost_orders,
        sum(gross_margin) as gross_margin,
        sum(contribution_margin) as contribution_margin
    from orders
    where is_valid_order
    group by customer_id

),

valid_orders_per_month as (

    select
        order_month as month,
        sum(net_revenue) as net_revenue,
        sum(case when has_known_cost then net_revenue else 0 end) as net_revenue_covered,
        sum(case when has_known_cost then gross_margin else 0 end) as gross_margin,
        sum(case when has_known_cost then contribution_margin else 0 end)
            as contribution_margin
    from orders
    where is_valid_order
    group by order_month

),

customers as (

    select
        customer_id,
        gross_margin,
        contribution_margin
    from {{ ref('dim_customers') }}

),

months as (

    select
        month,
        gross_margin,
        contribution_margin,
        cost_coverage
    from {{ ref('fct_kpis_monthly') }}

),

checks as (

    select
        'order ' || orders.order_id || ': cogs / CM1 vs its lines' as check_name,
        case
            when lines_per_order.costed_lines < lines_per_order.lines
                then orders.cogs is not null or orders.gross_margin is not null
            else
                orders.cogs is null
                or abs(orders.cogs - lines_per_order.cogs) > 0.00001
                or abs(orders.gross_margin - lines_per_order.gross_margin) > 0.00001
        end as is_broken
    from orders
    inner join lines_per_order
        on orders.order_id = lines_per_order.order_id
    union all
    select
        'customer ' || customers.customer_id || ': CM1 / CM2 vs its valid orders' as check_name,
        case
            when valid_orders_per_customer.known_cost_orders < valid_orders_per_customer.orders
                then customers.contribution_margin is not null
            else
                customers.contribution_margin is null
                or abs(
                    customers.contribution_margin - valid_orders_per_customer.contribution_margin
                ) > 0.00001
        end
        or case
            when
                valid_orders_per_customer.orders_with_gross_margin
                < valid_orders_per_customer.orders
                then customers.gross_margin is not null
            else
                customers.gross_margin is null
                or abs(customers.gross_margin - valid_orders_per_customer.gross_margin)
                > 0.00001
        end as is_broken
    from customers
    inner join valid_orders_per_customer
        on customers.customer_id = valid_orders_per_customer.customer_id
    union all
    select
        'month ' || cast(months.month as {{ dbt.type_string() }})
        || ': margins vs its valid orders' as check_name,
        case
            when
                valid_orders_per_month.net_revenue_covered
                < {{ var('min_cost_coverage') }} * valid_orders_per_month.net_revenue
                then months.gross_margin is not null or months.contribution_margin is not null
            else
                months.gross_margin is null
                or abs(months.gross_margin - valid_orders_per_month.gross_margin) > 0.00001
                or abs(months.contribution_margin - valid_orders_per_month.contribution_margin)
                > 0.00001
                or abs(
                    months.cost_coverage
                    - cast(valid_orders_per_month.net_revenue_covered as {{ type_double() }})
                    / valid_orders_per_month.net_revenue
                ) > 0.000001
        end as is_broken
    from months
    inner join valid_orders_per_month
        on months.month = valid_orders_per_month.month
    where valid_orders_per_month.net_revenue > 0
    union all
    -- grand totals over the customers whose margins are all known: their lines, orders and
    -- customer rows carry the same CM1
    select
        'total CM1 of fully costed customers: lines vs orders vs customers' as check_name,
        abs(totals.line_gross_margin - totals.order_gross_margin) > 0.0001
        or abs(totals.order_gross_margin - totals.customer_gross_margin) > 0.0001 as is_broken
    from (
        select
            coalesce((
                select sum(fct_order_lines.gross_margin)
                from {{ ref('fct_order_lines') }} as fct_order_lines
                inner join customers
                    on fct_order_lines.customer_id = customers.customer_id
                where fct_order_lines.is_valid_order and customers.gross_margin is not null
            ), 0) as line_gross_margin,
            coalesce((
                select sum(orders.gross_margin)
                from orders
                inner join customers
                    on orders.customer_id = customers.customer_id
                where orders.is_valid_order and customers.gross_margin is not null
            ), 0) as order_gross_margin,
            coalesce((
                select sum(gross_margin)
                from customers
            ), 0) as customer_gross_margin
    ) as totals

)

select check_name
from checks
where coalesce(is_broken, true)
