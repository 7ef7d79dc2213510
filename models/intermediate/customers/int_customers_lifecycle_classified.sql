-- grain: one row per customer with a valid order: value windows, lifecycle status,
-- activation speed, expected next order date and cooldown as of as_of_date, against the
-- store's thresholds (int_purchase_delay_thresholds). Feeds dim_customers.
with

orders as (

    select
        customer_id,
        order_date,
        order_sequence,
        days_since_previous_order
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

value_windows as (

    select
        customer_id,
        ltv_182d,
        ltv_365d
    from {{ ref('int_customers_value_windows') }}

),

thresholds as (

    select
        as_of_date,
        median_gap_days,
        median_days_to_second_order,
        new_customer_days,
        active_days,
        at_risk_days,
        lapsed_days,
        cooldown_days,
        activation_fast_days,
        activation_window_days
    from {{ ref('int_purchase_delay_thresholds') }}

),

orders_per_customer as (

    select
        customer_id,
        count(*) as order_count,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        max(case when order_sequence = 2 then days_since_previous_order end)
            as days_to_second_order
    from orders
    group by customer_id

),

gaps_per_customer as (

    -- the customer's own rhythm: gaps between consecutive valid orders on different days
    select
        customer_id,
        count(*) as gap_count,
        {{ percentile_continuous('days_since_previous_order', 0.5) }} as median_gap_days
    from orders
    where order_sequence > 1 and days_since_previous_order > 0
    group by customer_id

),

customers_aged as (

    select
        orders_per_customer.customer_id,
        orders_per_customer.order_count,
        orders_per_customer.last_order_date,
        orders_per_customer.days_to_second_order,
        coalesce(gaps_per_customer.gap_count, 0) as gap_count,
        gaps_per_customer.median_gap_days,
        {{ dbt.datediff('orders_per_customer.first_order_date', 'thresholds.as_of_date', 'day') }}
            as days_since_first_order,
        {{ dbt.datediff('orders_per_customer.last_order_date', 'thresholds.as_of_date', 'day') }}
            as days_since_last_order,
        thresholds.median_gap_days as store_median_gap_days,
        thresholds.median_days_to_second_order as store_median_days_to_second_order,
        thresholds.new_customer_days,
        thresholds.active_days,
        thresholds.at_risk_days,
        thresholds.lapsed_days,
        thresholds.cooldown_days,
        thresholds.activation_fast_days,
        thresholds.activation_window_days
    from orders_per_customer
    left join gaps_per_customer
        on orders_per_customer.customer_id = gaps_per_customer.customer_id
    cross join thresholds

),

customers_classified as (

    select
        customer_id,
        last_order_date,
        case
            when
                new_customer_days is null or active_days is null
                or at_risk_days is null or lapsed_days is null
                then null
            when order_count = 1 and days_since_first_order <= new_customer_days then 'new'
            when days_since_last_order <= active_days then 'active'
            when days_since_last_order <= at_risk_days then 'at_risk'
            when days_since_last_order <= lapsed_days then 'lapsed'
            else 'lost'
        end as lifecycle_status,
        case
            when days_to_second_order is not null and activation_fast_days is null then null
            when days_to_second_order <= activation_fast_days then 'fast'
            when days_to_second_order is not null then 'slow'
            when activation_window_days is null then null
            when days_since_first_order <= activation_window_days then 'not_yet'
            else 'one_time'
        end as activation_speed,
        case
            when gap_count >= 2 then median_gap_days
            when order_count = 1 then store_median_days_to_second_order
            else store_median_gap_days
        end as expected_gap_days,
        days_since_last_order <= cooldown_days as is_in_cooldown
    from customers_aged

),

final as (

    select
        customers_classified.customer_id,
        value_windows.ltv_182d,
        value_windows.ltv_365d,
        customers_classified.lifecycle_status,
        customers_classified.activation_speed,
        cast(customers_classified.expected_gap_days as {{ type_double() }}) as expected_gap_days,
        cast(
            {{ dbt.dateadd(
                'day',
                'cast(floor(customers_classified.expected_gap_days + 0.5) as ' ~ dbt.type_int() ~ ')',
                'customers_classified.last_order_date'
            ) }} as date
        ) as expected_next_order_date,
        customers_classified.is_in_cooldown
    from customers_classified
    left join value_windows
        on customers_classified.customer_id = value_windows.customer_id

)

select * from final
