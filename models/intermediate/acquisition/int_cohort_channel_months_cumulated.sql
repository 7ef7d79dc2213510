-- grain: one row per cohort month x acquisition channel (plus 'all') x month since
-- acquisition (0 = the cohort month), up to the month of as_of_date: the cohort's net
-- revenue of valid orders in that month and cumulated since acquisition (attributed-to-order
-- view: returns reduce the order they refund), and the CM2 of its orders with a known cost
-- cumulated the same way (margin payback). is_month_complete: the month ended on or
-- before as_of_date. Months come from int_months_spined (the one month spine: every month
-- from the first valid order's to the as_of_date month).
with

customers as (

    select
        customer_id,
        cohort_month,
        acquisition_channel
    from {{ ref('int_customers_enriched') }}

),

orders as (

    select
        customer_id,
        order_month,
        net_revenue,
        contribution_margin,
        has_known_cost
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

activity_months as (

    select
        month as activity_month,
        is_complete as is_month_complete
    from {{ ref('int_months_spined') }}

),

new_customers_per_channel as (

    select
        cohort_month,
        acquisition_channel as channel,
        count(*) as new_customers
    from customers
    group by cohort_month, acquisition_channel

),

cohort_channels as (

    {{ channel_total_unioned('new_customers_per_channel', ['cohort_month'], ['new_customers']) }}

),

revenue_per_channel as (

    select
        customers.cohort_month,
        customers.acquisition_channel as channel,
        orders.order_month as activity_month,
        sum(orders.net_revenue) as net_revenue,
        -- CM2 of the orders with a known cost (margin payback)
        sum(case when orders.has_known_cost then orders.contribution_margin else 0 end)
            as contribution_margin
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
    group by customers.cohort_month, customers.acquisition_channel, orders.order_month

),

revenue_with_total as (

    {{ channel_total_unioned('revenue_per_channel', ['cohort_month', 'activity_month'], [
        'net_revenue',
        'contribution_margin',
    ]) }}

),

grid as (

    select
        cohort_channels.cohort_month,
        cohort_channels.channel,
        cohort_channels.new_customers,
        activity_months.activity_month,
        activity_months.is_month_complete
    from cohort_channels
    inner join activity_months
        on cohort_channels.cohort_month <= activity_months.activity_month

),

grid_valued as (

    select
        grid.cohort_month,
        grid.channel,
        grid.activity_month,
        grid.new_customers,
        grid.is_month_complete,
        coalesce(revenue_with_total.net_revenue, 0) as net_revenue,
        coalesce(revenue_with_total.contribution_margin, 0) as contribution_margin
    from grid
    left join revenue_with_total
        on
            grid.cohort_month = revenue_with_total.cohort_month
            and grid.channel = revenue_with_total.channel
            and grid.activity_month = revenue_with_total.activity_month

),

final as (

    select
        grid_valued.cohort_month,
        grid_valued.channel,
        cast(
            {{ dbt.datediff('grid_valued.cohort_month', 'grid_valued.activity_month', 'month') }}
            as {{ dbt.type_int() }}
        ) as months_since_acquisition,
        grid_valued.activity_month,
        cast(grid_valued.new_customers as {{ dbt.type_int() }}) as new_customers,
        cast(grid_valued.net_revenue as {{ type_money() }}) as net_revenue,
        {%- for measure in ['net_revenue', 'contribution_margin'] %}
            cast(
                sum(grid_valued.{{ measure }}) over (
                    partition by grid_valued.cohort_month, grid_valued.channel
                    order by grid_valued.activity_month
                    rows between unbounded preceding and current row
                ) as {{ type_money() }}
            ) as cumulative_{{ measure }},
        {%- endfor %}
        grid_valued.is_month_complete
    from grid_valued

)

select * from final
