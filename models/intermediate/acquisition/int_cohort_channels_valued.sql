-- grain: one row per cohort month x acquisition channel, plus channel 'all': the month's
-- new customers, their first-order revenue, and their value and repeat within fixed windows
-- after the first order (attributed-to-order view, int_customers_value_windows), with their
-- margin value (int_customers_margin_valued: cost coverage and margin LTV, doc blocks in
-- _margin__docs.md). A window of N days is mature for the cell when it is complete for
-- every customer the month can hold: last day of the cohort month + N - 1 <= as_of_date.
-- Immature values are null; margin LTV is also null below var min_cost_coverage.
{%- set windows = [182, 365] %}
{%- set min_coverage = var('min_cost_coverage') %}
{#- the customer sums, summed per channel and summed again for channel 'all' -#}
{%- set measures = [
    'new_customers', 'first_order_net_revenue', 'net_revenue', 'net_revenue_covered'
] %}
{%- for n in windows %}
    {%- do measures.extend([
        'net_revenue_' ~ n ~ 'd',
        'repeat_customers_' ~ n ~ 'd',
        'net_revenue_' ~ n ~ 'd_covered',
        'contribution_margin_' ~ n ~ 'd_covered',
    ]) %}
{%- endfor %}
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

margins as (

    select
        customer_id,
        {%- for n in windows %}
            net_revenue_{{ n }}d_covered,
            contribution_margin_{{ n }}d_covered,
        {%- endfor %}
        net_revenue,
        net_revenue_covered
    from {{ ref('int_customers_margin_valued') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

per_channel as (

    select
        customers.cohort_month,
        customers.acquisition_channel as channel,
        count(*) as new_customers,
        sum(customers.first_order_net_revenue) as first_order_net_revenue,
        {%- for n in windows %}
            sum(value_windows.ltv_{{ n }}d) as net_revenue_{{ n }}d,
            sum(case when value_windows.has_repeat_within_{{ n }}d then 1 else 0 end)
                as repeat_customers_{{ n }}d,
            sum(margins.net_revenue_{{ n }}d_covered) as net_revenue_{{ n }}d_covered,
            sum(margins.contribution_margin_{{ n }}d_covered)
                as contribution_margin_{{ n }}d_covered,
        {%- endfor %}
        sum(margins.net_revenue) as net_revenue,
        sum(margins.net_revenue_covered) as net_revenue_covered
    from customers
    inner join value_windows
        on customers.customer_id = value_windows.customer_id
    left join margins
        on customers.customer_id = margins.customer_id
    group by customers.cohort_month, customers.acquisition_channel

),

with_total as (

    {{ channel_total_unioned('per_channel', ['cohort_month'], measures) }}

),

maturity as (

    select
        {%- for n in windows %}
            {{ month_window_is_complete('with_total.cohort_month', n, 'as_of.as_of_date') }}
                as is_{{ n }}d_mature,
        {%- endfor %}
        {%- for measure in measures %}
            with_total.{{ measure }},
        {%- endfor %}
        with_total.cohort_month,
        with_total.channel
    from with_total
    cross join as_of

),

final as (

    select
        cohort_month,
        channel,
        cast(new_customers as {{ dbt.type_int() }}) as new_customers,
        cast(first_order_net_revenue as {{ type_money() }}) as first_order_net_revenue,
        {%- for n in windows %}
            is_{{ n }}d_mature,
            {{ null_until_complete(
                'net_revenue_' ~ n ~ 'd', type_money(), 'is_' ~ n ~ 'd_mature'
            ) }} as net_revenue_{{ n }}d,
            {{ null_until_complete(
                'repeat_customers_' ~ n ~ 'd', dbt.type_int(), 'is_' ~ n ~ 'd_mature'
            ) }} as repeat_customers_{{ n }}d,
            cast(
                case
                    when
                        is_{{ n }}d_mature
                        and {{ safe_divide(
                            'net_revenue_' ~ n ~ 'd_covered', 'net_revenue_' ~ n ~ 'd'
                        ) }} >= {{ min_coverage }}
                        then {{ safe_divide(
                            'contribution_margin_' ~ n ~ 'd_covered', 'new_customers'
                        ) }}
                end as {{ type_double() }}
            ) as margin_ltv_{{ n }}d,
        {%- endfor %}
        cast({{ safe_divide('net_revenue_covered', 'net_revenue') }} as {{ type_double() }})
            as cost_coverage
    from maturity

)

select * from final
