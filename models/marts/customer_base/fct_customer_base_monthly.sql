-- grain: one row per calendar month x segment (segment_type, segment_value); the
-- 'all' / 'all' rows cover every customer. Months run from the first valid order to the
-- as_of_date month, with or without buyers. Sign-ups (registered_customers,
-- registered_never_ordered) come from the customers export and are on the 'all' rows only
-- (an account that never ordered has no first-order segment).
-- The counts are int_segment_months_counted's (shared with fct_customer_health).
{%- set mom_metrics = [
    'buyers', 'new_customers', 'returning_customers', 'reactivated_customers',
    'twice_a_year_buyers',
] %}
with

final as (

    select
        -- keys
        month,
        segment_type,
        segment_value,
        snapshot_date,
        is_complete,

        -- buyers of the month
        {%- for metric in mom_metrics %}
            {{ metric }},
        {%- endfor %}
        orders,

        -- month over month: previous month's value and % change (null when the previous
        -- month is 0 or missing, or this month is incomplete)
        {%- for metric in mom_metrics %}
            {{ metric }}_previous_month,
            {{ metric }}_mom_pct,
        {%- endfor %}

        -- customer base at the month end (as_of_date for the current month)
        customers_to_date,
        active_customers_12m,
        inactive_customers,
        one_order_customers,
        repeat_customers,

        -- sign-ups of the month ('all' rows only)
        registered_customers,
        registered_never_ordered,

        -- the 12-month base under names that cannot be read as the lifecycle status
        -- (active_customers_12m / inactive_customers are the former names, kept)
        active_customers_12m as buyers_12m,
        inactive_customers as non_buyers_12m,
        {{ is_below_min_sample('customers_to_date') }} as is_below_min_sample
    from {{ ref('int_segment_months_counted') }}

)

select * from final
