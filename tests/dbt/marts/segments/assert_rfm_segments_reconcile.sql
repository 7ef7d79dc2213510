-- fct_rfm_segments agrees with dim_customers at as_of_date (customers and net revenue per
-- segment), its segments add up to each snapshot, and each snapshot's
-- customers_previous_snapshot is the previous snapshot's customers. Returns one row per
-- broken total.
with

segments as (

    select
        months_before_as_of,
        is_latest_snapshot,
        rfm_segment,
        customers,
        snapshot_customers,
        net_revenue,
        customers_previous_snapshot
    from {{ ref('fct_rfm_segments') }}

),

customers as (

    select
        rfm_segment,
        net_revenue
    from {{ ref('dim_customers') }}

),

customers_per_segment as (

    select
        rfm_segment,
        count(*) as customers,
        sum(net_revenue) as net_revenue
    from customers
    group by rfm_segment

),

broken_latest as (

    select 'latest snapshot vs dim_customers: ' || segments.rfm_segment as check_name
    from segments
    left join customers_per_segment
        on segments.rfm_segment = customers_per_segment.rfm_segment
    where
        segments.is_latest_snapshot
        and (
            segments.customers != coalesce(customers_per_segment.customers, 0)
            -- scores round each customer's revenue to the cent
            or abs(segments.net_revenue - coalesce(customers_per_segment.net_revenue, 0))
            > 0.005 * segments.customers + 0.000001
        )

),

snapshots_summed as (

    select
        months_before_as_of,
        sum(customers) as customers,
        max(snapshot_customers) as snapshot_customers,
        min(snapshot_customers) as min_snapshot_customers
    from segments
    group by months_before_as_of

),

broken_snapshots as (

    select 'segments vs snapshot customers' as check_name
    from snapshots_summed
    where
        customers != snapshot_customers
        or snapshot_customers != min_snapshot_customers

),

broken_previous as (

    select 'previous snapshot customers: ' || current_segments.rfm_segment as check_name
    from segments as current_segments
    inner join segments as previous_segments
        on
            current_segments.rfm_segment = previous_segments.rfm_segment
            and current_segments.months_before_as_of + 1 = previous_segments.months_before_as_of
    where current_segments.customers_previous_snapshot != previous_segments.customers

),

checks as (

    select check_name from broken_latest
    union all
    select check_name from broken_snapshots
    union all
    select check_name from broken_previous

)

select check_name
from checks
