-- grain: one row per customer x RFM snapshot: as_of_date (months_before_as_of = 0) and the
-- last day of each of the var rfm_snapshot_months previous months. Customers enter a
-- snapshot once they have a valid order on or before its date.
-- Scores are rank-based quintiles (1-5, 5 = best) within the snapshot:
-- score = 1 + floor(5 * (rank - 1) / customers), rank() ascending in "goodness", so equal
-- values always share a rank and a score (ntile() would split them by an arbitrary order).
-- Computed from per-customer running state (valid orders accumulated month by month; each
-- state holds until the customer's next order month), and ranks from the distinct values'
-- counts: no snapshot x orders join and no sort of every customer-snapshot row.
-- Keyed on the integer customer_key of int_purchase_days_sequenced (13 snapshots x every
-- customer: an integer is cheaper to write, join and test than the text customer_id).
{#- each score: (name, value column, order from worst to best value) #}
{%- set scores = [
    ('recency', 'recency_days', 'desc'),
    ('frequency', 'order_count', 'asc'),
    ('monetary', 'net_revenue', 'asc'),
] %}
with

purchase_days as (

    -- valid orders per customer and calendar day, on the integer customer_key
    select
        customer_key,
        purchase_date,
        purchase_month,
        orders,
        net_revenue
    from {{ ref('int_purchase_days_sequenced') }}

),

months as (

    -- the one month spine: each month's snapshot_date is its last day, as_of_date for the
    -- as_of month (int_months_spined)
    select
        month,
        snapshot_date,
        as_of_date
    from {{ ref('int_months_spined') }}

),

as_of_month as (

    select
        max(as_of_date) as as_of_date,
        max(month) as as_of_month_start
    from months

),

snapshots as (

    -- as_of_date itself, then the last day of each of the var rfm_snapshot_months previous
    -- months (months before the first valid order have no customer to score)
    select
        cast(
            {{ dbt.datediff('months.month', 'as_of_month.as_of_month_start', 'month') }}
            as {{ dbt.type_int() }}
        ) as months_before_as_of,
        months.snapshot_date
    from months
    cross join as_of_month
    where
        {{ dbt.datediff('months.month', 'as_of_month.as_of_month_start', 'month') }}
        <= {{ var('rfm_snapshot_months') }}

),

customer_months as (

    -- one row per customer x month with a valid order: the month's orders (every valid
    -- order is dated on or before as_of_date; the filter keeps the snapshots honest)
    select
        purchase_days.customer_key,
        purchase_days.purchase_month as order_month,
        sum(purchase_days.orders) as month_order_count,
        sum(purchase_days.net_revenue) as month_net_revenue,
        max(purchase_days.purchase_date) as month_last_order_date
    from purchase_days
    cross join as_of_month
    where purchase_days.purchase_date <= as_of_month.as_of_date
    group by purchase_days.customer_key, purchase_days.purchase_month

),

customer_months_accumulated as (

    -- the customer's running state after each month with an order
    select
        customer_key,
        order_month,
        month_last_order_date as last_order_date,
        lead(order_month) over (
            partition by customer_key
            order by order_month
        ) as next_order_month,
        sum(month_order_count) over (
            partition by customer_key
            order by order_month
            rows between unbounded preceding and current row
        ) as order_count,
        sum(month_net_revenue) over (
            partition by customer_key
            order by order_month
            rows between unbounded preceding and current row
        ) as net_revenue
    from customer_months

),

customer_states as (

    -- a state holds for every snapshot from the end of its month (as_of_date in the
    -- as_of month) until the month of the customer's next order: months_before_as_of in
    -- (months before as_of of the next order month, months before as_of of its month]
    select
        customer_months_accumulated.customer_key,
        customer_months_accumulated.last_order_date,
        customer_months_accumulated.order_count,
        customer_months_accumulated.net_revenue,
        {{ dbt.datediff(
            'customer_months_accumulated.order_month', 'as_of_month.as_of_month_start', 'month'
        ) }} as from_months_before_as_of,
        coalesce(
            {{ dbt.datediff(
                'customer_months_accumulated.next_order_month',
                'as_of_month.as_of_month_start',
                'month',
            ) }},
            -1
        ) as until_months_before_as_of
    from customer_months_accumulated
    cross join as_of_month

),

customers_at_snapshot as (

    -- each snapshot reads the one running state that holds on its date: no snapshot x
    -- orders join (13 snapshots x every order), one row per customer x snapshot directly
    select
        snapshots.months_before_as_of,
        snapshots.snapshot_date,
        customer_states.customer_key,
        customer_states.order_count,
        -- rounded to the cent so that equal amounts tie whatever the summation order (and
        -- half cents round up on every engine: macro round_half_up)
        {{ round_half_up('customer_states.net_revenue', 2) }} as net_revenue,
        {{ dbt.datediff('customer_states.last_order_date', 'snapshots.snapshot_date', 'day') }}
            as recency_days
    from customer_states
    inner join snapshots
        on
            customer_states.from_months_before_as_of >= snapshots.months_before_as_of
            and customer_states.until_months_before_as_of < snapshots.months_before_as_of

),

{%- for score, value, worst_first in scores %}

    {{ score }}_values_ranked as (

        -- rank() over the snapshot's customers, computed on the distinct values: 1 + the
        -- customers with a worse value (equal values share a rank), without sorting every row
        select
            months_before_as_of,
            {{ value }},
            1 + coalesce(
                sum(count(*)) over (
                    partition by months_before_as_of
                    order by {{ value }} {{ worst_first }}
                    rows between unbounded preceding and 1 preceding
                ),
                0
            ) as {{ score }}_rank,
            sum(count(*)) over (partition by months_before_as_of) as snapshot_customers
        from customers_at_snapshot
        group by months_before_as_of, {{ value }}

    ),
{%- endfor %}

customers_ranked as (

    -- rank 1 = worst: longest since the last order, fewest orders, least revenue
    select
        customers_at_snapshot.months_before_as_of,
        customers_at_snapshot.snapshot_date,
        customers_at_snapshot.customer_key,
        customers_at_snapshot.order_count,
        customers_at_snapshot.net_revenue,
        customers_at_snapshot.recency_days,
        {%- for score, value, worst_first in scores %}
            {{ score }}_values_ranked.{{ score }}_rank,
        {%- endfor %}
        recency_values_ranked.snapshot_customers
    from customers_at_snapshot
    {%- for score, value, worst_first in scores %}
    inner join {{ score }}_values_ranked
        on
            customers_at_snapshot.months_before_as_of
            = {{ score }}_values_ranked.months_before_as_of
            and customers_at_snapshot.{{ value }} = {{ score }}_values_ranked.{{ value }}
    {%- endfor %}

),

customers_scored as (

    select
        months_before_as_of,
        snapshot_date,
        customer_key,
        {%- for score, value, worst_first in scores %}
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

final as (

    -- the segment grid (first match wins; R = recency, F = frequency, M = monetary score):
    -- champions R>=4 F>=4 M>=4 | loyal R>=3 F>=3 | new R=5 F=1 | promising R>=4 F<=2 |
    -- needs_attention R=3 F<=2 | at_risk R<=2 F>=3 | hibernating R=2 F<=2 | lost R=1 F<=2
    select
        customer_key,
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

)

select * from final
