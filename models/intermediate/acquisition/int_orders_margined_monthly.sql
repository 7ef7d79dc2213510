-- grain: one row per order month: net revenue, CM1 and CM2 of the month's valid orders
-- (attributed-to-order view: each order's returns reduce its own month, as in the order
-- and customer margins, so the month sums reconcile with fct_orders) and the share of net
-- revenue with a known cost (doc blocks cost_coverage, gross_margin, contribution_margin).
-- Margin sums add the orders with a known cost only; fct_kpis_monthly nulls them below var
-- min_cost_coverage.
with

orders as (

    select
        order_month,
        net_revenue,
        gross_margin,
        contribution_margin,
        has_known_cost
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

final as (

    select
        order_month as month,
        cast(sum(net_revenue) as {{ type_money() }}) as net_revenue,
        cast(
            sum(case when has_known_cost then net_revenue else 0 end) as {{ type_money() }}
        ) as net_revenue_covered,
        cast(
            sum(case when has_known_cost then gross_margin else 0 end) as {{ type_money() }}
        ) as gross_margin_covered,
        cast(
            sum(case when has_known_cost then contribution_margin else 0 end)
            as {{ type_money() }}
        ) as contribution_margin_covered,
        {{ safe_divide(
            'sum(case when has_known_cost then net_revenue else 0 end)', 'sum(net_revenue)'
        ) }} as cost_coverage
    from orders
    group by order_month

)

select * from final
