-- Each segment type splits a cohort month without loss or double counting: its values'
-- customers, repeaters and 365-day value add up to the 'all' row. Returns the mismatches.
with

cells as (

    select
        cohort_month,
        segment_type,
        customers,
        second_order_events,
        coalesce(repeaters_90d, 0) as repeaters_90d,
        coalesce(net_revenue_365d, 0) as net_revenue_365d
    from {{ ref('fct_cohort_value') }}

),

segment_types_summed as (

    select
        cohort_month,
        segment_type,
        sum(customers) as customers,
        sum(repeaters_90d) as repeaters_90d,
        sum(net_revenue_365d) as net_revenue_365d,
        sum(second_order_events) as second_order_events
    from cells
    group by cohort_month, segment_type

),

all_customers as (

    select
        cohort_month,
        customers,
        repeaters_90d,
        net_revenue_365d,
        second_order_events
    from cells
    where segment_type = 'all'

)

select
    segment_types_summed.cohort_month,
    segment_types_summed.segment_type,
    segment_types_summed.customers,
    all_customers.customers as all_customers
from segment_types_summed
left join all_customers
    on segment_types_summed.cohort_month = all_customers.cohort_month
where
    all_customers.customers is null
    or segment_types_summed.customers != all_customers.customers
    or segment_types_summed.repeaters_90d != all_customers.repeaters_90d
    or segment_types_summed.second_order_events != all_customers.second_order_events
    or abs(segment_types_summed.net_revenue_365d - all_customers.net_revenue_365d) > 0.01
