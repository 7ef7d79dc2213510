-- grain: one row per subscription cohort month (month of the customer's first valid
-- subscription order) x months since that month (0 .. the as_of_date month): retention and
-- cumulative net revenue (LTV) of subscribers counted from their first subscription order.
-- Orders before the first subscription order are left out; months not fully elapsed by
-- as_of_date have null metrics.
with

cohort_months as (

    -- the cohort-months hub, subscription cohorts (month of the first valid subscription
    -- order; orders before it left out)
    select
        cohort_month,
        months_since_cohort_month,
        as_of_date,
        is_complete,
        cohort_size,
        active_customers,
        subscription_active_customers,
        net_revenue,
        cumulative_net_revenue
    from {{ ref('int_cohort_months_accumulated') }}
    where cohort_type = 'first_subscription'

),

final as (

    select
        -- keys
        cohort_month as subscription_cohort_month,
        cast(months_since_cohort_month as {{ dbt.type_int() }})
            as months_since_first_subscription,
        as_of_date,
        is_complete,
        cast(cohort_size as {{ dbt.type_int() }}) as subscribers,

        -- retention: any valid order, and a subscription order, in month k (null metrics
        -- until month k has fully elapsed)
        {{ null_until_complete('active_customers', dbt.type_int()) }} as active_customers,
        {{ null_until_complete(
            'cast(active_customers as ' ~ type_double() ~ ') / cohort_size'
        ) }} as retention_rate,
        {{ null_until_complete('subscription_active_customers', dbt.type_int()) }}
            as subscription_active_customers,
        {{ null_until_complete(
            'cast(subscription_active_customers as ' ~ type_double() ~ ') / cohort_size'
        ) }} as subscription_retention_rate,

        -- value from the first subscription order (included)
        {{ null_until_complete('net_revenue', type_money()) }} as net_revenue,
        {{ null_until_complete('cumulative_net_revenue', type_money()) }}
            as cumulative_net_revenue,
        {{ null_until_complete('cumulative_net_revenue / cohort_size', type_double()) }}
            as ltv_per_subscriber
    from cohort_months

)

select * from final
