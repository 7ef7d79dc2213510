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

orders_running as (

    -- each valid order with its customer's first order (date, channel) and, in order
    -- sequence, the CM2 cumulated so far (null from the first order with an unknown cost):
    -- one window pass, no join back to the first orders
    select
        customer_id,
        order_date,
        order_sequence,
        net_revenue,
        gross_margin,
        contribution_margin,
        has_known_cost,
        first_value(order_date) over customer_orders as first_order_date,
        first_value(channel) over customer_orders as acquisition_channel,
        sum(contribution_margin) over customer_orders as cumulative_contribution_margin,
        sum(case when has_known_cost then 0 else 1 end) over customer_orders
            as unknown_cost_orders_so_far
    from orders
    window customer_orders as (
        partition by customer_id
        order by order_sequence
        rows between unbounded preceding and current row
    )

),

orders_aged as (

    -- the customer's acquisition CAC (its first order's month and channel) on each order
    select
        orders_running.customer_id,
        orders_running.order_date,
        orders_running.order_sequence,
        orders_running.net_revenue,
        orders_running.gross_margin,
        orders_running.contribution_margin,
        orders_running.has_known_cost,
        orders_running.first_order_date,
        orders_running.acquisition_channel,
        orders_running.cumulative_contribution_margin,
        orders_running.unknown_cost_orders_so_far,
        {{ month_start('orders_running.first_order_date') }} as cohort_month,
        {{ dbt.datediff('orders_running.first_order_date', 'orders_running.order_date', 'day') }}
            as days_since_first_order,
        acquisition_costs.cac_fully_loaded as acquisition_cac
    from orders_running
    left join acquisition_costs
        on
            {{ month_start('orders_running.first_order_date') }} = acquisition_costs.month
            and orders_running.acquisition_channel = acquisition_costs.channel

),

margins_per_customer as (

    select
        customer_id,
        -- constant per customer: its first order's, carried on every order
        min(first_order_date) as first_order_date,
        min(cohort_month) as cohort_month,
        min(acquisition_channel) as acquisition_channel,
        min(acquisition_cac) as acquisition_cac,
        max(case when order_sequence = 1 then net_revenue end) as first_order_net_revenue,
        max(case when order_sequence = 1 then gross_margin end) as first_order_gross_margin,
        max(
            case when order_sequence = 1 then case when has_known_cost then 1 else 0 end end
        ) = 1 as first_order_has_known_cost,
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
        -- the first valid order with which the cumulative CM2 reaches the acquisition CAC
        min(
            case
                when
                    unknown_cost_orders_so_far = 0
                    and cumulative_contribution_margin >= acquisition_cac
                    then days_since_first_order
            end
        ) as days_to_repay_cac
    from orders_aged
    group by customer_id

),

customers_costed as (

    select
        margins_per_customer.customer_id,
        margins_per_customer.first_order_date,
        margins_per_customer.cohort_month,
        margins_per_customer.acquisition_channel,
        margins_per_customer.first_order_net_revenue,
        margins_per_customer.first_order_gross_margin,
        margins_per_customer.first_order_has_known_cost,
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
        margins_per_customer.acquisition_cac,
        margins_per_customer.days_to_repay_cac
    from margins_per_customer
    inner join value_windows
        on margins_per_customer.customer_id = value_windows.customer_id

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
                    then customers_costed.days_to_repay_cac
            end as {{ dbt.type_int() }}
        ) as days_to_repay_cac,
        {{ safe_divide(
            'customers_costed.contribution_margin', 'customers_costed.acquisition_cac'
        ) }} as cac_repayment_ratio
    from customers_costed

)

select * from final
