-- grain: one row per month x channel of int_marketing_spend_loaded (plus 'all'): the margin
-- economics of the month's new customers (acquisition cohort by acquisition channel): fully
-- loaded CAC, margin LTV at 182 / 365 days, cost coverage and margin payback months (doc
-- blocks in _margin__docs.md). Same maturity rule as the revenue LTV (last day of the
-- cohort month + N - 1 <= as_of_date); margin sums follow the cost-coverage rule (var
-- min_cost_coverage): below it null, at or above it the covered orders' sum.
{%- set windows = [182, 365] %}
{%- set min_coverage = var('min_cost_coverage') %}
{#- the customer sums read, summed per channel and summed again for channel 'all' -#}
{%- set measures = ['net_revenue', 'net_revenue_covered'] %}
{%- for n in windows %}
    {%- do measures.extend([
        'net_revenue_' ~ n ~ 'd',
        'net_revenue_' ~ n ~ 'd_covered',
        'contribution_margin_' ~ n ~ 'd_covered',
    ]) %}
{%- endfor %}
{%- do measures.append('contribution_margin_covered') %}
with

acquisition_costs as (

    select
        month,
        channel,
        spend_fully_loaded,
        new_customers,
        cac_fully_loaded
    from {{ ref('int_marketing_spend_loaded') }}

),

customers as (

    select
        customer_id,
        cohort_month,
        {%- for measure in measures %}
            {{ measure }},
        {%- endfor %}
        acquisition_channel
    from {{ ref('int_customers_margin_valued') }}

),

orders as (

    select
        customer_id,
        order_month,
        contribution_margin
    from {{ ref('int_orders_netted') }}
    where is_valid_order and has_known_cost

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

customers_per_channel as (

    select
        cohort_month,
        {%- for measure in measures %}
            sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        acquisition_channel as channel
    from customers
    group by cohort_month, acquisition_channel

),

customers_with_total as (

    select
        cohort_month,
        {%- for measure in measures %}
            {{ measure }},
        {%- endfor %}
        channel
    from customers_per_channel
    union all
    select
        cohort_month,
        {%- for measure in measures %}
            sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        'all' as channel
    from customers_per_channel
    group by cohort_month

),

margin_per_activity_month as (

    -- CM2 of the cohort's orders with a known cost, by order month
    select
        customers.cohort_month,
        customers.acquisition_channel as channel,
        orders.order_month as activity_month,
        sum(orders.contribution_margin) as contribution_margin
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
    group by customers.cohort_month, customers.acquisition_channel, orders.order_month

),

margin_with_total as (

    select
        cohort_month,
        channel,
        activity_month,
        contribution_margin
    from margin_per_activity_month
    union all
    select
        cohort_month,
        'all' as channel,
        activity_month,
        sum(contribution_margin) as contribution_margin
    from margin_per_activity_month
    group by cohort_month, activity_month

),

margin_cumulated as (

    select
        cohort_month,
        channel,
        activity_month,
        {{ dbt.datediff('cohort_month', 'activity_month', 'month') }}
            as months_since_acquisition,
        sum(contribution_margin) over (
            partition by cohort_month, channel
            order by activity_month
            rows between unbounded preceding and current row
        ) as cumulative_contribution_margin
    from margin_with_total

),

payback as (

    -- the cumulative CM2 only changes in months with orders, so the first complete month
    -- in which it reaches the fully loaded spend is one of them
    select
        margin_cumulated.cohort_month,
        margin_cumulated.channel,
        min(margin_cumulated.months_since_acquisition) as margin_payback_months
    from margin_cumulated
    inner join acquisition_costs
        on
            margin_cumulated.cohort_month = acquisition_costs.month
            and margin_cumulated.channel = acquisition_costs.channel
    cross join as_of
    where
        {{ month_window_is_complete('margin_cumulated.activity_month', 1, 'as_of.as_of_date') }}
        and margin_cumulated.cumulative_contribution_margin
        >= acquisition_costs.spend_fully_loaded
    group by margin_cumulated.cohort_month, margin_cumulated.channel

),

cells as (

    select
        acquisition_costs.month,
        acquisition_costs.channel,
        acquisition_costs.new_customers,
        acquisition_costs.cac_fully_loaded,
        {{ safe_divide(
            'customers_with_total.net_revenue_covered', 'customers_with_total.net_revenue'
        ) }} as cost_coverage,
        {%- for n in windows %}
            {{ month_window_is_complete('acquisition_costs.month', n, 'as_of.as_of_date') }}
                as is_{{ n }}d_mature,
            {{ safe_divide(
                'customers_with_total.net_revenue_' ~ n ~ 'd_covered',
                'customers_with_total.net_revenue_' ~ n ~ 'd'
            ) }} as cost_coverage_{{ n }}d,
            customers_with_total.contribution_margin_{{ n }}d_covered,
        {%- endfor %}
        payback.margin_payback_months
    from acquisition_costs
    cross join as_of
    left join customers_with_total
        on
            acquisition_costs.month = customers_with_total.cohort_month
            and acquisition_costs.channel = customers_with_total.channel
    left join payback
        on
            acquisition_costs.month = payback.cohort_month
            and acquisition_costs.channel = payback.channel

),

final as (

    select
        month,
        channel,
        cast(new_customers as {{ dbt.type_int() }}) as new_customers,
        cast(cac_fully_loaded as {{ type_double() }}) as cac_fully_loaded,
        cast(cost_coverage as {{ type_double() }}) as cost_coverage,
        {%- for n in windows %}
            cast(
                case
                    when is_{{ n }}d_mature and cost_coverage_{{ n }}d >= {{ min_coverage }}
                        then {{ safe_divide(
                            'contribution_margin_' ~ n ~ 'd_covered', 'new_customers'
                        ) }}
                end as {{ type_double() }}
            ) as margin_ltv_{{ n }}d,
        {%- endfor %}
        cast(
            case
                when cac_fully_loaded > 0 and cost_coverage >= {{ min_coverage }}
                    then margin_payback_months
            end as {{ dbt.type_int() }}
        ) as margin_payback_months
    from cells

)

select * from final
