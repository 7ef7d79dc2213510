-- The finance view of revenue (fct_acquisition_monthly, `all` rows: sales by order month,
-- returns by refund month) and the attributed view (fct_orders: returns on their order)
-- are the same money over the whole history, as long as no valid order's refund is dated
-- after as_of_date. Returns a row when the totals differ.
with

finance_view as (

    select sum(net_revenue) as net_revenue
    from {{ ref('fct_acquisition_monthly') }}
    where channel = 'all'

),

orders as (

    select
        order_id,
        net_revenue
    from {{ ref('fct_orders') }}
    where is_valid_order

),

late_returns as (

    -- returns booked after as_of_date are not in the finance view yet
    select sum(fct_returns.returns) as returns
    from {{ ref('fct_returns') }} as fct_returns
    cross join {{ ref('int_as_of_date') }} as as_of
    where fct_returns.is_valid_order and fct_returns.refund_date > as_of.as_of_date

),

attributed_view as (

    select sum(net_revenue) as net_revenue
    from orders

)

select
    finance_view.net_revenue as finance_net_revenue,
    attributed_view.net_revenue as attributed_net_revenue,
    late_returns.returns as late_returns
from finance_view
cross join attributed_view
cross join late_returns
where
    abs(
        coalesce(finance_view.net_revenue, 0)
        - coalesce(late_returns.returns, 0)
        - coalesce(attributed_view.net_revenue, 0)
    ) > 0.01
