-- grain: one row per cohort month x months since first order (0 .. the as_of_date month):
-- period activity, cumulative repeat and cumulative net revenue of the cohort. Month k is
-- the calendar month cohort_month + k months; months without orders still appear (spine);
-- months not fully elapsed by as_of_date have null metrics.
with

customers as (

    select
        customer_id,
        cohort_month
    from {{ ref('int_customers_enriched') }}

),

orders as (

    select
        customer_id,
        order_month,
        order_sequence,
        net_revenue
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

month_offsets as (

    -- 0 .. 999 months
    {{ number_spine_rows('months_since_first_order') }}

),

cohorts_sized as (

    select
        cohort_month,
        count(*) as cohort_size
    from customers
    group by cohort_month

),

cohorts_observed as (

    select
        cohorts_sized.cohort_month,
        cohorts_sized.cohort_size,
        as_of.as_of_date,
        {{ dbt.datediff('cohorts_sized.cohort_month', month_start('as_of.as_of_date'), 'month') }}
            as last_month_since_first_order
    from cohorts_sized
    cross join as_of

),

cohort_months_spined as (

    select
        cohorts_observed.cohort_month,
        cohorts_observed.cohort_size,
        month_offsets.months_since_first_order,
        cohorts_observed.as_of_date
    from cohorts_observed
    inner join month_offsets
        on cohorts_observed.last_month_since_first_order >= month_offsets.months_since_first_order

),

cohort_months_dated as (

    select
        cohort_month,
        cohort_size,
        months_since_first_order,
        as_of_date,
        cast(
            {{ dbt.dateadd('month', 'months_since_first_order', 'cohort_month') }} as date
        ) as calendar_month,
        cast(
            {{ dbt.dateadd(
                'day', -1, dbt.dateadd('month', 'months_since_first_order + 1', 'cohort_month')
            ) }} as date
        ) as calendar_month_end
    from cohort_months_spined

),

orders_aged as (

    select
        orders.customer_id,
        orders.order_sequence,
        orders.net_revenue,
        customers.cohort_month,
        {{ dbt.datediff('customers.cohort_month', 'orders.order_month', 'month') }}
            as months_since_first_order
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id

),

activity_per_cohort_month as (

    select
        cohort_month,
        months_since_first_order,
        count(distinct customer_id) as active_customers,
        count(*) as order_count,
        sum(case when order_sequence = 2 then 1 else 0 end) as second_order_customers,
        sum(net_revenue) as net_revenue
    from orders_aged
    group by cohort_month, months_since_first_order

),

cohort_months_accumulated as (

    select
        cohort_months_dated.cohort_month,
        cohort_months_dated.months_since_first_order,
        cohort_months_dated.calendar_month,
        cohort_months_dated.calendar_month_end,
        cohort_months_dated.as_of_date,
        cohort_months_dated.cohort_size,
        {{ month_window_is_complete(
            'cohort_months_dated.calendar_month', 1, 'cohort_months_dated.as_of_date'
        ) }} as is_complete,
        coalesce(activity_per_cohort_month.active_customers, 0) as active_customers,
        coalesce(activity_per_cohort_month.order_count, 0) as order_count,
        coalesce(activity_per_cohort_month.second_order_customers, 0) as second_order_customers,
        coalesce(activity_per_cohort_month.net_revenue, 0) as net_revenue,
        sum(coalesce(activity_per_cohort_month.second_order_customers, 0)) over (
            partition by cohort_months_dated.cohort_month
            order by cohort_months_dated.months_since_first_order
            rows between unbounded preceding and current row
        ) as cumulative_repeat_customers,
        sum(coalesce(activity_per_cohort_month.net_revenue, 0)) over (
            partition by cohort_months_dated.cohort_month
            order by cohort_months_dated.months_since_first_order
            rows between unbounded preceding and current row
        ) as cumulative_net_revenue
    from cohort_months_dated
    left join activity_per_cohort_month
        on
            cohort_months_dated.cohort_month = activity_per_cohort_month.cohort_month
            and cohort_months_dated.months_since_first_order
            = activity_per_cohort_month.months_since_first_order

),

final as (

    select
        -- keys
        cohort_month,
        cast(months_since_first_order as {{ dbt.type_int() }}) as months_since_first_order,
        calendar_month,
        calendar_month_end,
        as_of_date,
        is_complete,
        cast(cohort_size as {{ dbt.type_int() }}) as cohort_size,

        -- period activity (share of the cohort ordering in month k); null metrics until
        -- month k has fully elapsed
        {{ null_until_complete('active_customers', dbt.type_int()) }} as active_customers,
        {{ null_until_complete(
            'cast(active_customers as ' ~ type_double() ~ ') / cohort_size'
        ) }} as retention_rate,
        {{ null_until_complete('order_count', dbt.type_int()) }} as order_count,

        -- cumulative repeat (share with a second valid order by the end of month k)
        {{ null_until_complete('second_order_customers', dbt.type_int()) }}
            as second_order_customers,
        {{ null_until_complete('cumulative_repeat_customers', dbt.type_int()) }}
            as cumulative_repeat_customers,
        {{ null_until_complete(
            'cast(cumulative_repeat_customers as ' ~ type_double() ~ ') / cohort_size'
        ) }} as cumulative_repeat_rate,

        -- net revenue (returns attributed to the order)
        {{ null_until_complete('net_revenue', type_money()) }} as net_revenue,
        {{ null_until_complete('net_revenue / cohort_size', type_double()) }}
            as net_revenue_per_customer,
        {{ null_until_complete('cumulative_net_revenue', type_money()) }}
            as cumulative_net_revenue,
        {{ null_until_complete('cumulative_net_revenue / cohort_size', type_double()) }}
            as cumulative_net_revenue_per_customer,
        {{ is_below_min_sample('cohort_size') }} as is_below_min_sample
    from cohort_months_accumulated

)

select * from final
