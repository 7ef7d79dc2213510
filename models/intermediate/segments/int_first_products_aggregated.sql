-- grain: one row per product_level ('product' or 'category') x product_key x stratum_type
-- x stratum_value: what customers acquired with a first product (or a first product
-- category) did next. Each customer counts once per stratum type, under the single first
-- product of dim_customers (the first order's highest-value non-gift line).
-- Stratum types: all ('all'), offer_type, acquisition_channel, cohort_year, is_subscriber
-- (any valid subscription order as of as_of_date, 'true' / 'false').
-- Days to second order: observed median over repeaters, and Kaplan-Meier quartiles over all
-- customers (no second order = right-censored at days_observed, i.e. at as_of_date).
{%- set windows = [90, 180, 365] %}
{%- set group_columns = ['product_level', 'product_key', 'stratum_type', 'stratum_value'] %}
with

customers as (

    select
        customer_id,
        first_product_id,
        first_product_category,
        first_order_offer_type,
        acquisition_channel,
        cohort_month,
        first_order_discount_depth,
        order_count,
        days_to_second_order,
        is_subscriber
    from {{ ref('int_customers_enriched') }}
    where first_product_id is not null

),

value_windows as (

    select
        customer_id,
        {%- for n in windows %}
            has_repeat_within_{{ n }}d,
        {%- endfor %}
        ltv_365d_excl_first_order,
        days_observed
    from {{ ref('int_customers_value_windows') }}

),

customers_margin as (

    select
        customer_id,
        first_order_has_known_cost,
        first_order_net_revenue,
        first_order_gross_margin,
        net_revenue_365d,
        net_revenue_365d_covered,
        contribution_margin_365d_covered
    from {{ ref('int_customers_margin_valued') }}

),

repeat_order_lines as (

    select
        customer_id,
        order_id,
        product_id
    from {{ ref('int_order_lines_netted') }}
    where is_valid_order and order_sequence > 1 and not is_gift

),

repeat_orders_with_first_product as (

    -- repeat orders with a paid line of the customer's own first product
    select
        repeat_order_lines.customer_id,
        count(distinct repeat_order_lines.order_id) as repeat_orders_with_first_product
    from repeat_order_lines
    inner join customers
        on
            repeat_order_lines.customer_id = customers.customer_id
            and repeat_order_lines.product_id = customers.first_product_id
    group by repeat_order_lines.customer_id

),

customers_profiled as (

    select
        customers.customer_id,
        customers.first_product_id,
        customers.first_product_category,
        customers.first_order_offer_type,
        customers.acquisition_channel,
        cast(
            cast(extract(year from customers.cohort_month) as {{ dbt.type_int() }})
            as {{ dbt.type_string() }}
        ) as cohort_year,
        case when customers.is_subscriber then 'true' else 'false' end as is_subscriber,
        customers.first_order_discount_depth,
        customers.days_to_second_order,
        coalesce(customers.days_to_second_order, value_windows.days_observed)
            as second_order_duration_days,
        customers.days_to_second_order is not null as is_second_order_event,
        customers.order_count - 1 as repeat_orders,
        coalesce(repeat_orders_with_first_product.repeat_orders_with_first_product, 0)
            as repeat_orders_with_first_product,
        {%- for n in windows %}
            value_windows.has_repeat_within_{{ n }}d,
        {%- endfor %}
        value_windows.ltv_365d_excl_first_order,
        -- margins (issue 15): first order's CM1 and the 365-day CM2, known-cost orders only
        case
            when customers_margin.first_order_has_known_cost
                then customers_margin.first_order_net_revenue
            else 0
        end as first_order_net_revenue_covered,
        case
            when customers_margin.first_order_has_known_cost
                then customers_margin.first_order_gross_margin
            else 0
        end as first_order_gross_margin_covered,
        customers_margin.first_order_net_revenue,
        customers_margin.net_revenue_365d,
        customers_margin.net_revenue_365d_covered,
        customers_margin.contribution_margin_365d_covered
    from customers
    inner join value_windows
        on customers.customer_id = value_windows.customer_id
    left join customers_margin
        on customers.customer_id = customers_margin.customer_id
    left join repeat_orders_with_first_product
        on customers.customer_id = repeat_orders_with_first_product.customer_id

),

stratum_types as (

    select 'all' as stratum_type
    union all
    select 'offer_type' as stratum_type
    union all
    select 'acquisition_channel' as stratum_type
    union all
    select 'cohort_year' as stratum_type
    union all
    select 'is_subscriber' as stratum_type

),

product_levels as (

    select 'product' as product_level
    union all
    select 'category' as product_level

),

customers_leveled as (

    -- each customer once per stratum type, under its first product and under its category
    select
        product_levels.product_level,
        stratum_types.stratum_type,
        customers_profiled.customer_id,
        customers_profiled.first_product_id,
        customers_profiled.first_product_category,
        customers_profiled.first_order_discount_depth,
        customers_profiled.days_to_second_order,
        customers_profiled.second_order_duration_days,
        customers_profiled.is_second_order_event,
        customers_profiled.repeat_orders,
        customers_profiled.repeat_orders_with_first_product,
        {%- for n in windows %}
            customers_profiled.has_repeat_within_{{ n }}d,
        {%- endfor %}
        customers_profiled.ltv_365d_excl_first_order,
        customers_profiled.first_order_net_revenue_covered,
        customers_profiled.first_order_gross_margin_covered,
        customers_profiled.first_order_net_revenue,
        customers_profiled.net_revenue_365d,
        customers_profiled.net_revenue_365d_covered,
        customers_profiled.contribution_margin_365d_covered,
        case product_levels.product_level
            when 'product' then customers_profiled.first_product_id
            else customers_profiled.first_product_category
        end as product_key,
        case stratum_types.stratum_type
            when 'offer_type' then customers_profiled.first_order_offer_type
            when 'acquisition_channel' then customers_profiled.acquisition_channel
            when 'cohort_year' then customers_profiled.cohort_year
            when 'is_subscriber' then customers_profiled.is_subscriber
            else 'all'
        end as stratum_value
    from customers_profiled
    cross join stratum_types
    cross join product_levels

),

cells_aggregated as (

    select
        product_level,
        product_key,
        stratum_type,
        stratum_value,
        max(first_product_category) as first_product_category,
        count(distinct first_product_id) as first_products,
        count(*) as customers,
        {%- for n in windows %}
            count(has_repeat_within_{{ n }}d) as customers_complete_{{ n }}d,
            sum(case when has_repeat_within_{{ n }}d then 1 else 0 end)
                as repeat_customers_{{ n }}d,
        {%- endfor %}
        coalesce(sum(ltv_365d_excl_first_order), 0) as repeat_net_revenue_365d,
        count(days_to_second_order) as repeat_customers,
        sum(first_order_net_revenue) as first_order_net_revenue,
        sum(first_order_net_revenue_covered) as first_order_net_revenue_covered,
        sum(first_order_gross_margin_covered) as first_order_gross_margin_covered,
        sum(net_revenue_365d) as net_revenue_365d,
        sum(net_revenue_365d_covered) as net_revenue_365d_covered,
        sum(contribution_margin_365d_covered) as contribution_margin_365d_covered,
        sum(repeat_orders) as repeat_orders,
        sum(repeat_orders_with_first_product) as repeat_orders_with_first_product,
        -- averaged as exact decimals (depths have 6 decimals): the same bits on every build
        avg(cast(first_order_discount_depth as decimal(18, 6))) as avg_first_order_discount_depth
    from customers_leveled
    group by
        product_level,
        product_key,
        stratum_type,
        stratum_value

),

medians as (

    -- observed median of days to second order over the cell's customers with one
    select
        product_level,
        product_key,
        stratum_type,
        stratum_value,
        {{ percentile_continuous('days_to_second_order', 0.5) }} as median_days_to_second_order
    from customers_leveled
    where days_to_second_order is not null
    group by
        product_level,
        product_key,
        stratum_type,
        stratum_value

),

-- Kaplan-Meier quartiles of days to second order per cell (censoring-aware)
second_order_survival as (

    {{ kaplan_meier_quantiles(
        'customers_leveled', group_columns, 'second_order_duration_days', 'is_second_order_event'
    ) }}

),

final as (

    select
        cells_aggregated.product_level,
        cells_aggregated.product_key,
        cells_aggregated.stratum_type,
        cells_aggregated.stratum_value,
        cells_aggregated.first_product_category,
        cast(cells_aggregated.first_products as {{ dbt.type_int() }}) as first_products,
        cast(cells_aggregated.customers as {{ dbt.type_int() }}) as customers,
        {{ is_below_min_sample('cells_aggregated.customers') }} as is_below_min_sample,
        {%- for n in windows %}
            {%- set successes = 'cells_aggregated.repeat_customers_' ~ n ~ 'd' %}
            {%- set trials = 'cells_aggregated.customers_complete_' ~ n ~ 'd' %}
            cast({{ trials }} as {{ dbt.type_int() }}) as customers_complete_{{ n }}d,
            cast({{ successes }} as {{ dbt.type_int() }}) as repeat_customers_{{ n }}d,
            {{ safe_divide(successes, trials) }} as repeat_rate_{{ n }}d,
            {{ wilson_interval_bound(successes, trials, var('wilson_z'), 'low') }}
                as repeat_rate_{{ n }}d_ci_low,
            {{ wilson_interval_bound(successes, trials, var('wilson_z'), 'high') }}
                as repeat_rate_{{ n }}d_ci_high,
        {%- endfor %}
        cast(cells_aggregated.repeat_net_revenue_365d as {{ type_money() }})
            as repeat_net_revenue_365d,
        {{ safe_divide(
            'cells_aggregated.repeat_net_revenue_365d', 'cells_aggregated.customers_complete_365d'
        ) }} as ltv_365d_excl_first_order,
        cast(cells_aggregated.repeat_customers as {{ dbt.type_int() }}) as repeat_customers,
        medians.median_days_to_second_order,
        cast(second_order_survival.km_p25 as {{ type_double() }}) as km_p25_days_to_second_order,
        cast(second_order_survival.km_median as {{ type_double() }})
            as km_median_days_to_second_order,
        cast(second_order_survival.km_p75 as {{ type_double() }}) as km_p75_days_to_second_order,
        cast(cells_aggregated.repeat_orders as {{ dbt.type_int() }}) as repeat_orders,
        cast(cells_aggregated.repeat_orders_with_first_product as {{ dbt.type_int() }})
            as repeat_orders_with_first_product,
        {{ safe_divide(
            'cells_aggregated.repeat_orders_with_first_product', 'cells_aggregated.repeat_orders'
        ) }} as same_product_repeat_order_share,
        cast(cells_aggregated.avg_first_order_discount_depth as {{ type_double() }})
            as avg_first_order_discount_depth,
        -- margins (issue 15): null below var min_cost_coverage of the rows they sum
        cast(
            case
                when
                    {{ safe_divide(
                        'cells_aggregated.net_revenue_365d_covered',
                        'cells_aggregated.net_revenue_365d'
                    ) }} >= {{ var('min_cost_coverage') }}
                    then {{ safe_divide(
                        'cells_aggregated.contribution_margin_365d_covered',
                        'cells_aggregated.customers_complete_365d'
                    ) }}
            end as {{ type_double() }}
        ) as margin_ltv_365d,
        cast(
            case
                when
                    {{ safe_divide(
                        'cells_aggregated.first_order_net_revenue_covered',
                        'cells_aggregated.first_order_net_revenue'
                    ) }} >= {{ var('min_cost_coverage') }}
                    then {{ safe_divide(
                        'cells_aggregated.first_order_gross_margin_covered',
                        'cells_aggregated.first_order_net_revenue_covered'
                    ) }}
            end as {{ type_double() }}
        ) as first_order_gross_margin_rate
    from cells_aggregated
    left join medians
        on
            cells_aggregated.product_level = medians.product_level
            and cells_aggregated.product_key = medians.product_key
            and cells_aggregated.stratum_type = medians.stratum_type
            and cells_aggregated.stratum_value = medians.stratum_value
    left join second_order_survival
        on
            cells_aggregated.product_level = second_order_survival.product_level
            and cells_aggregated.product_key = second_order_survival.product_key
            and cells_aggregated.stratum_type = second_order_survival.stratum_type
            and cells_aggregated.stratum_value = second_order_survival.stratum_value

)

select * from final
