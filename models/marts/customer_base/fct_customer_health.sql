-- grain: one row per calendar month: a snapshot of the customer base at the month end
-- (as_of_date for the current, incomplete month) with the month's flows. The stocks and
-- flows are the 'all' rows of int_segment_months_counted (the rows fct_customer_base_monthly
-- shows); first vs repeat orders and purchase delays come from int_purchase_months_summarised.
with

base as (

    select
        month,
        snapshot_date,
        is_complete,
        customers_to_date,
        active_customers_12m,
        inactive_customers,
        one_order_customers,
        repeat_customers,
        active_high_aov_customers,
        buyers,
        new_customers,
        net_revenue_to_date,
        orders,
        orders_12m,
        -- its ratios, each computed once (some are published under two names below)
        {{ safe_divide('active_customers_12m', 'customers_to_date') }} as active_share,
        {{ safe_divide('inactive_customers', 'customers_to_date') }} as inactive_share,
        {{ safe_divide('repeat_customers', 'customers_to_date') }} as repeat_customer_share,
        {{ safe_divide('active_high_aov_customers', 'active_customers_12m') }}
            as active_high_aov_share,
        {{ safe_divide('new_customers', 'buyers') }} as new_customer_share,
        {{ safe_divide('net_revenue_to_date', 'customers_to_date') }} as average_customer_value,
        {{ safe_divide('orders_12m', 'active_customers_12m') }}
            as orders_per_active_customer_12m
    from {{ ref('int_segment_months_counted') }}
    where segment_type = 'all'

),

purchases as (

    select
        month,
        purchase_gaps_12m,
        median_days_between_purchases_12m,
        first_orders,
        first_orders_net_revenue,
        repeat_orders,
        repeat_orders_net_revenue
    from {{ ref('int_purchase_months_summarised') }}

),

final as (

    select
        -- keys
        base.month,
        base.snapshot_date,
        base.is_complete,

        -- customer base at the snapshot, and shares of it (numerators and denominators)
        base.customers_to_date,
        base.active_customers_12m,
        base.inactive_customers,
        base.one_order_customers,
        base.repeat_customers,
        base.active_high_aov_customers,
        cast({{ var('health_aov_threshold') }} as {{ type_double() }}) as health_aov_threshold,
        base.active_share,
        base.inactive_share,
        base.repeat_customer_share,
        base.active_high_aov_share,

        -- the month's buyers
        base.buyers,
        base.new_customers,
        base.new_customer_share,

        -- value and frequency
        cast(base.net_revenue_to_date as {{ type_money() }}) as net_revenue_to_date,
        base.average_customer_value,
        base.orders,
        base.orders_12m,
        base.orders_per_active_customer_12m,
        purchases.purchase_gaps_12m,
        purchases.median_days_between_purchases_12m,

        -- first vs repeat orders of the month
        purchases.first_orders,
        purchases.first_orders_net_revenue,
        {{ safe_divide('purchases.first_orders_net_revenue', 'purchases.first_orders') }}
            as first_order_aov,
        purchases.repeat_orders,
        purchases.repeat_orders_net_revenue,
        {{ safe_divide('purchases.repeat_orders_net_revenue', 'purchases.repeat_orders') }}
            as repeat_order_aov,

        -- the 12-month base under names that cannot be read as the lifecycle status (the
        -- former active_* / inactive_* names above are kept for consumers): the same values
        base.active_customers_12m as buyers_12m,
        base.inactive_customers as non_buyers_12m,
        base.active_share as buyers_12m_share,
        base.inactive_share as non_buyers_12m_share,
        base.active_high_aov_customers as high_aov_buyers_12m,
        base.active_high_aov_share as high_aov_buyers_12m_share,
        base.orders_per_active_customer_12m as orders_per_buyer_12m
    from base
    inner join purchases
        on base.month = purchases.month

)

select * from final
