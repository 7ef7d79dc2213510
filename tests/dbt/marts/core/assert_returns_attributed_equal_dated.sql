-- Refunds attributed to orders (fct_orders, fct_order_lines) and dated by refund date
-- (fct_returns) are two views of the same money: their totals must agree, and together
-- they hold every refunded euro that was not quarantined.
with

order_view as (

    select
        sum(returns) as returns,
        sum(refund_excess) as refund_excess
    from {{ ref('fct_orders') }}

),

line_view as (

    select
        sum(returns) as returns,
        sum(refund_excess) as refund_excess
    from {{ ref('fct_order_lines') }}

),

dated_view as (

    select
        sum(returns) as returns,
        sum(refund_excess) as refund_excess
    from {{ ref('fct_returns') }}

),

rejected_refunds as (

    select refund_id
    from {{ ref('int_refunds_rejected') }}

),

staged_refunds as (

    -- every staged refund except the quarantined ones
    select sum(refunds.refund_amount) as refunded_amount
    from {{ ref('stg_shop__refunds') }} as refunds
    left join rejected_refunds
        on refunds.refund_id = rejected_refunds.refund_id
    where rejected_refunds.refund_id is null

),

dated_refunds as (

    select sum(refunded_amount) as refunded_amount
    from {{ ref('fct_returns') }}

)

select
    coalesce(order_view.returns, 0) as order_view_returns,
    coalesce(line_view.returns, 0) as line_view_returns,
    coalesce(dated_view.returns, 0) as dated_view_returns,
    coalesce(staged_refunds.refunded_amount, 0) as staged_refunded,
    coalesce(dated_refunds.refunded_amount, 0) as dated_refunded
from order_view
cross join line_view
cross join dated_view
cross join staged_refunds
cross join dated_refunds
where
    abs(coalesce(order_view.returns, 0) - coalesce(dated_view.returns, 0)) > 0.01
    -- line view misses only order-level refunds on orders without lines (all excess)
    or abs(coalesce(line_view.returns, 0) - coalesce(dated_view.returns, 0)) > 0.01
    or abs(coalesce(order_view.refund_excess, 0) - coalesce(dated_view.refund_excess, 0)) > 0.01
    or abs(coalesce(staged_refunds.refunded_amount, 0) - coalesce(dated_refunds.refunded_amount, 0))
    > 0.01
