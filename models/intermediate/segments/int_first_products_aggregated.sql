-- grain: one row per product_level ('product' or 'category') x product_key x stratum_type
-- x stratum_value: what customers acquired with a first product (or a first product
-- category) did next. Each customer counts once per stratum type, under the single first
-- product of dim_customers (the first order's highest-value non-gift line).
-- Stratum types: all ('all'), offer_type, acquisition_channel, cohort_year, is_subscriber
-- (any valid subscription order as of as_of_date, 'true' / 'false').
-- Days to second order: observed median over repeaters, and Kaplan-Meier quartiles over all
-- customers (no second order = right-censored at days_observed, i.e. at as_of_date).
-- Each cell is aggregated straight from the one row per customer (one group by per
-- product level x stratum type, unioned): the customers are never copied per cell.
{%- set windows = [90, 180, 365] %}
{%- set product_levels = [
    ('product', 'first_product_id'),
    ('category', 'first_product_category'),
] %}
{%- set stratum_types = [
    ('all', none),
    ('offer_type', 'first_order_offer_type'),
    ('acquisition_channel', 'acquisition_channel'),
    ('cohort_year', 'cohort_year'),
    ('is_subscriber', 'is_subscriber'),
] %}
{%- set cell_axes = [] %}
{%- for product_level, key_column in product_levels %}
    {%- for stratum_type, stratum_column in stratum_types %}
        {%- do cell_axes.append((product_level, key_column, stratum_type, stratum_column)) %}
    {%- endfor %}
{%- endfor %}
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
        ltv_365d,
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
        value_windows.ltv_365d as net_revenue_365d,
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

-- Kaplan-Meier quartiles of days to second order per cell (censoring-aware), one query per
-- product level x stratum type, keyed by its own group columns
{%- for product_level, key_column, stratum_type, stratum_column in cell_axes %}
    {%- set cell_groups = [key_column] + ([stratum_column] if stratum_column else []) %}

    survival_{{ product_level }}_{{ stratum_type }} as (

        {{ kaplan_meier_quantiles(
            'customers_profiled', cell_groups, 'second_order_duration_days', 'is_second_order_event'
        ) }}

    ),
{%- endfor %}

cells_aggregated as (

    {%- for product_level, key_column, stratum_type, stratum_column in cell_axes %}
        {%- set cell_groups = [key_column] + ([stratum_column] if stratum_column else []) %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select
            '{{ product_level }}' as product_level,
            profiled.{{ key_column }} as product_key,
            '{{ stratum_type }}' as stratum_type,
            {{ 'profiled.' ~ stratum_column if stratum_column else "'all'" }} as stratum_value,
            max(profiled.first_product_category) as first_product_category,
            count(distinct profiled.first_product_id) as first_products,
            count(*) as customers,
            {%- for n in windows %}
                count(profiled.has_repeat_within_{{ n }}d) as customers_complete_{{ n }}d,
                sum(case when profiled.has_repeat_within_{{ n }}d then 1 else 0 end)
                    as repeat_customers_{{ n }}d,
            {%- endfor %}
            coalesce(sum(profiled.ltv_365d_excl_first_order), 0) as repeat_net_revenue_365d,
            count(profiled.days_to_second_order) as repeat_customers,
            -- observed median over the repeaters (nulls ignored)
            {{ percentile_continuous('profiled.days_to_second_order', 0.5) }}
                as median_days_to_second_order,
            -- the cell's one row of survival (a null key or stratum matches none)
            max(survival.km_p25) as km_p25,
            max(survival.km_median) as km_median,
            max(survival.km_p75) as km_p75,
            sum(profiled.first_order_net_revenue) as first_order_net_revenue,
            sum(profiled.first_order_net_revenue_covered) as first_order_net_revenue_covered,
            sum(profiled.first_order_gross_margin_covered) as first_order_gross_margin_covered,
            sum(profiled.net_revenue_365d) as net_revenue_365d,
            sum(profiled.net_revenue_365d_covered) as net_revenue_365d_covered,
            sum(profiled.contribution_margin_365d_covered) as contribution_margin_365d_covered,
            sum(profiled.repeat_orders) as repeat_orders,
            sum(profiled.repeat_orders_with_first_product) as repeat_orders_with_first_product,
            -- averaged as exact decimals (depths have 6 decimals): the same bits on every build
            avg(cast(profiled.first_order_discount_depth as decimal(18, 6)))
                as avg_first_order_discount_depth
        from customers_profiled as profiled
        left join survival_{{ product_level }}_{{ stratum_type }} as survival
            using ({{ cell_groups | join(', ') }})
        group by profiled.{{ cell_groups | join(', profiled.') }}
    {%- endfor %}

),

final as (

    select
        product_level,
        product_key,
        stratum_type,
        stratum_value,
        first_product_category,
        cast(first_products as {{ dbt.type_int() }}) as first_products,
        cast(customers as {{ dbt.type_int() }}) as customers,
        {{ is_below_min_sample('customers') }} as is_below_min_sample,
        {%- for n in windows %}
            {%- set successes = 'repeat_customers_' ~ n ~ 'd' %}
            {%- set trials = 'customers_complete_' ~ n ~ 'd' %}
            cast({{ trials }} as {{ dbt.type_int() }}) as customers_complete_{{ n }}d,
            cast({{ successes }} as {{ dbt.type_int() }}) as repeat_customers_{{ n }}d,
            {{ safe_divide(successes, trials) }} as repeat_rate_{{ n }}d,
            {{ wilson_interval_bound(successes, trials, var('wilson_z'), 'low') }}
                as repeat_rate_{{ n }}d_ci_low,
            {{ wilson_interval_bound(successes, trials, var('wilson_z'), 'high') }}
                as repeat_rate_{{ n }}d_ci_high,
        {%- endfor %}
        cast(repeat_net_revenue_365d as {{ type_money() }}) as repeat_net_revenue_365d,
        {{ safe_divide('repeat_net_revenue_365d', 'customers_complete_365d') }}
            as ltv_365d_excl_first_order,
        cast(repeat_customers as {{ dbt.type_int() }}) as repeat_customers,
        cast(median_days_to_second_order as {{ type_double() }}) as median_days_to_second_order,
        cast(km_p25 as {{ type_double() }}) as km_p25_days_to_second_order,
        cast(km_median as {{ type_double() }}) as km_median_days_to_second_order,
        cast(km_p75 as {{ type_double() }}) as km_p75_days_to_second_order,
        cast(repeat_orders as {{ dbt.type_int() }}) as repeat_orders,
        cast(repeat_orders_with_first_product as {{ dbt.type_int() }})
            as repeat_orders_with_first_product,
        {{ safe_divide('repeat_orders_with_first_product', 'repeat_orders') }}
            as same_product_repeat_order_share,
        {#- margins (issue 15): null below var min_cost_coverage of the rows they sum #}
        {%- for metric, margin, denominator, covered, revenue in [
            (
                'margin_ltv_365d', 'contribution_margin_365d_covered', 'customers_complete_365d',
                'net_revenue_365d_covered', 'net_revenue_365d',
            ),
            (
                'first_order_gross_margin_rate', 'first_order_gross_margin_covered',
                'first_order_net_revenue_covered',
                'first_order_net_revenue_covered', 'first_order_net_revenue',
            ),
        ] %}
            cast(
                case
                    when {{ safe_divide(covered, revenue) }} >= {{ var('min_cost_coverage') }}
                        then {{ safe_divide(margin, denominator) }}
                end as {{ type_double() }}
            ) as {{ metric }},
        {%- endfor %}
        cast(avg_first_order_discount_depth as {{ type_double() }})
            as avg_first_order_discount_depth
    from cells_aggregated

)

select * from final
