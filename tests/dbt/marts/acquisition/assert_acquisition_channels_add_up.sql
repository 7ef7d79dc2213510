-- Additive columns of fct_acquisition_monthly: per month, the channel rows add up to the
-- `all` row (revenue in the finance view, first-order revenue, and the 182 / 365-day
-- cohort revenue of mature months). Returns one row per broken month.
with

rows_signed as (

    -- the `all` row counts +1, channel rows -1: every total must come back to 0
    select
        month,
        net_sales_before_returns,
        returns,
        net_revenue,
        first_order_net_revenue,
        coalesce(cohort_net_revenue_182d, 0) as cohort_net_revenue_182d,
        coalesce(cohort_net_revenue_365d, 0) as cohort_net_revenue_365d,
        case when channel = 'all' then 1 else -1 end as row_sign
    from {{ ref('fct_acquisition_monthly') }}

),

totals as (

    select
        month,
        sum(row_sign * net_sales_before_returns) as net_sales_gap,
        sum(row_sign * returns) as returns_gap,
        sum(row_sign * net_revenue) as net_revenue_gap,
        sum(row_sign * first_order_net_revenue) as first_order_gap,
        sum(row_sign * cohort_net_revenue_182d) as revenue_182d_gap,
        sum(row_sign * cohort_net_revenue_365d) as revenue_365d_gap
    from rows_signed
    group by month

)

select *
from totals
where
    abs(net_sales_gap) > 0.01
    or abs(returns_gap) > 0.01
    or abs(net_revenue_gap) > 0.01
    or abs(first_order_gap) > 0.01
    or abs(revenue_182d_gap) > 0.01
    or abs(revenue_365d_gap) > 0.01
