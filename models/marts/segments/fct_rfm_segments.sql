-- grain: one row per RFM snapshot (as_of_date and the last day of each of the previous
-- var rfm_snapshot_months months) x rfm_segment, every segment present (0 customers when
-- empty). Movements compare each customer's segment with the previous snapshot's.
{%- set segments = rfm_segment_names() %}
with

scores as (

    select
        customer_id,
        months_before_as_of,
        snapshot_date,
        snapshot_month,
        order_count,
        net_revenue,
        rfm_segment
    from {{ ref('int_customers_rfm_scored') }}

),

snapshots as (

    select distinct
        months_before_as_of,
        snapshot_date,
        snapshot_month
    from scores

),

segment_names as (

    {%- for segment in segments %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select cast('{{ segment }}' as {{ dbt.type_string() }}) as rfm_segment
    {%- endfor %}

),

segment_spine as (

    select
        snapshots.months_before_as_of,
        snapshots.snapshot_date,
        snapshots.snapshot_month,
        segment_names.rfm_segment
    from snapshots
    cross join segment_names

),

segments_aggregated as (

    select
        months_before_as_of,
        rfm_segment,
        count(*) as customers,
        sum(order_count) as orders,
        -- per-customer RFM values are doubles rounded to cents: summed as exact money
        cast(sum(cast(net_revenue as {{ type_money() }})) as {{ type_money() }}) as net_revenue
    from scores
    group by
        months_before_as_of,
        rfm_segment

),

snapshots_aggregated as (

    select
        months_before_as_of,
        count(*) as snapshot_customers,
        cast(sum(cast(net_revenue as {{ type_money() }})) as {{ type_money() }})
            as snapshot_net_revenue
    from scores
    group by months_before_as_of

),

customers_moved as (

    -- each customer's segment now and at the previous snapshot (null: not yet a customer)
    select
        current_scores.months_before_as_of,
        current_scores.rfm_segment,
        previous_scores.rfm_segment as previous_rfm_segment
    from scores as current_scores
    left join scores as previous_scores
        on
            current_scores.customer_id = previous_scores.customer_id
            and current_scores.months_before_as_of + 1 = previous_scores.months_before_as_of

),

movements_in as (

    select
        months_before_as_of,
        rfm_segment,
        sum(case when previous_rfm_segment = rfm_segment then 1 else 0 end) as customers_stayed,
        {%- for segment in segments %}
            sum(case when previous_rfm_segment = '{{ segment }}' then 1 else 0 end)
                as customers_from_{{ segment }},
        {%- endfor %}
        sum(case when previous_rfm_segment is null then 1 else 0 end) as customers_new
    from customers_moved
    group by
        months_before_as_of,
        rfm_segment

),

movements_out as (

    select
        months_before_as_of,
        previous_rfm_segment,
        count(*) as customers_moved_out
    from customers_moved
    where previous_rfm_segment is not null and previous_rfm_segment != rfm_segment
    group by
        months_before_as_of,
        previous_rfm_segment

),

segments_previous as (

    -- the segment's customers at the previous snapshot, keyed by the current snapshot
    select
        rfm_segment,
        customers as customers_previous_snapshot,
        months_before_as_of - 1 as months_before_as_of
    from segments_aggregated

),

segments_measured as (

    select
        segment_spine.snapshot_month,
        segment_spine.snapshot_date,
        segment_spine.months_before_as_of,
        segment_spine.rfm_segment,
        snapshots_aggregated.snapshot_customers,
        snapshots_aggregated.snapshot_net_revenue,
        coalesce(segments_aggregated.customers, 0) as customers,
        coalesce(segments_aggregated.orders, 0) as orders,
        cast(coalesce(segments_aggregated.net_revenue, 0) as {{ type_money() }}) as net_revenue,
        coalesce(segments_previous.customers_previous_snapshot, 0)
            as customers_previous_snapshot,
        coalesce(movements_in.customers_stayed, 0) as customers_stayed,
        {%- for segment in segments %}
            coalesce(movements_in.customers_from_{{ segment }}, 0)
                as customers_from_{{ segment }},
        {%- endfor %}
        coalesce(movements_in.customers_new, 0) as customers_new,
        coalesce(movements_out.customers_moved_out, 0) as customers_moved_out,
        -- from another segment: neither stayed nor new
        coalesce(segments_aggregated.customers, 0)
        - coalesce(movements_in.customers_stayed, 0)
        - coalesce(movements_in.customers_new, 0) as customers_moved_in,
        -- the oldest snapshot has no previous one to move from
        segment_spine.months_before_as_of < {{ var('rfm_snapshot_months') }} as has_previous
    from segment_spine
    inner join snapshots_aggregated
        on segment_spine.months_before_as_of = snapshots_aggregated.months_before_as_of
    left join segments_aggregated
        on
            segment_spine.months_before_as_of = segments_aggregated.months_before_as_of
            and segment_spine.rfm_segment = segments_aggregated.rfm_segment
    left join segments_previous
        on
            segment_spine.months_before_as_of = segments_previous.months_before_as_of
            and segment_spine.rfm_segment = segments_previous.rfm_segment
    left join movements_in
        on
            segment_spine.months_before_as_of = movements_in.months_before_as_of
            and segment_spine.rfm_segment = movements_in.rfm_segment
    left join movements_out
        on
            segment_spine.months_before_as_of = movements_out.months_before_as_of
            and segment_spine.rfm_segment = movements_out.previous_rfm_segment

),

final as (

    select
        -- keys
        snapshot_month,
        snapshot_date,
        cast(months_before_as_of as {{ dbt.type_int() }}) as months_before_as_of,
        months_before_as_of = 0 as is_latest_snapshot,
        rfm_segment,

        -- customers and value at the snapshot
        cast(customers as {{ dbt.type_int() }}) as customers,
        cast(snapshot_customers as {{ dbt.type_int() }}) as snapshot_customers,
        {{ safe_divide('customers', 'snapshot_customers') }} as customer_share,
        cast(orders as {{ dbt.type_int() }}) as orders,
        cast(net_revenue as {{ type_money() }}) as net_revenue,
        cast(snapshot_net_revenue as {{ type_money() }}) as snapshot_net_revenue,
        {{ safe_divide('net_revenue', 'snapshot_net_revenue') }} as revenue_share,
        {{ safe_divide('net_revenue', 'customers') }} as avg_net_revenue_per_customer,
        {{ safe_divide('net_revenue', 'orders') }} as avg_order_value,

        -- movement since the previous snapshot (null for the oldest snapshot)
        case
            when has_previous
                then cast(customers_previous_snapshot as {{ dbt.type_int() }})
        end as customers_previous_snapshot,
        case
            when has_previous then cast(customers_stayed as {{ dbt.type_int() }})
        end as customers_stayed,
        case
            when has_previous then cast(customers_moved_in as {{ dbt.type_int() }})
        end as customers_moved_in,
        case
            when has_previous then cast(customers_moved_out as {{ dbt.type_int() }})
        end as customers_moved_out,
        {%- for segment in segments %}
            case
                when has_previous
                    then cast(customers_from_{{ segment }} as {{ dbt.type_int() }})
            end as customers_from_{{ segment }},
        {%- endfor %}
        case
            when has_previous then cast(customers_new as {{ dbt.type_int() }})
        end as customers_new,
        {{ is_below_min_sample('customers') }} as is_below_min_sample
    from segments_measured

)

select * from final
