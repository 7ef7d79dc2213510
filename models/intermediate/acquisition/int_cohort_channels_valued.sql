-- grain: one row per cohort month x acquisition channel, plus channel 'all': the month's
-- new customers, their first-order revenue, and their value and repeat within fixed windows
-- after the first order (attributed-to-order view, int_customers_value_windows). A window
-- of N days is mature for the cell when it is complete for every customer the month can
-- hold: last day of the cohort month + N - 1 <= as_of_date. Immature values are null.
with

customers as (

    select
        customer_id,
        cohort_month,
        acquisition_channel,
        first_order_net_revenue
    from {{ ref('int_customers_enriched') }}

),

value_windows as (

    select
        customer_id,
        ltv_182d,
        ltv_365d,
        has_repeat_within_182d,
        has_repeat_within_365d
    from {{ ref('int_customers_value_windows') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

customers_valued as (

    select
        customers.cohort_month,
        customers.acquisition_channel,
        customers.first_order_net_revenue,
        value_windows.ltv_182d,
        value_windows.ltv_365d,
        case when value_windows.has_repeat_within_182d then 1 else 0 end as repeat_within_182d,
        case when value_windows.has_repeat_within_365d then 1 else 0 end as repeat_within_365d
    from customers
    inner join value_windows
        on customers.customer_id = value_windows.customer_id

),

per_channel as (

    select
        cohort_month,
        acquisition_channel as channel,
        count(*) as new_customers,
        sum(first_order_net_revenue) as first_order_net_revenue,
        sum(ltv_182d) as net_revenue_182d,
        sum(ltv_365d) as net_revenue_365d,
        sum(repeat_within_182d) as repeat_customers_182d,
        sum(repeat_within_365d) as repeat_customers_365d
    from customers_valued
    group by cohort_month, acquisition_channel

),

with_total as (

    select
        cohort_month,
        channel,
        new_customers,
        first_order_net_revenue,
        net_revenue_182d,
        net_revenue_365d,
        repeat_customers_182d,
        repeat_customers_365d
    from per_channel
    union all
    select
        cohort_month,
        'all' as channel,
        sum(new_customers) as new_customers,
        sum(first_order_net_revenue) as first_order_net_revenue,
        sum(net_revenue_182d) as net_revenue_182d,
        sum(net_revenue_365d) as net_revenue_365d,
        sum(repeat_customers_182d) as repeat_customers_182d,
        sum(repeat_customers_365d) as repeat_customers_365d
    from per_channel
    group by cohort_month

),

maturity as (

    select
        with_total.cohort_month,
        with_total.channel,
        with_total.new_customers,
        with_total.first_order_net_revenue,
        with_total.net_revenue_182d,
        with_total.net_revenue_365d,
        with_total.repeat_customers_182d,
        with_total.repeat_customers_365d,
        {{ month_window_is_complete('with_total.cohort_month', 182, 'as_of.as_of_date') }}
            as is_182d_mature,
        {{ month_window_is_complete('with_total.cohort_month', 365, 'as_of.as_of_date') }}
            as is_365d_mature
    from with_total
    cross join as_of

),

final as (

    select
        cohort_month,
        channel,
        cast(new_customers as {{ dbt.type_int() }}) as new_customers,
        cast(first_order_net_revenue as {{ type_money() }}) as first_order_net_revenue,
        is_182d_mature,
        case
            when is_182d_mature then cast(net_revenue_182d as {{ type_money() }})
        end as net_revenue_182d,
        case
            when is_182d_mature then cast(repeat_customers_182d as {{ dbt.type_int() }})
        end as repeat_customers_182d,
        is_365d_mature,
        case
            when is_365d_mature then cast(net_revenue_365d as {{ type_money() }})
        end as net_revenue_365d,
        case
            when is_365d_mature then cast(repeat_customers_365d as {{ dbt.type_int() }})
        end as repeat_customers_365d
    from maturity

)

select * from final
