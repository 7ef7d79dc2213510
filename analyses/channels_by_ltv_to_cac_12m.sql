-- Growth question: which acquisition channels pay back best over the customer's first year?
-- Grain: one row per channel with spend, pooled over every acquisition month whose 365-day
-- window is complete for all its new customers (is_ltv_365d_mature) and whose spend the export
-- covers (spend not null). Pooled, never averaged: LTV = sum of the cohorts' 365-day net
-- revenue / sum of new customers; CAC = sum of spend / sum of new customers; LTV/CAC = their
-- ratio. Channels without spend (organic, direct, unknown) have no CAC and are left out; the
-- 'unattributed' spend is only in the blended ('all') figure, shown as its own row, unranked.
-- LTV is net revenue, not margin: multiply by your gross margin before reading "3:1".
with acquisition as (
    select
        channel,
        spend,
        new_customers,
        cohort_net_revenue_365d
    from {{ ref('fct_acquisition_monthly') }}
    where is_ltv_365d_mature and spend is not null
),

pooled as (
    select
        channel,
        count(*) as mature_months,
        sum(spend) as spend,
        sum(new_customers) as new_customers,
        sum(cohort_net_revenue_365d) as cohort_net_revenue_365d
    from acquisition
    group by channel
),

ratios as (
    select
        channel,
        mature_months,
        spend,
        new_customers,
        cohort_net_revenue_365d,
        case when new_customers > 0 then cohort_net_revenue_365d / new_customers end as ltv_365d,
        case when new_customers > 0 then spend / new_customers end as cac,
        case when spend > 0 then cohort_net_revenue_365d / spend end as ltv_to_cac_365d
    from pooled
    where spend > 0 and new_customers > 0
),

final as (
    select
        channel,
        mature_months,
        spend,
        new_customers,
        cohort_net_revenue_365d,
        ltv_365d,
        cac,
        ltv_to_cac_365d,
        case
            when channel != 'all'
                then rank() over (
                        partition by channel = 'all' order by ltv_to_cac_365d desc
                    )
        end as ltv_to_cac_rank
    from ratios
)

select * from final
order by ltv_to_cac_rank nulls last, channel
