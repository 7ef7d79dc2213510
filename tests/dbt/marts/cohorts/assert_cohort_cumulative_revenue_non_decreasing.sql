{{ config(severity='warn') }}
-- Cumulative net revenue per cohort customer never decreases with months since first
-- order: returns are attributed to the refunded order's month, and an order's net revenue
-- is >= 0. Warn only (see the description in _cohorts__tests.yml). Returns the drops.
with

cohort_months as (

    select
        cohort_month,
        months_since_first_order,
        cumulative_net_revenue_per_customer,
        lag(cumulative_net_revenue_per_customer) over (
            partition by cohort_month
            order by months_since_first_order
        ) as previous_cumulative_net_revenue_per_customer
    from {{ ref('fct_cohort_retention') }}
    where is_complete

)

select
    cohort_month,
    months_since_first_order,
    cumulative_net_revenue_per_customer,
    previous_cumulative_net_revenue_per_customer
from cohort_months
where
    cumulative_net_revenue_per_customer
    < previous_cumulative_net_revenue_per_customer - 0.000001
