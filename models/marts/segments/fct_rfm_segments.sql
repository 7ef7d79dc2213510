-- grain: one row per RFM snapshot (as_of_date and the last day of each of the previous
-- var rfm_snapshot_months months) x rfm_segment, every segment present (0 customers when
-- empty). Movements compare each customer's segment with the previous snapshot's.
{%- set segments = rfm_segment_names() %}
{%- set from_columns = [] %}
{%- for segment in segments %}
    {%- do from_columns.append('customers_from_' ~ segment) %}
{%- endfor %}
{#- counts of customers who entered the segment, by where they come from -#}
{%- set entered_columns = ['customers_stayed'] + from_columns + ['customers_new'] %}
{#- the movement columns: null for the oldest snapshot, which has no previous one -#}
{%- set movement_columns = [
    'customers_previous_snapshot', 'customers_stayed', 'customers_moved_in', 'customers_moved_out',
] + from_columns + ['customers_new'] %}
with

scores as (

    select
        customer_key,
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

customers_moved as (

    -- each customer's segment now and at the previous snapshot (null: not yet a customer)
    select
        current_scores.months_before_as_of,
        current_scores.rfm_segment,
        previous_scores.rfm_segment as previous_rfm_segment,
        current_scores.order_count,
        current_scores.net_revenue
    from scores as current_scores
    left join scores as previous_scores
        on
            current_scores.customer_key = previous_scores.customer_key
            and current_scores.months_before_as_of + 1 = previous_scores.months_before_as_of

),

transitions as (

    -- customers per snapshot x segment x previous segment (a few hundred rows): the two
    -- aggregates below read this, not the customer rows a second time
    select
        months_before_as_of,
        rfm_segment,
        previous_rfm_segment,
        count(*) as customers,
        sum(order_count) as orders,
        -- per-customer RFM values are doubles rounded to cents: summed as exact money
        sum(cast(net_revenue as {{ type_money() }})) as net_revenue
    from customers_moved
    group by
        months_before_as_of,
        rfm_segment,
        previous_rfm_segment

),

segments_entered as (

    -- the segment's customers and value at the snapshot, and where they come from
    select
        months_before_as_of,
        rfm_segment,
        sum(customers) as customers,
        sum(orders) as orders,
        cast(sum(net_revenue) as {{ type_money() }}) as net_revenue,
        sum(case when previous_rfm_segment = rfm_segment then customers else 0 end)
            as customers_stayed,
        {%- for segment in segments %}
            sum(case when previous_rfm_segment = '{{ segment }}' then customers else 0 end)
                as customers_from_{{ segment }},
        {%- endfor %}
        sum(case when previous_rfm_segment is null then customers else 0 end) as customers_new
    from transitions
    group by
        months_before_as_of,
        rfm_segment

),

segments_left as (

    -- the segment's customers at the previous snapshot (a customer stays a customer, so
    -- each of them is in this snapshot) and those of them now in another segment
    select
        months_before_as_of,
        previous_rfm_segment as rfm_segment,
        sum(customers) as customers_previous_snapshot,
        sum(case when rfm_segment != previous_rfm_segment then customers else 0 end)
            as customers_moved_out
    from transitions
    where previous_rfm_segment is not null
    group by
        months_before_as_of,
        previous_rfm_segment

),

segments_measured as (

    select
        segment_spine.snapshot_month,
        segment_spine.snapshot_date,
        segment_spine.months_before_as_of,
        segment_spine.rfm_segment,
        coalesce(segments_entered.customers, 0) as customers,
        sum(coalesce(segments_entered.customers, 0))
            over (partition by segment_spine.months_before_as_of)
            as snapshot_customers,
        coalesce(segments_entered.orders, 0) as orders,
        cast(coalesce(segments_entered.net_revenue, 0) as {{ type_money() }}) as net_revenue,
        cast(
            sum(coalesce(segments_entered.net_revenue, 0))
                over (partition by segment_spine.months_before_as_of)
            as {{ type_money() }}
        ) as snapshot_net_revenue,
        coalesce(segments_left.customers_previous_snapshot, 0) as customers_previous_snapshot,
        coalesce(segments_left.customers_moved_out, 0) as customers_moved_out,
        {%- for column in entered_columns %}
            coalesce(segments_entered.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        -- from another segment: neither stayed nor new
        coalesce(segments_entered.customers, 0)
        - coalesce(segments_entered.customers_stayed, 0)
        - coalesce(segments_entered.customers_new, 0) as customers_moved_in,
        -- the oldest snapshot has no previous one to move from
        segment_spine.months_before_as_of < {{ var('rfm_snapshot_months') }} as has_previous
    from segment_spine
    left join segments_entered
        on
            segment_spine.months_before_as_of = segments_entered.months_before_as_of
            and segment_spine.rfm_segment = segments_entered.rfm_segment
    left join segments_left
        on
            segment_spine.months_before_as_of = segments_left.months_before_as_of
            and segment_spine.rfm_segment = segments_left.rfm_segment

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
        {%- for column in movement_columns %}
            case
                when has_previous then cast({{ column }} as {{ dbt.type_int() }})
            end as {{ column }},
        {%- endfor %}
        {{ is_below_min_sample('customers') }} as is_below_min_sample
    from segments_measured

)

select * from final
