-- grain: one row per customer with a valid order: margins to date, margin value windows and
-- the repayment of the customer's fully loaded CAC (doc blocks in _margin__docs.md).
-- Hub of customer margins: int_customers_enriched (dim_customers) and the cohort models
-- read it. A customer's margin to date is null when any of its valid orders has an unknown
-- cost (never a partial sum); the *_covered sums add the orders with a known cost only, for
-- aggregates that apply the cost-coverage rule (var min_cost_coverage). The windowed net
-- revenue and the window flags are read from int_customers_value_windows (ltv_<N>d), the one
-- place they are computed; this model adds the margins and the cost coverage.
{%- set windows = [182, 365] %}
with

orders as (

    select
        customer_id,
        order_id,
        order_date,
        order_sequence,
        channel,
        net_revenue,
        gross_margin,
        contribution_margin,
        has_known_cost
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

acquisition_costs as (

    select
        month,
        channel,
        cac_fully_loaded
    from {{ ref('int_marketing_spend_loaded') }}

),

value_windows as (

    select
        {%- for n in windows %}
            is_window_{{ n }}d_complete,
            ltv_{{ n }}d,
        {%- endfor %}
        customer_id
    from {{ ref('int_customers_value_windows') }}

),

first_orders as (

    select
        customer_id,
        order_date as first_order_date,
        {{ month_start('order_date') }} as cohort_month,
        channel as acquisition_channel,
        net_revenue as first_order_net_revenue,
        gross_margin as first_order_gross_margin,
        has_known_cost as first_order_has_known_cost
    from orders
    where order_sequence = 1

),

orders_aged as (

    select
        orders.customer_id,
        orders.order_date,
        orders.order_sequence,
        orders.net_revenue,
        orders.gross_margin,
        orders.contribution_margin,
        orders.has_known_cost,
        {{ dbt.datediff('first_orders.first_order_date', 'orders.order_date', 'day') }}
            as days_since_first_order,
        -- CM2 cumulated in order sequence (null from the first order with an unknown cost)
        sum(orders.contribution_margin) over (
            partition by orders.customer_id
            order by orders.order_sequence
            rows between unbounded preceding and current row
        ) as cumulative_contribution_margin,
        sum(case when orders.has_known_cost then 0 else 1 end) over (
            partition by orders.customer_id
            order by orders.order_sequence
            rows between unbounded preceding and current row
        ) as unknown_cost_orders_so_far
    from orders
    inner join first_orders
        on orders.customer_id = first_orders.customer_id

),

margins_per_customer as (

    select
        customer_id,
        count(*) as order_count,
        sum(case when has_known_cost then 0 else 1 end) as unknown_cost_orders,
        count(gross_margin) as orders_with_gross_margin,
        sum(gross_margin) as gross_margin,
        sum(contribution_margin) as contribution_margin,
        sum(net_revenue) as net_revenue,
        sum(case when has_known_cost then net_revenue else 0 end) as net_revenue_covered,
        sum(case when has_known_cost then contribution_margin else 0 end)
            as contribution_margin_covered,
        {%- for n in windows %}
            sum(
                case
                    when days_since_first_order < {{ n }} and has_known_cost then net_revenue
                    else 0
                end
            ) as net_revenue_{{ n }}d_covered,
            sum(
                case
                    when days_since_first_order < {{ n }} and has_known_cost
                        then contribution_margin
                    else 0
                end
            ) as contribution_margin_{{ n }}d_covered,
            sum(
                case
                    when days_since_first_order < {{ n }} and not has_known_cost then 1
                    else 0
                end
            ) as unknown_cost_orders_{{ n }}d,
        {%- endfor %}
        max(order_sequence) as last_order_sequence
    from orders_aged
    group by customer_id

),

customers_costed as (

    select
        first_orders.customer_id,
        first_orders.first_order_date,
        first_orders.cohort_month,
        first_orders.acquisition_channel,
        first_orders.first_order_net_revenue,
        first_orders.first_order_gross_margin,
        first_orders.first_order_has_known_cost,
        margins_per_customer.unknown_cost_orders,
        case
            when margins_per_customer.orders_with_gross_margin = margins_per_customer.order_count
                then margins_per_customer.gross_margin
        end as gross_margin,
        case
            when margins_per_customer.unknown_cost_orders = 0
                then margins_per_customer.contribution_margin
        end as contribution_margin,
        margins_per_customer.net_revenue,
        margins_per_customer.net_revenue_covered,
        margins_per_customer.contribution_margin_covered,
        {%- for n in windows %}
            value_windows.is_window_{{ n }}d_complete,
            value_windows.ltv_{{ n }}d as net_revenue_{{ n }}d,
            margins_per_customer.net_revenue_{{ n }}d_covered,
            margins_per_customer.contribution_margin_{{ n }}d_covered,
            margins_per_customer.unknown_cost_orders_{{ n }}d,
        {%- endfor %}
        acquisition_costs.cac_fully_loaded as acquisition_cac
    from first_orders
    inner join margins_per_customer
        on first_orders.customer_id = margins_per_customer.customer_id
    inner join value_windows
        on first_orders.customer_id = value_windows.customer_id
    left join acquisition_costs
        on
            first_orders.cohort_month = acquisition_costs.month
            and first_orders.acquisition_channel = acquisition_costs.channel

),

repayments as (

    -- the first valid order with which the cumulative CM2 reaches the acquisition CAC
    select
        orders_aged.customer_id,
        min(orders_aged.days_since_first_order) as days_to_repay_cac
    from orders_aged
    inner join customers_costed
        on orders_aged.customer_id = customers_costed.customer_id
    where
        orders_aged.unknown_cost_orders_so_far = 0
        and orders_aged.cumulative_contribution_margin >= customers_costed.acquisition_cac
    group by orders_aged.customer_id

),

final as (

    select
        customers_costed.customer_id,
        customers_costed.cohort_month,
        customers_costed.acquisition_channel,
        customers_costed.unknown_cost_orders = 0 as has_known_cost,
        cast(customers_costed.gross_margin as {{ type_money() }}) as gross_margin,
        cast(customers_costed.contribution_margin as {{ type_money() }}) as contribution_margin,
        cast(customers_costed.net_revenue as {{ type_money() }}) as net_revenue,
        cast(customers_costed.net_revenue_covered as {{ type_money() }}) as net_revenue_covered,
        cast(customers_costed.contribution_margin_covered as {{ type_money() }})
            as contribution_margin_covered,
        cast(customers_costed.first_order_net_revenue as {{ type_money() }})
            as first_order_net_revenue,
        cast(customers_costed.first_order_gross_margin as {{ type_money() }})
            as first_order_gross_margin,
        customers_costed.first_order_has_known_cost,
        {%- for n in windows %}
            customers_costed.is_window_{{ n }}d_complete,
            -- null while the window is incomplete or holds an order of unknown cost
            cast(
                case
                    when
                        customers_costed.is_window_{{ n }}d_complete
                        and customers_costed.unknown_cost_orders_{{ n }}d = 0
                        then customers_costed.contribution_margin_{{ n }}d_covered
                end as {{ type_money() }}
            ) as margin_ltv_{{ n }}d,
            customers_costed.net_revenue_{{ n }}d,
            {%- for measure in ['net_revenue', 'contribution_margin'] %}
                {{ null_until_complete(
                    'customers_costed.' ~ measure ~ '_' ~ n ~ 'd_covered',
                    type_money(),
                    'customers_costed.is_window_' ~ n ~ 'd_complete'
                ) }} as {{ measure }}_{{ n }}d_covered,
            {%- endfor %}
        {%- endfor %}
        cast(customers_costed.acquisition_cac as {{ type_double() }}) as acquisition_cac,
        customers_costed.contribution_margin >= customers_costed.acquisition_cac
            as has_repaid_cac,
        cast(
            case
                when customers_costed.contribution_margin >= customers_costed.acquisition_cac
                    then repayments.days_to_repay_cac
            end as {{ dbt.type_int() }}
        ) as days_to_repay_cac,
        {{ safe_divide(
            'customers_costed.contribution_margin', 'customers_costed.acquisition_cac'
        ) }} as cac_repayment_ratio
    from customers_costed
    left join repayments
        on customers_costed.customer_id = repayments.customer_id

)

select * from final
