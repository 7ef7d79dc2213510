-- grain: one row per cohort month x acquisition channel, plus channel 'all': the month's
-- new customers, their first-order revenue, and their value and repeat within fixed windows
-- after the first order (attributed-to-order view, int_customers_value_windows). A window
-- of N days is mature for the cell when it is complete for every customer the month can
-- hold: last day of the cohort month + N - 1 <= as_of_date. Immature values are null.
{%- set windows = [182, 365] %}
with

customers as (

    select
        customer_id,
        cohort_month,
        acquisition_channel,
        first_order_net_revenue
    from {{ ref('dim_customers') }}

),

value_windows as (

    select
        customer_id,
        {%- for n in windows %}
            ltv_{{ n }}d,
            has_repeat_within_{{ n }}d{{ "," if not loop.last }}
        {%- endfor %}
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
        {%- for n in windows %}
            value_windows.ltv_{{ n }}d,
            case when value_windows.has_repeat_within_{{ n }}d then 1 else 0 end
                as repeat_within_{{ n }}d{{ "," if not loop.last }}
        {%- endfor %}
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
        {%- for n in windows %}
            sum(ltv_{{ n }}d) as net_revenue_{{ n }}d,
            sum(repeat_within_{{ n }}d) as repeat_customers_{{ n }}d{{ "," if not loop.last }}
        {%- endfor %}
    from customers_valued
    group by cohort_month, acquisition_channel

),

with_total as (

    select
        cohort_month,
        channel,
        new_customers,
        first_order_net_revenue,
        {%- for n in windows %}
            net_revenue_{{ n }}d,
            repeat_customers_{{ n }}d{{ "," if not loop.last }}
        {%- endfor %}
    from per_channel
    union all
    select
        cohort_month,
        'all' as channel,
        sum(new_customers) as new_customers,
        sum(first_order_net_revenue) as first_order_net_revenue,
        {%- for n in windows %}
            sum(net_revenue_{{ n }}d) as net_revenue_{{ n }}d,
            sum(repeat_customers_{{ n }}d) as repeat_customers_{{ n }}d{{ "," if not loop.last }}
        {%- endfor %}
    from per_channel
    group by cohort_month

),

maturity as (

    select
        with_total.cohort_month,
        with_total.channel,
        with_total.new_customers,
        with_total.first_order_net_revenue,
        {%- for n in windows %}
            with_total.net_revenue_{{ n }}d,
            with_total.repeat_customers_{{ n }}d,
            {{ dbt.dateadd('day', n - 1, dbt.last_day('with_total.cohort_month', 'month')) }}
            <= as_of.as_of_date as is_{{ n }}d_mature{{ "," if not loop.last }}
        {%- endfor %}
    from with_total
    cross join as_of

),

final as (

    select
        cohort_month,
        channel,
        cast(new_customers as {{ dbt.type_int() }}) as new_customers,
        cast(first_order_net_revenue as {{ type_double() }}) as first_order_net_revenue,
        {%- for n in windows %}
            is_{{ n }}d_mature,
            case
                when is_{{ n }}d_mature then cast(net_revenue_{{ n }}d as {{ type_double() }})
            end as net_revenue_{{ n }}d,
            case
                when is_{{ n }}d_mature
                    then cast(repeat_customers_{{ n }}d as {{ dbt.type_int() }})
            end as repeat_customers_{{ n }}d{{ "," if not loop.last }}
        {%- endfor %}
    from maturity

)

select * from final
