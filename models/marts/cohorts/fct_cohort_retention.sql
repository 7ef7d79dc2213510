-- grain: one row per cohort month x months since first order (0 .. the as_of_date month):
-- period activity, cumulative repeat and cumulative net revenue of the cohort. Month k is
-- the calendar month cohort_month + k months; months without orders still appear (spine);
-- months not fully elapsed by as_of_date have null metrics.
with

cohort_months as (

    -- the cohort-months hub, acquisition cohorts (month of the first valid order)
    select
        cohort_month,
        months_since_cohort_month,
        calendar_month,
        calendar_month_end,
        as_of_date,
        is_complete,
        cohort_size,
        active_customers,
        order_count,
        second_order_customers,
        cumulative_repeat_customers,
        net_revenue,
        cumulative_net_revenue
    from {{ ref('int_cohort_months_accumulated') }}
    where cohort_type = 'first_order'

),

final as (

    select
        -- keys
        cohort_month,
        cast(months_since_cohort_month as {{ dbt.type_int() }}) as months_since_first_order,
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
    from cohort_months

)

select * from final
