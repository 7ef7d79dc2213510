-- grain: one row per calendar month x segment (segment_type, segment_value); the
-- 'all' / 'all' rows cover every customer. Months run from the first valid order to the
-- as_of_date month, with or without buyers. Sign-ups (registered_customers,
-- registered_never_ordered) come from the customers export and are on the 'all' rows only
-- (an account that never ordered has no first-order segment).
{%- set mom_metrics = [
    'buyers', 'new_customers', 'returning_customers', 'reactivated_customers',
    'twice_a_year_buyers',
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
        customer_id,
        month,
        orders,
        buyer_type,
        is_repeat_customer,
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
        customer_id,
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
        customer_segments.segment_type,
        customer_segments.segment_value,
        customer_months.month,
        customer_months.orders,
        customer_months.buyer_type,
        customer_months.is_repeat_customer,
        customer_months.purchase_rhythm,
        customer_months.next_buyer_month,
        customer_months.active_until_month
    from customer_months
    inner join customer_segments
        on customer_months.customer_id = customer_segments.customer_id
    union all
    select
        'purchase_rhythm' as segment_type,
        purchase_rhythm as segment_value,
        month,
        orders,
        buyer_type,
        is_repeat_customer,
        purchase_rhythm,
        next_buyer_month,
        active_until_month
    from customer_months

),

buyers_counted as (

    select
        segment_type,
        segment_value,
        month,
        count(*) as buyers,
        sum(case when buyer_type = 'new' then 1 else 0 end) as new_customers,
        sum(case when buyer_type = 'returning' then 1 else 0 end) as returning_customers,
        sum(case when buyer_type = 'reactivated' then 1 else 0 end) as reactivated_customers,
        sum(case when purchase_rhythm = 'twice_a_year' then 1 else 0 end) as twice_a_year_buyers,
        sum(orders) as orders
    from customer_months_segmented
    group by segment_type, segment_value, month

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
        case when is_repeat_customer then 1 else 0 end as repeat_change
    from customer_months_segmented
    union all
    select
        segment_type,
        segment_value,
        next_buyer_month as change_month,
        -1 as customers_change,
        0 as active_change,
        case when is_repeat_customer then -1 else 0 end as repeat_change
    from customer_months_segmented
    where next_buyer_month is not null
    union all
    select
        segment_type,
        segment_value,
        active_until_month as change_month,
        0 as customers_change,
        -1 as active_change,
        0 as repeat_change
    from customer_months_segmented

),

status_changes_per_month as (

    select
        segment_type,
        segment_value,
        change_month,
        sum(customers_change) as customers_change,
        sum(active_change) as active_change,
        sum(repeat_change) as repeat_change
    from status_changes
    group by segment_type, segment_value, change_month

),

segments as (

    select distinct
        segment_type,
        segment_value
    from customer_months_segmented

),

months_registered as (

    -- sign-ups of each month of the spine (0 when none)
    select
        months.month,
        months.snapshot_date,
        months.is_complete,
        coalesce(registrations.registered_customers, 0) as registered_customers,
        coalesce(registrations.registered_never_ordered, 0) as registered_never_ordered
    from months
    left join registrations
        on months.month = registrations.registration_month

),

segment_months as (

    select
        segments.segment_type,
        segments.segment_value,
        months_registered.month,
        months_registered.snapshot_date,
        months_registered.is_complete,
        case
            when segments.segment_type = 'all' then months_registered.registered_customers
        end as registered_customers,
        case
            when segments.segment_type = 'all' then months_registered.registered_never_ordered
        end as registered_never_ordered
    from segments
    cross join months_registered

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
        coalesce(buyers_counted.buyers, 0) as buyers,
        coalesce(buyers_counted.new_customers, 0) as new_customers,
        coalesce(buyers_counted.returning_customers, 0) as returning_customers,
        coalesce(buyers_counted.reactivated_customers, 0) as reactivated_customers,
        coalesce(buyers_counted.twice_a_year_buyers, 0) as twice_a_year_buyers,
        coalesce(buyers_counted.orders, 0) as orders,
        sum(coalesce(status_changes_per_month.customers_change, 0)) over (
            partition by segment_months.segment_type, segment_months.segment_value
            order by segment_months.month
            rows between unbounded preceding and current row
        ) as customers_to_date,
        sum(coalesce(status_changes_per_month.active_change, 0)) over (
            partition by segment_months.segment_type, segment_months.segment_value
            order by segment_months.month
            rows between unbounded preceding and current row
        ) as active_customers_12m,
        sum(coalesce(status_changes_per_month.repeat_change, 0)) over (
            partition by segment_months.segment_type, segment_months.segment_value
            order by segment_months.month
            rows between unbounded preceding and current row
        ) as repeat_customers
    from segment_months
    left join buyers_counted
        on
            segment_months.segment_type = buyers_counted.segment_type
            and segment_months.segment_value = buyers_counted.segment_value
            and segment_months.month = buyers_counted.month
    left join status_changes_per_month
        on
            segment_months.segment_type = status_changes_per_month.segment_type
            and segment_months.segment_value = status_changes_per_month.segment_value
            and segment_months.month = status_changes_per_month.change_month

),

previous_months_joined as (

    select
        segment_type,
        segment_value,
        month,
        snapshot_date,
        is_complete,
        buyers,
        new_customers,
        returning_customers,
        reactivated_customers,
        twice_a_year_buyers,
        orders,
        customers_to_date,
        active_customers_12m,
        repeat_customers,
        registered_customers,
        registered_never_ordered,
        lag(buyers) over (
            partition by segment_type, segment_value order by month
        ) as buyers_previous_month,
        lag(new_customers) over (
            partition by segment_type, segment_value order by month
        ) as new_customers_previous_month,
        lag(returning_customers) over (
            partition by segment_type, segment_value order by month
        ) as returning_customers_previous_month,
        lag(reactivated_customers) over (
            partition by segment_type, segment_value order by month
        ) as reactivated_customers_previous_month,
        lag(twice_a_year_buyers) over (
            partition by segment_type, segment_value order by month
        ) as twice_a_year_buyers_previous_month
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

        -- buyers of the month
        cast(buyers as {{ dbt.type_int() }}) as buyers,
        cast(new_customers as {{ dbt.type_int() }}) as new_customers,
        cast(returning_customers as {{ dbt.type_int() }}) as returning_customers,
        cast(reactivated_customers as {{ dbt.type_int() }}) as reactivated_customers,
        cast(twice_a_year_buyers as {{ dbt.type_int() }}) as twice_a_year_buyers,
        cast(orders as {{ dbt.type_int() }}) as orders,

        -- month over month: previous month's value and % change (null when the previous
        -- month is 0 or missing, or this month is incomplete)
        {%- for metric in mom_metrics %}
            cast({{ metric }}_previous_month as {{ dbt.type_int() }})
                as {{ metric }}_previous_month,
            case
                when is_complete
                    then {{ safe_divide(
                        metric ~ ' - ' ~ metric ~ '_previous_month', metric ~ '_previous_month'
                    ) }}
            end as {{ metric }}_mom_pct,
        {%- endfor %}

        -- customer base at the month end (as_of_date for the current month)
        cast(customers_to_date as {{ dbt.type_int() }}) as customers_to_date,
        cast(active_customers_12m as {{ dbt.type_int() }}) as active_customers_12m,
        cast(customers_to_date - active_customers_12m as {{ dbt.type_int() }})
            as inactive_customers,
        cast(customers_to_date - repeat_customers as {{ dbt.type_int() }})
            as one_order_customers,
        cast(repeat_customers as {{ dbt.type_int() }}) as repeat_customers,

        -- sign-ups of the month ('all' rows only)
        cast(registered_customers as {{ dbt.type_int() }}) as registered_customers,
        cast(registered_never_ordered as {{ dbt.type_int() }}) as registered_never_ordered,

        -- the 12-month base under names that cannot be read as the lifecycle status
        -- (active_customers_12m / inactive_customers above are the former names, kept)
        cast(active_customers_12m as {{ dbt.type_int() }}) as buyers_12m,
        cast(customers_to_date - active_customers_12m as {{ dbt.type_int() }})
            as non_buyers_12m,
        {{ is_below_min_sample('customers_to_date') }} as is_below_min_sample
    from previous_months_joined

)

select * from final
