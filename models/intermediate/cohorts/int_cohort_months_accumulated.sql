-- grain: one row per cohort type x cohort month x calendar month of int_months_spined from
-- the cohort month to the month of as_of_date (months without orders still appear): the
-- cohort's size, its activity in the month and its repeat and net revenue accumulated since
-- the cohort month. Cohort types:
--   first_order: customers by the month of their first valid order, with all their valid
--     orders (fct_cohort_retention);
--   first_subscription: subscribers by the month of their first valid subscription order,
--     with their valid orders from that order on (fct_subscription_cohorts).
-- Measures are not masked here: the marts null them until is_complete (null_until_complete).
{#- measure -> its value in a month without orders: money is 0 at money's scale (on
    PostgreSQL a bare 0 is a numeric of scale 0, another value to the contract) #}
{%- set measures = {
    'active_customers': '0',
    'subscription_active_customers': '0',
    'order_count': '0',
    'second_order_customers': '0',
    'net_revenue': 'cast(0 as ' ~ type_money() ~ ')',
} %}
{#- measure -> its running total from the cohort month, and the total's type #}
{%- set cumulated = {
    'second_order_customers': ('cumulative_repeat_customers', dbt.type_int()),
    'net_revenue': ('cumulative_net_revenue', type_money()),
} %}
with

customers as (

    select
        customer_id,
        cohort_month,
        is_subscriber,
        first_subscription_at
    from {{ ref('int_customers_enriched') }}

),

orders as (

    select
        customer_id,
        ordered_at,
        order_month,
        order_sequence,
        purchase_type,
        net_revenue
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

months as (

    select
        month,
        month_end_date,
        as_of_date,
        is_complete
    from {{ ref('int_months_spined') }}

),

subscriber_orders as (

    -- each subscriber's valid orders from its first subscription order on
    select
        orders.customer_id,
        orders.order_month,
        orders.order_sequence,
        orders.purchase_type,
        orders.net_revenue,
        orders.ordered_at = customers.first_subscription_at
        and orders.purchase_type = 'subscription' as is_first_subscription_order
    from orders
    inner join customers
        on
            orders.customer_id = customers.customer_id
            and orders.ordered_at >= customers.first_subscription_at
    where customers.is_subscriber

),

cohort_members as (

    select
        'first_order' as cohort_type,
        customer_id,
        cohort_month
    from customers

    union all

    select
        'first_subscription' as cohort_type,
        customer_id,
        min(order_month) as cohort_month
    from subscriber_orders
    where is_first_subscription_order
    group by customer_id

),

cohort_orders as (

    select
        'first_order' as cohort_type,
        customer_id,
        order_month,
        order_sequence,
        purchase_type,
        net_revenue
    from orders

    union all

    select
        'first_subscription' as cohort_type,
        customer_id,
        order_month,
        order_sequence,
        purchase_type,
        net_revenue
    from subscriber_orders

),

cohorts_sized as (

    select
        cohort_type,
        cohort_month,
        count(*) as cohort_size
    from cohort_members
    group by cohort_type, cohort_month

),

activity_per_cohort_month as (

    select
        cohort_members.cohort_type,
        cohort_members.cohort_month,
        cohort_orders.order_month as calendar_month,
        count(distinct cohort_orders.customer_id) as active_customers,
        count(
            distinct case
                when cohort_orders.purchase_type = 'subscription'
                    then cohort_orders.customer_id
            end
        ) as subscription_active_customers,
        count(*) as order_count,
        sum(case when cohort_orders.order_sequence = 2 then 1 else 0 end)
            as second_order_customers,
        cast(sum(cohort_orders.net_revenue) as {{ type_money() }}) as net_revenue
    from cohort_orders
    inner join cohort_members
        on
            cohort_orders.cohort_type = cohort_members.cohort_type
            and cohort_orders.customer_id = cohort_members.customer_id
    group by cohort_members.cohort_type, cohort_members.cohort_month, cohort_orders.order_month

),

cohort_months_spined as (

    select
        cohorts_sized.cohort_type,
        cohorts_sized.cohort_month,
        cohorts_sized.cohort_size,
        {{ dbt.datediff('cohorts_sized.cohort_month', 'months.month', 'month') }}
            as months_since_cohort_month,
        months.month as calendar_month,
        months.month_end_date as calendar_month_end,
        months.as_of_date,
        months.is_complete
    from cohorts_sized
    inner join months
        on cohorts_sized.cohort_month <= months.month

),

cohort_months_counted as (

    select
        cohort_months_spined.cohort_type,
        cohort_months_spined.cohort_month,
        cohort_months_spined.months_since_cohort_month,
        cohort_months_spined.calendar_month,
        cohort_months_spined.calendar_month_end,
        cohort_months_spined.as_of_date,
        cohort_months_spined.is_complete,
        {%- for measure, none_in_month in measures.items() %}
            coalesce(activity_per_cohort_month.{{ measure }}, {{ none_in_month }})
                as {{ measure }},
        {%- endfor %}
        cohort_months_spined.cohort_size
    from cohort_months_spined
    left join activity_per_cohort_month
        on
            cohort_months_spined.cohort_type = activity_per_cohort_month.cohort_type
            and cohort_months_spined.cohort_month = activity_per_cohort_month.cohort_month
            and cohort_months_spined.calendar_month = activity_per_cohort_month.calendar_month

),

final as (

    -- the counted months with the running totals from the cohort month
    select
        {%- for measure, (cumulative, cumulative_type) in cumulated.items() %}
            cast(
                sum({{ measure }}) over (
                    partition by cohort_type, cohort_month
                    order by calendar_month
                    rows between unbounded preceding and current row
                ) as {{ cumulative_type }}
            ) as {{ cumulative }},
        {%- endfor %}
        *
    from cohort_months_counted

)

select * from final
