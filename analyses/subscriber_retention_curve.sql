-- Subscription question: once customers subscribe, how many still order (and still
-- subscribe) 1, 3, 6, 12 months later, and what is a subscriber worth from that day?
-- Grain: one row per month since the first subscription order, pooled over the subscription
-- cohorts whose month k has fully elapsed (each cohort counts its own subscribers, so young
-- cohorts weigh only in the early months). LTV counts net revenue from the first
-- subscription order on, not from acquisition (that is fct_cohort_value).
with cohort_months as (
    select
        months_since_first_subscription,
        subscribers,
        active_customers,
        subscription_active_customers,
        cumulative_net_revenue
    from {{ ref('fct_subscription_cohorts') }}
    where is_complete
),

final as (
    select
        months_since_first_subscription,
        count(*) as cohorts,
        sum(subscribers) as subscribers,
        cast(sum(active_customers) as double) / sum(subscribers) as retention_rate,
        cast(sum(subscription_active_customers) as double) / sum(subscribers)
            as subscription_retention_rate,
        cast(sum(cumulative_net_revenue) as double) / sum(subscribers) as ltv_per_subscriber
    from cohort_months
    group by months_since_first_subscription
)

select * from final
order by months_since_first_subscription
