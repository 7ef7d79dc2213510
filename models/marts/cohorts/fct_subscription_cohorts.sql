-- grain: one row per subscription cohort month (month of the customer's first valid
-- subscription order) x months since that month (0 .. the as_of_date month): retention and
-- cumulative net revenue (LTV) of subscribers counted from their first subscription order.
-- Orders before the first subscription order are left out; months not fully elapsed by
-- as_of_date have null metrics.
with

orders as (

    select
        customer_id,
        ordered_at,
        order_date,
        order_month,
        purchase_type,
        net_revenue
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

subscribers as (

    select
        customer_id,
        first_subscription_at
    from {{ ref('int_customers_enriched') }}
    where is_subscriber

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

month_offsets as (

    -- 0 .. 999 months
    {{ number_spine_rows('months_since_first_subscription') }}

),

subscriber_orders as (

    -- each subscriber's valid orders from its first subscription order on
    select
        orders.customer_id,
        orders.ordered_at,
        orders.order_month,
        orders.purchase_type,
        orders.net_revenue,
        orders.ordered_at = subscribers.first_subscription_at
        and orders.purchase_type = 'subscription' as is_first_subscription_order
    from orders
    inner join subscribers
        on
            orders.customer_id = subscribers.customer_id
            and orders.ordered_at >= subscribers.first_subscription_at

),

subscribers_dated as (

    select
        customer_id,
        min(order_month) as subscription_cohort_month
    from subscriber_orders
    where is_first_subscription_order
    group by customer_id

),

cohorts_sized as (

    select
        subscription_cohort_month,
        count(*) as subscribers
    from subscribers_dated
    group by subscription_cohort_month

),

cohort_months_spined as (

    select
        cohorts_sized.subscription_cohort_month,
        cohorts_sized.subscribers,
        month_offsets.months_since_first_subscription,
        as_of.as_of_date
    from cohorts_sized
    cross join as_of
    inner join month_offsets
        on
            {{ dbt.datediff(
                'cohorts_sized.subscription_cohort_month', month_start('as_of.as_of_date'), 'month'
            ) }} >= month_offsets.months_since_first_subscription

),

activity_per_cohort_month as (

    select
        subscribers_dated.subscription_cohort_month,
        {{ dbt.datediff(
            'subscribers_dated.subscription_cohort_month', 'subscriber_orders.order_month', 'month'
        ) }} as months_since_first_subscription,
        count(distinct subscriber_orders.customer_id) as active_customers,
        count(
            distinct case
                when subscriber_orders.purchase_type = 'subscription'
                    then subscriber_orders.customer_id
            end
        ) as subscription_active_customers,
        sum(subscriber_orders.net_revenue) as net_revenue
    from subscriber_orders
    inner join subscribers_dated
        on subscriber_orders.customer_id = subscribers_dated.customer_id
    group by
        subscribers_dated.subscription_cohort_month,
        {{ dbt.datediff(
            'subscribers_dated.subscription_cohort_month', 'subscriber_orders.order_month', 'month'
        ) }}

),

cohort_months_accumulated as (

    select
        cohort_months_spined.subscription_cohort_month,
        cohort_months_spined.months_since_first_subscription,
        cohort_months_spined.subscribers,
        cohort_months_spined.as_of_date,
        {{ month_window_is_complete(
            dbt.dateadd(
                'month',
                'cohort_months_spined.months_since_first_subscription',
                'cohort_months_spined.subscription_cohort_month'
            ),
            1,
            'cohort_months_spined.as_of_date'
        ) }} as is_complete,
        coalesce(activity_per_cohort_month.active_customers, 0) as active_customers,
        coalesce(activity_per_cohort_month.subscription_active_customers, 0)
            as subscription_active_customers,
        coalesce(activity_per_cohort_month.net_revenue, 0) as net_revenue,
        sum(coalesce(activity_per_cohort_month.net_revenue, 0)) over (
            partition by cohort_months_spined.subscription_cohort_month
            order by cohort_months_spined.months_since_first_subscription
            rows between unbounded preceding and current row
        ) as cumulative_net_revenue
    from cohort_months_spined
    left join activity_per_cohort_month
        on
            cohort_months_spined.subscription_cohort_month
            = activity_per_cohort_month.subscription_cohort_month
            and cohort_months_spined.months_since_first_subscription
            = activity_per_cohort_month.months_since_first_subscription

),

final as (

    select
        -- keys
        subscription_cohort_month,
        cast(months_since_first_subscription as {{ dbt.type_int() }})
            as months_since_first_subscription,
        as_of_date,
        is_complete,
        cast(subscribers as {{ dbt.type_int() }}) as subscribers,

        -- retention: any valid order, and a subscription order, in month k (null metrics
        -- until month k has fully elapsed)
        {{ null_until_complete('active_customers', dbt.type_int()) }} as active_customers,
        {{ null_until_complete(
            'cast(active_customers as ' ~ type_double() ~ ') / subscribers'
        ) }} as retention_rate,
        {{ null_until_complete('subscription_active_customers', dbt.type_int()) }}
            as subscription_active_customers,
        {{ null_until_complete(
            'cast(subscription_active_customers as ' ~ type_double() ~ ') / subscribers'
        ) }} as subscription_retention_rate,

        -- value from the first subscription order (included)
        {{ null_until_complete('net_revenue', type_money()) }} as net_revenue,
        {{ null_until_complete('cumulative_net_revenue', type_money()) }}
            as cumulative_net_revenue,
        {{ null_until_complete('cumulative_net_revenue / subscribers', type_double()) }}
            as ltv_per_subscriber
    from cohort_months_accumulated

)

select * from final
