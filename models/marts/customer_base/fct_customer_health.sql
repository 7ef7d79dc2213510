-- grain: one row per calendar month: a snapshot of the customer base at the month end
-- (as_of_date for the current, incomplete month) with the month's flows.
{%- set window_months = var('reactivation_window_months') | int %}
with

months as (

    select
        month,
        snapshot_date,
        is_complete
    from {{ ref('int_months_spined') }}

),

customer_months as (

    select
        customer_id,
        month,
        orders,
        net_revenue,
        buyer_type,
        is_repeat_customer,
        average_order_value_to_date,
        next_buyer_month,
        active_until_month
    from {{ ref('int_customer_months_active') }}

),

purchase_days as (

    select
        purchase_month,
        purchase_day_number,
        days_since_previous_purchase,
        orders,
        net_revenue,
        first_order_net_revenue
    from {{ ref('int_purchase_days_sequenced') }}

),

buyers_counted as (

    select
        month,
        count(*) as buyers,
        sum(case when buyer_type = 'new' then 1 else 0 end) as new_customers,
        sum(orders) as orders,
        sum(net_revenue) as net_revenue
    from customer_months
    group by month

),

orders_by_sequence as (

    -- first orders (sequence 1: on each customer's first purchase day) vs repeat orders
    select
        purchase_month,
        sum(case when purchase_day_number = 1 then 1 else 0 end) as first_orders,
        sum(first_order_net_revenue) as first_orders_net_revenue,
        sum(orders) - sum(case when purchase_day_number = 1 then 1 else 0 end) as repeat_orders,
        sum(net_revenue) - sum(first_order_net_revenue) as repeat_orders_net_revenue
    from purchase_days
    group by purchase_month

),

status_changes as (

    -- same running-sum technique as fct_customer_base_monthly: +1 when a buyer month's
    -- state starts, -1 when it ends (next buyer month) or stops being active
    select
        month as change_month,
        1 as customers_change,
        1 as active_change,
        case when is_repeat_customer then 1 else 0 end as repeat_change,
        case
            when average_order_value_to_date >= {{ var('health_aov_threshold') }} then 1 else 0
        end as active_high_aov_change
    from customer_months
    union all
    select
        next_buyer_month as change_month,
        -1 as customers_change,
        0 as active_change,
        case when is_repeat_customer then -1 else 0 end as repeat_change,
        0 as active_high_aov_change
    from customer_months
    where next_buyer_month is not null
    union all
    select
        active_until_month as change_month,
        0 as customers_change,
        -1 as active_change,
        0 as repeat_change,
        case
            when average_order_value_to_date >= {{ var('health_aov_threshold') }} then -1 else 0
        end as active_high_aov_change
    from customer_months

),

status_changes_per_month as (

    select
        change_month,
        sum(customers_change) as customers_change,
        sum(active_change) as active_change,
        sum(repeat_change) as repeat_change,
        sum(active_high_aov_change) as active_high_aov_change
    from status_changes
    group by change_month

),

gaps_per_month as (

    -- purchase delays as a histogram (integer days): the rolling median below works on
    -- counts per day value, so its cost does not grow with the number of orders
    select
        purchase_month,
        days_since_previous_purchase as gap_days,
        count(*) as gaps
    from purchase_days
    where days_since_previous_purchase is not null
    group by purchase_month, days_since_previous_purchase

),

gaps_in_window as (

    -- gaps of purchases placed in the month or the window - 1 months before it
    select
        months.month,
        gaps_per_month.gap_days,
        sum(gaps_per_month.gaps) as gaps
    from months
    inner join gaps_per_month
        on
            months.month >= gaps_per_month.purchase_month
            and {{ dbt.dateadd('month', -window_months, 'months.month') }}
            < gaps_per_month.purchase_month
    group by months.month, gaps_per_month.gap_days

),

gaps_cumulated as (

    select
        month,
        gap_days,
        gaps,
        sum(gaps) over (
            partition by month order by gap_days rows between unbounded preceding and current row
        ) as gaps_up_to_value,
        sum(gaps) over (partition by month) as gaps_total
    from gaps_in_window

),

median_gaps as (

    -- a value covers ranks (up_to - gaps, up_to]; the median is the mean of the values at
    -- ranks ceil(n / 2) and floor(n / 2) + 1 (the same rank when n is odd)
    select
        month,
        max(gaps_total) as purchase_gaps_12m,
        (
            max(
                case
                    when
                        2 * (gaps_up_to_value - gaps) < gaps_total
                        and 2 * gaps_up_to_value >= gaps_total
                        then gap_days
                end
            )
            + max(
                case
                    when
                        2 * (gaps_up_to_value - gaps) <= gaps_total
                        and 2 * gaps_up_to_value > gaps_total
                        then gap_days
                end
            )
        ) / 2.0 as median_days_between_purchases_12m
    from gaps_cumulated
    group by month

),

months_counted as (

    select
        months.month,
        months.snapshot_date,
        months.is_complete,
        coalesce(buyers_counted.buyers, 0) as buyers,
        coalesce(buyers_counted.new_customers, 0) as new_customers,
        coalesce(buyers_counted.orders, 0) as orders,
        coalesce(orders_by_sequence.first_orders, 0) as first_orders,
        coalesce(orders_by_sequence.first_orders_net_revenue, 0) as first_orders_net_revenue,
        coalesce(orders_by_sequence.repeat_orders, 0) as repeat_orders,
        coalesce(orders_by_sequence.repeat_orders_net_revenue, 0) as repeat_orders_net_revenue,
        coalesce(median_gaps.purchase_gaps_12m, 0) as purchase_gaps_12m,
        median_gaps.median_days_between_purchases_12m,
        sum(coalesce(buyers_counted.orders, 0)) over (
            order by months.month rows between {{ window_months - 1 }} preceding and current row
        ) as orders_12m,
        sum(coalesce(buyers_counted.net_revenue, 0)) over (
            order by months.month rows between unbounded preceding and current row
        ) as net_revenue_to_date,
        sum(coalesce(status_changes_per_month.customers_change, 0)) over (
            order by months.month rows between unbounded preceding and current row
        ) as customers_to_date,
        sum(coalesce(status_changes_per_month.active_change, 0)) over (
            order by months.month rows between unbounded preceding and current row
        ) as active_customers_12m,
        sum(coalesce(status_changes_per_month.repeat_change, 0)) over (
            order by months.month rows between unbounded preceding and current row
        ) as repeat_customers,
        sum(coalesce(status_changes_per_month.active_high_aov_change, 0)) over (
            order by months.month rows between unbounded preceding and current row
        ) as active_high_aov_customers
    from months
    left join buyers_counted
        on months.month = buyers_counted.month
    left join orders_by_sequence
        on months.month = orders_by_sequence.purchase_month
    left join median_gaps
        on months.month = median_gaps.month
    left join status_changes_per_month
        on months.month = status_changes_per_month.change_month

),

final as (

    select
        -- keys
        month,
        snapshot_date,
        is_complete,

        -- customer base at the snapshot
        cast(customers_to_date as {{ dbt.type_int() }}) as customers_to_date,
        cast(active_customers_12m as {{ dbt.type_int() }}) as active_customers_12m,
        cast(customers_to_date - active_customers_12m as {{ dbt.type_int() }})
            as inactive_customers,
        cast(customers_to_date - repeat_customers as {{ dbt.type_int() }})
            as one_order_customers,
        cast(repeat_customers as {{ dbt.type_int() }}) as repeat_customers,
        cast(active_high_aov_customers as {{ dbt.type_int() }}) as active_high_aov_customers,
        cast({{ var('health_aov_threshold') }} as {{ type_double() }}) as health_aov_threshold,

        -- shares of the base (numerators and denominators above)
        {{ safe_divide('active_customers_12m', 'customers_to_date') }} as active_share,
        {{ safe_divide('customers_to_date - active_customers_12m', 'customers_to_date') }}
            as inactive_share,
        {{ safe_divide('repeat_customers', 'customers_to_date') }} as repeat_customer_share,
        {{ safe_divide('active_high_aov_customers', 'active_customers_12m') }}
            as active_high_aov_share,

        -- the month's buyers
        cast(buyers as {{ dbt.type_int() }}) as buyers,
        cast(new_customers as {{ dbt.type_int() }}) as new_customers,
        {{ safe_divide('new_customers', 'buyers') }} as new_customer_share,

        -- value and frequency
        cast(net_revenue_to_date as {{ type_money() }}) as net_revenue_to_date,
        {{ safe_divide('net_revenue_to_date', 'customers_to_date') }} as average_customer_value,
        cast(orders as {{ dbt.type_int() }}) as orders,
        cast(orders_12m as {{ dbt.type_int() }}) as orders_12m,
        {{ safe_divide('orders_12m', 'active_customers_12m') }} as orders_per_active_customer_12m,
        cast(purchase_gaps_12m as {{ dbt.type_int() }}) as purchase_gaps_12m,
        cast(median_days_between_purchases_12m as {{ type_double() }})
            as median_days_between_purchases_12m,

        -- first vs repeat orders of the month
        cast(first_orders as {{ dbt.type_int() }}) as first_orders,
        cast(first_orders_net_revenue as {{ type_money() }}) as first_orders_net_revenue,
        {{ safe_divide('first_orders_net_revenue', 'first_orders') }} as first_order_aov,
        cast(repeat_orders as {{ dbt.type_int() }}) as repeat_orders,
        cast(repeat_orders_net_revenue as {{ type_money() }}) as repeat_orders_net_revenue,
        {{ safe_divide('repeat_orders_net_revenue', 'repeat_orders') }} as repeat_order_aov,

        -- the 12-month base under names that cannot be read as the lifecycle status (the
        -- former active_* / inactive_* names above are kept for consumers)
        cast(active_customers_12m as {{ dbt.type_int() }}) as buyers_12m,
        cast(customers_to_date - active_customers_12m as {{ dbt.type_int() }}) as non_buyers_12m,
        {{ safe_divide('active_customers_12m', 'customers_to_date') }} as buyers_12m_share,
        {{ safe_divide('customers_to_date - active_customers_12m', 'customers_to_date') }}
            as non_buyers_12m_share,
        cast(active_high_aov_customers as {{ dbt.type_int() }}) as high_aov_buyers_12m,
        {{ safe_divide('active_high_aov_customers', 'active_customers_12m') }}
            as high_aov_buyers_12m_share,
        {{ safe_divide('orders_12m', 'active_customers_12m') }} as orders_per_buyer_12m
    from months_counted

)

select * from final
