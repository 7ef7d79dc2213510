-- grain: one row per calendar month of int_months_spined: the month's first orders (on each
-- customer's first purchase day) vs repeat orders with their net revenue, and the median
-- delay between consecutive purchase days placed in the month or the window - 1 months
-- before it (read by fct_customer_health).
{%- set window_months = var('reactivation_window_months') | int %}
with

months as (

    select month
    from {{ ref('int_months_spined') }}

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

final as (

    select
        months.month,
        cast(coalesce(orders_by_sequence.first_orders, 0) as {{ dbt.type_int() }})
            as first_orders,
        cast(
            coalesce(orders_by_sequence.first_orders_net_revenue, 0) as {{ type_money() }}
        ) as first_orders_net_revenue,
        cast(coalesce(orders_by_sequence.repeat_orders, 0) as {{ dbt.type_int() }})
            as repeat_orders,
        cast(
            coalesce(orders_by_sequence.repeat_orders_net_revenue, 0) as {{ type_money() }}
        ) as repeat_orders_net_revenue,
        cast(coalesce(median_gaps.purchase_gaps_12m, 0) as {{ dbt.type_int() }})
            as purchase_gaps_12m,
        cast(median_gaps.median_days_between_purchases_12m as {{ type_double() }})
            as median_days_between_purchases_12m
    from months
    left join orders_by_sequence
        on months.month = orders_by_sequence.purchase_month
    left join median_gaps
        on months.month = median_gaps.month

)

select * from final
