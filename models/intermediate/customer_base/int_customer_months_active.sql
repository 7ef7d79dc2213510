-- grain: one row per customer x calendar month with at least one valid order (a buyer
-- month): how the buyer is classified that month (new / returning / reactivated), the
-- customer's state at the month end (orders and value to date, purchase rhythm) and how long
-- that state lasts (until the next buyer month; active until the window lapses).
-- Keyed, grouped, sorted and joined on the integer customer_key (int_purchase_days_sequenced),
-- as its reader int_segment_months_counted joins the segments (no text customer_id).
{%- set window_months = var('reactivation_window_months') | int %}
with

purchase_days as (

    select
        customer_key,
        purchase_month,
        purchase_day_number,
        days_since_previous_purchase,
        orders,
        net_revenue
    from {{ ref('int_purchase_days_sequenced') }}

),

buyer_months as (

    select
        customer_key,
        purchase_month as month,
        count(*) as purchase_days,
        sum(orders) as orders,
        sum(net_revenue) as net_revenue,
        min(purchase_day_number) = 1 as is_new_customer
    from purchase_days
    group by customer_key, purchase_month

),

buyer_months_ordered as (

    select
        customer_key,
        month,
        purchase_days,
        orders,
        net_revenue,
        is_new_customer,
        lag(month) over (partition by customer_key order by month) as previous_buyer_month,
        lead(month) over (partition by customer_key order by month) as next_buyer_month,
        sum(orders) over (
            partition by customer_key
            order by month
            rows between unbounded preceding and current row
        ) as orders_to_date,
        sum(net_revenue) over (
            partition by customer_key
            order by month
            rows between unbounded preceding and current row
        ) as net_revenue_to_date
    from buyer_months

),

gaps_to_date as (

    -- every gap between consecutive purchase days up to each buyer month's end, ranked
    select
        buyer_months.customer_key,
        buyer_months.month,
        purchase_days.days_since_previous_purchase as gap_days,
        row_number() over (
            partition by buyer_months.customer_key, buyer_months.month
            order by purchase_days.days_since_previous_purchase
        ) as gap_rank,
        count(*) over (
            partition by buyer_months.customer_key, buyer_months.month
        ) as gaps
    from buyer_months
    inner join purchase_days
        on
            buyer_months.customer_key = purchase_days.customer_key
            and buyer_months.month >= purchase_days.purchase_month
    where purchase_days.days_since_previous_purchase is not null

),

median_gaps_to_date as (

    -- median = the middle gap (odd count) or the mean of the two middle gaps (even count):
    -- ranks r with n <= 2r <= n + 2, in integer arithmetic (portable)
    select
        customer_key,
        month,
        max(gaps) as purchase_gaps_to_date,
        avg(cast(gap_days as {{ type_double() }})) as median_gap_days_to_date
    from gaps_to_date
    where 2 * gap_rank >= gaps and 2 * gap_rank <= gaps + 2
    group by customer_key, month

),

classified as (

    select
        buyer_months_ordered.customer_key,
        buyer_months_ordered.month,
        buyer_months_ordered.purchase_days,
        buyer_months_ordered.orders,
        buyer_months_ordered.net_revenue,
        buyer_months_ordered.is_new_customer,
        buyer_months_ordered.previous_buyer_month,
        {{ dbt.datediff(
            'buyer_months_ordered.previous_buyer_month', 'buyer_months_ordered.month', 'month'
        ) }} as months_since_previous_buyer_month,
        buyer_months_ordered.next_buyer_month,
        cast(
            {{ dbt.dateadd('month', window_months, 'buyer_months_ordered.month') }} as date
        ) as lapse_month,
        buyer_months_ordered.orders_to_date,
        buyer_months_ordered.net_revenue_to_date,
        coalesce(median_gaps_to_date.purchase_gaps_to_date, 0) as purchase_gaps_to_date,
        median_gaps_to_date.median_gap_days_to_date
    from buyer_months_ordered
    left join median_gaps_to_date
        on
            buyer_months_ordered.customer_key = median_gaps_to_date.customer_key
            and buyer_months_ordered.month = median_gaps_to_date.month

),

final as (

    select
        -- ids
        customer_key,
        month,

        -- the month's purchases
        cast(purchase_days as {{ dbt.type_int() }}) as purchase_days,
        cast(orders as {{ dbt.type_int() }}) as orders,
        cast(net_revenue as {{ type_money() }}) as net_revenue,

        -- buyer classification (previous valid order strictly before the month)
        case
            when is_new_customer then 'new'
            when months_since_previous_buyer_month <= {{ window_months }} then 'returning'
            else 'reactivated'
        end as buyer_type,
        previous_buyer_month,
        cast(months_since_previous_buyer_month as {{ dbt.type_int() }})
            as months_since_previous_buyer_month,

        -- state at the month end
        cast(orders_to_date as {{ dbt.type_int() }}) as orders_to_date,
        orders_to_date >= 2 as is_repeat_customer,
        cast(net_revenue_to_date as {{ type_money() }}) as net_revenue_to_date,
        cast(net_revenue_to_date / orders_to_date as {{ type_double() }})
            as average_order_value_to_date,
        cast(purchase_gaps_to_date as {{ dbt.type_int() }}) as purchase_gaps_to_date,
        median_gap_days_to_date,
        case
            when purchase_gaps_to_date = 0 then 'one_purchase'
            when purchase_gaps_to_date < {{ var('purchase_rhythm_min_gaps') }} then 'unclassified'
            when median_gap_days_to_date < {{ var('twice_a_year_min_gap_days') }} then 'frequent'
            when median_gap_days_to_date <= {{ var('twice_a_year_max_gap_days') }}
                then 'twice_a_year'
            else 'infrequent'
        end as purchase_rhythm,

        -- how long the state lasts: until the next buyer month (null = still in it); active
        -- until the earlier of that and the lapse month (this month + the window)
        next_buyer_month,
        lapse_month,
        case
            when next_buyer_month is not null and next_buyer_month < lapse_month
                then next_buyer_month
            else lapse_month
        end as active_until_month
    from classified

)

select * from final
