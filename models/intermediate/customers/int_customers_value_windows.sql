-- grain: one row per customer with a valid order: value and repeat within fixed windows
-- after the first order. Window N covers days 0..N-1 after the first order date (day 0 =
-- the first order's date); it is complete when first_order_date + N - 1 <= as_of_date
-- (macro window_is_complete). Incomplete windows are null, never partial. is_inactive_6m /
-- _12m: no valid order in days 182..364 / 365..729 after the first order (null until day
-- 364 / 729 is observed: the 365 / 730-day window from the first order is complete).
{%- set windows = [90, 180, 182, 365] %}
{#- inactivity: no valid order in months 6-12 (days 182..364) / 12-24 (days 365..729) after
    the first order; known once the window's last day is observed, else null -#}
{%- set inactivity_windows = {'6m': [182, 364], '12m': [365, 729]} %}
with

customers as (

    -- first and second valid order dates per customer (same grain as dim_customers, read
    -- from fct_orders so that dim_customers may use this model)
    select
        customer_id,
        min(case when order_sequence = 1 then order_date end) as first_order_date,
        min(case when order_sequence = 2 then order_date end) as second_order_date
    from {{ ref('int_orders_netted') }}
    where is_valid_order and order_sequence <= 2
    group by customer_id

),

orders as (

    select
        customer_id,
        order_date,
        order_sequence,
        net_revenue
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

orders_aged as (

    select
        orders.customer_id,
        orders.order_sequence,
        orders.net_revenue,
        {{ dbt.datediff('customers.first_order_date', 'orders.order_date', 'day') }}
            as days_since_first_order
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id

),

value_per_customer as (

    select
        customer_id,
        {%- for n in windows %}
            cast(sum(
                case when days_since_first_order < {{ n }} then net_revenue else 0 end
            ) as {{ type_money() }}) as net_revenue_{{ n }}d,
            cast(sum(
                case
                    when days_since_first_order < {{ n }} and order_sequence > 1
                        then net_revenue
                    else 0
                end
            ) as {{ type_money() }}) as repeat_net_revenue_{{ n }}d,
        {%- endfor %}
        {%- for label, bounds in inactivity_windows.items() %}
            sum(
                case
                    when days_since_first_order between {{ bounds[0] }} and {{ bounds[1] }}
                        then 1
                    else 0
                end
            ) as orders_{{ label }}_after,
        {%- endfor %}
        count(*) as order_count
    from orders_aged
    group by customer_id

),

customers_observed as (

    select
        customers.customer_id,
        customers.first_order_date,
        {{ dbt.datediff('customers.first_order_date', 'customers.second_order_date', 'day') }}
            as days_to_second_order,
        as_of.as_of_date,
        {{ dbt.datediff('customers.first_order_date', 'as_of.as_of_date', 'day') }}
            as days_observed
    from customers
    cross join as_of

),

final as (

    select
        customers_observed.customer_id,
        customers_observed.first_order_date,
        customers_observed.as_of_date,
        customers_observed.days_observed,
        value_per_customer.order_count,
        {%- for n in windows %}
            {%- set is_complete = window_is_complete(
                'customers_observed.first_order_date', n, 'customers_observed.as_of_date'
            ) %}
            {{ is_complete }} as is_window_{{ n }}d_complete,
            {{ null_until_complete(
                'value_per_customer.net_revenue_' ~ n ~ 'd', is_complete=is_complete
            ) }} as ltv_{{ n }}d,
            {{ null_until_complete(
                'value_per_customer.repeat_net_revenue_' ~ n ~ 'd', is_complete=is_complete
            ) }} as ltv_{{ n }}d_excl_first_order,
            {{ null_until_complete(
                'coalesce(customers_observed.days_to_second_order < ' ~ n ~ ', false)',
                is_complete=is_complete
            ) }} as has_repeat_within_{{ n }}d,
        {%- endfor %}
        {%- for label, bounds in inactivity_windows.items() %}
            case
                when {{ window_is_complete(
                    'customers_observed.first_order_date',
                    bounds[1] + 1,
                    'customers_observed.as_of_date'
                ) }}
                    then value_per_customer.orders_{{ label }}_after = 0
            end as is_inactive_{{ label }},
        {%- endfor %}
        customers_observed.days_to_second_order
    from customers_observed
    inner join value_per_customer
        on customers_observed.customer_id = value_per_customer.customer_id

)

select * from final
