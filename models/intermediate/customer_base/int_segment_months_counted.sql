-- grain: one row per calendar month x segment (segment_type, segment_value); the 'all' /
-- 'all' rows cover every customer. The customer base's counts, computed once: the month's
-- buyers (new / returning / reactivated) and orders with month-over-month change, and the
-- base at the month end (to date, active in the window, repeat, active with a high AOV,
-- net revenue to date). fct_customer_base_monthly shows every row, fct_customer_health the
-- 'all' rows. Sign-ups are on the 'all' rows only.
{%- set window_months = var('reactivation_window_months') | int %}
{%- set mom_metrics = [
    'buyers', 'new_customers', 'returning_customers', 'reactivated_customers',
    'twice_a_year_buyers',
] %}
{%- set buyer_types = ['new', 'returning', 'reactivated'] %}
{#- stocks: running sums of +1 / -1 changes (status_changes below) #}
{%- set stocks = {
    'customers_change': 'customers_to_date',
    'active_change': 'active_customers_12m',
    'repeat_change': 'repeat_customers',
    'active_high_aov_change': 'active_high_aov_customers',
} %}
{#- what each buyer month carries into its segments' rows (not the customer id) #}
{%- set carried = [
    'month', 'orders', 'buyer_type', 'is_repeat_customer', 'is_high_aov',
    'purchase_rhythm', 'next_buyer_month', 'active_until_month',
] %}
with

months as (

    select
        month,
        snapshot_date,
        is_complete
    from {{ ref('int_months_spined') }}

),

customer_months as (

    select
        customer_key,
        month,
        orders,
        net_revenue,
        buyer_type,
        is_repeat_customer,
        -- the state's average order value is at or above the health threshold
        average_order_value_to_date >= {{ var('health_aov_threshold') }} as is_high_aov,
        purchase_rhythm,
        next_buyer_month,
        active_until_month
    from {{ ref('int_customer_months_active') }}

),

registrations as (

    select
        registration_month,
        registered_customers,
        registered_never_ordered
    from {{ ref('int_registrations_monthly') }}

),

customer_segments as (

    select
        customer_key,
        segment_type,
        segment_value
    from {{ ref('int_customers_segments_unpivoted') }}
    -- the monthly base is cut by fewer segment types than the cohorts (one shared unpivot)
    where
        segment_type in (
            'all',
            'acquisition_channel',
            'first_order_offer_type',
            'first_product_category',
            'is_bfcm_acquired',
            'is_subscriber'
        )

),

customer_months_segmented as (

    -- first-order segments are fixed per customer; the purchase rhythm is the customer's
    -- as of the end of each buyer month
    select
        {%- for column in carried %}
            customer_months.{{ column }},
        {%- endfor %}
        customer_segments.segment_type,
        customer_segments.segment_value
    from customer_months
    inner join customer_segments
        on customer_months.customer_key = customer_segments.customer_key
    union all
    select
        {%- for column in carried %}
            {{ column }},
        {%- endfor %}
        'purchase_rhythm' as segment_type,
        purchase_rhythm as segment_value
    from customer_months

),

buyers_counted as (

    select
        segment_type,
        segment_value,
        month,
        count(*) as buyers,
        {%- for buyer_type in buyer_types %}
            sum(case when buyer_type = '{{ buyer_type }}' then 1 else 0 end)
                as {{ buyer_type }}_customers,
        {%- endfor %}
        sum(case when purchase_rhythm = 'twice_a_year' then 1 else 0 end) as twice_a_year_buyers,
        sum(orders) as orders
    from customer_months_segmented
    group by segment_type, segment_value, month

),

revenue_counted as (

    -- net revenue of the month's buyers, on the 'all' rows only (read by fct_customer_health)
    select
        'all' as segment_type,
        month,
        sum(net_revenue) as net_revenue
    from customer_months
    group by month

),

status_changes as (

    -- a buyer month's state lasts until the next buyer month; it is active until
    -- active_until_month. +1 when a state starts, -1 when it ends: running sums over the
    -- months give the stocks without a customer x month grid.
    select
        segment_type,
        segment_value,
        month as change_month,
        1 as customers_change,
        1 as active_change,
        case when is_repeat_customer then 1 else 0 end as repeat_change,
        case when is_high_aov then 1 else 0 end as active_high_aov_change
    from customer_months_segmented
    union all
    select
        segment_type,
        segment_value,
        next_buyer_month as change_month,
        -1 as customers_change,
        0 as active_change,
        case when is_repeat_customer then -1 else 0 end as repeat_change,
        0 as active_high_aov_change
    from customer_months_segmented
    where next_buyer_month is not null
    union all
    select
        segment_type,
        segment_value,
        active_until_month as change_month,
        0 as customers_change,
        -1 as active_change,
        0 as repeat_change,
        case when is_high_aov then -1 else 0 end as active_high_aov_change
    from customer_months_segmented

),

status_changes_per_month as (

    select
        segment_type,
        segment_value,
        {%- for change in stocks %}
            sum({{ change }}) as {{ change }},
        {%- endfor %}
        change_month
    from status_changes
    group by segment_type, segment_value, change_month

),

segments as (

    select distinct
        segment_type,
        segment_value
    from customer_months_segmented

),

segment_months as (

    -- every segment x month of the spine; sign-ups (0 when none) on the 'all' rows only
    select
        segments.segment_type,
        segments.segment_value,
        months.month,
        months.snapshot_date,
        months.is_complete,
        case
            when segments.segment_type = 'all'
                then coalesce(registrations.registered_customers, 0)
        end as registered_customers,
        case
            when segments.segment_type = 'all'
                then coalesce(registrations.registered_never_ordered, 0)
        end as registered_never_ordered
    from segments
    cross join months
    left join registrations
        on months.month = registrations.registration_month

),

segment_months_counted as (

    select
        segment_months.segment_type,
        segment_months.segment_value,
        segment_months.month,
        segment_months.snapshot_date,
        segment_months.is_complete,
        segment_months.registered_customers,
        segment_months.registered_never_ordered,
        {%- for metric in mom_metrics + ['orders'] %}
            coalesce(buyers_counted.{{ metric }}, 0) as {{ metric }},
        {%- endfor %}
        case
            when segment_months.segment_type = 'all'
                then coalesce(revenue_counted.net_revenue, 0)
        end as net_revenue,
        {%- for change, stock in stocks.items() %}
            sum(coalesce(status_changes_per_month.{{ change }}, 0)) over (
                partition by segment_months.segment_type, segment_months.segment_value
                order by segment_months.month
                rows between unbounded preceding and current row
            ) as {{ stock }},
        {%- endfor %}
        sum(
            case
                when segment_months.segment_type = 'all'
                    then coalesce(revenue_counted.net_revenue, 0)
            end
        ) over (
            partition by segment_months.segment_type, segment_months.segment_value
            order by segment_months.month
            rows between unbounded preceding and current row
        ) as net_revenue_to_date,
        sum(coalesce(buyers_counted.orders, 0)) over (
            partition by segment_months.segment_type, segment_months.segment_value
            order by segment_months.month
            rows between {{ window_months - 1 }} preceding and current row
        ) as orders_12m
    from segment_months
    left join buyers_counted
        on
            segment_months.segment_type = buyers_counted.segment_type
            and segment_months.segment_value = buyers_counted.segment_value
            and segment_months.month = buyers_counted.month
    left join revenue_counted
        on
            segment_months.segment_type = revenue_counted.segment_type
            and segment_months.month = revenue_counted.month
    left join status_changes_per_month
        on
            segment_months.segment_type = status_changes_per_month.segment_type
            and segment_months.segment_value = status_changes_per_month.segment_value
            and segment_months.month = status_changes_per_month.change_month

),

previous_months_joined as (

    select
        {%- for metric in mom_metrics %}
            lag({{ metric }}) over (
                partition by segment_type, segment_value order by month
            ) as {{ metric }}_previous_month,
        {%- endfor %}
        *
    from segment_months_counted

),

final as (

    select
        -- keys
        month,
        segment_type,
        segment_value,
        snapshot_date,
        is_complete,

        -- buyers and orders of the month
        {%- for metric in mom_metrics + ['orders'] %}
            cast({{ metric }} as {{ dbt.type_int() }}) as {{ metric }},
        {%- endfor %}
        cast(net_revenue as {{ type_money() }}) as net_revenue,

        -- month over month: previous month's value and % change (null when the previous
        -- month is 0 or missing, or this month is incomplete)
        {%- for metric in mom_metrics %}
            cast({{ metric }}_previous_month as {{ dbt.type_int() }})
                as {{ metric }}_previous_month,
            {{ null_until_complete(safe_divide(
                metric ~ ' - ' ~ metric ~ '_previous_month', metric ~ '_previous_month'
            )) }} as {{ metric }}_mom_pct,
        {%- endfor %}

        -- customer base at the month end (as_of_date for the current month)
        cast(customers_to_date as {{ dbt.type_int() }}) as customers_to_date,
        cast(active_customers_12m as {{ dbt.type_int() }}) as active_customers_12m,
        cast(customers_to_date - active_customers_12m as {{ dbt.type_int() }})
            as inactive_customers,
        cast(customers_to_date - repeat_customers as {{ dbt.type_int() }})
            as one_order_customers,
        cast(repeat_customers as {{ dbt.type_int() }}) as repeat_customers,
        cast(active_high_aov_customers as {{ dbt.type_int() }}) as active_high_aov_customers,
        cast(net_revenue_to_date as {{ type_money() }}) as net_revenue_to_date,
        cast(orders_12m as {{ dbt.type_int() }}) as orders_12m,

        -- sign-ups of the month ('all' rows only)
        cast(registered_customers as {{ dbt.type_int() }}) as registered_customers,
        cast(registered_never_ordered as {{ dbt.type_int() }}) as registered_never_ordered
    from previous_months_joined

)

select * from final
