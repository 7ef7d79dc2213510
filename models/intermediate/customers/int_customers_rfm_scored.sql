-- grain: one row per customer x RFM snapshot: as_of_date (months_before_as_of = 0) and the
-- last day of each of the var rfm_snapshot_months previous months. Customers enter a
-- snapshot once they have a valid order on or before its date.
-- Scores are rank-based quintiles (1-5, 5 = best) within the snapshot:
-- score = 1 + floor(5 * (rank - 1) / customers), rank() ascending in "goodness", so equal
-- values always share a rank and a score (ntile() would split them by an arbitrary order).
with

orders as (

    select
        customer_id,
        order_date,
        net_revenue
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

snapshot_offsets as (

    {%- for months_before in range(var('rfm_snapshot_months') + 1) %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select cast({{ months_before }} as {{ dbt.type_int() }}) as months_before_as_of
    {%- endfor %}

),

as_of_month as (

    select
        as_of_date,
        {{ month_start('as_of_date') }} as as_of_month_start
    from as_of

),

snapshots as (

    -- as_of_date itself, then the last day of each previous month (the day before the
    -- first day of the following month)
    select
        snapshot_offsets.months_before_as_of,
        case
            when snapshot_offsets.months_before_as_of = 0 then as_of_month.as_of_date
            else cast({{ dbt.dateadd('day', -1, dbt.dateadd(
                'month',
                '1 - snapshot_offsets.months_before_as_of',
                'as_of_month.as_of_month_start',
            )) }} as date)
        end as snapshot_date
    from snapshot_offsets
    cross join as_of_month

),

customers_at_snapshot as (

    select
        snapshots.months_before_as_of,
        snapshots.snapshot_date,
        orders.customer_id,
        count(*) as order_count,
        -- rounded to the cent so that equal amounts tie whatever the summation order (and
        -- half cents round up on every engine: macro round_half_up)
        {{ round_half_up('sum(orders.net_revenue)', 2) }} as net_revenue,
        {{ dbt.datediff('max(orders.order_date)', 'snapshots.snapshot_date', 'day') }}
            as recency_days
    from snapshots
    inner join orders
        on snapshots.snapshot_date >= orders.order_date
    group by
        snapshots.months_before_as_of,
        snapshots.snapshot_date,
        orders.customer_id

),

customers_ranked as (

    select
        months_before_as_of,
        snapshot_date,
        customer_id,
        order_count,
        net_revenue,
        recency_days,
        count(*) over (partition by snapshot_date) as snapshot_customers,
        -- rank 1 = worst: longest since the last order, fewest orders, least revenue
        rank() over (partition by snapshot_date order by recency_days desc) as recency_rank,
        rank() over (partition by snapshot_date order by order_count asc) as frequency_rank,
        rank() over (partition by snapshot_date order by net_revenue asc) as monetary_rank
    from customers_at_snapshot

),

customers_scored as (

    select
        months_before_as_of,
        snapshot_date,
        customer_id,
        {%- for score in ['recency', 'frequency', 'monetary'] %}
            cast(
                floor(
                    cast(5 * ({{ score }}_rank - 1) as {{ type_double() }})
                    / cast(snapshot_customers as {{ type_double() }})
                ) as {{ dbt.type_int() }}
            ) + 1 as {{ score }}_score,
        {%- endfor %}
        order_count,
        net_revenue,
        recency_days
    from customers_ranked

),

customers_segmented as (

    -- the segment grid (first match wins; R = recency, F = frequency, M = monetary score):
    -- champions R>=4 F>=4 M>=4 | loyal R>=3 F>=3 | new R=5 F=1 | promising R>=4 F<=2 |
    -- needs_attention R=3 F<=2 | at_risk R<=2 F>=3 | hibernating R=2 F<=2 | lost R=1 F<=2
    select
        months_before_as_of,
        snapshot_date,
        customer_id,
        order_count,
        net_revenue,
        recency_days,
        recency_score,
        frequency_score,
        monetary_score,
        case
            when recency_score >= 4 and frequency_score >= 4 and monetary_score >= 4
                then 'champions'
            when recency_score >= 3 and frequency_score >= 3 then 'loyal'
            when recency_score = 5 and frequency_score = 1 then 'new'
            when recency_score >= 4 then 'promising'
            when recency_score = 3 then 'needs_attention'
            when frequency_score >= 3 then 'at_risk'
            when recency_score = 2 then 'hibernating'
            else 'lost'
        end as rfm_segment
    from customers_scored

),

final as (

    select
        customer_id,
        months_before_as_of,
        snapshot_date,
        {{ month_start('snapshot_date') }} as snapshot_month,
        months_before_as_of = 0 as is_as_of_snapshot,
        order_count,
        net_revenue,
        recency_days,
        recency_score,
        frequency_score,
        monetary_score,
        rfm_segment
    from customers_segmented

)

select * from final
