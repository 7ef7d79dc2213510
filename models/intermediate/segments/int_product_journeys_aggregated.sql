-- grain: one row per product_level ('product' or 'category') x first_key x second_key: the
-- customers whose first valid order's first product (or its category) is first_key and
-- whose second valid order's main product (or its category) is second_key. Each repeater
-- (a customer with a second valid order and a first product) counts exactly once per
-- level, so a first key's cells add up to its repeaters in fct_first_product_performance.
-- The second order's main product follows the first product's rule
-- (int_orders_main_product_picked).
{%- set product_levels = [
    ('product', 'first_product_id', 'second_product_id'),
    ('category', 'first_product_category', 'second_product_category'),
] %}
with

customers as (

    select
        customer_id,
        first_product_id,
        first_product_category,
        days_to_second_order
    from {{ ref('int_customers_enriched') }}
    where first_product_id is not null

),

second_products as (

    -- the second order's main product: the first product's rule (highest-value paid line)
    select
        customer_id,
        main_product_id as second_product_id,
        main_product_category as second_product_category
    from {{ ref('int_orders_main_product_picked') }}
    where order_sequence = 2

),

repeaters as (

    select
        customers.customer_id,
        customers.first_product_id,
        customers.first_product_category,
        second_products.second_product_id,
        second_products.second_product_category,
        customers.days_to_second_order
    from customers
    inner join second_products
        on customers.customer_id = second_products.customer_id
    where customers.days_to_second_order is not null

),

-- one group by per product level over the one row per repeater, unioned
cells_aggregated as (
    {%- for product_level, first_key, second_key in product_levels %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select
            '{{ product_level }}' as product_level,
            {{ first_key }} as first_key,
            {{ second_key }} as second_key,
            max(first_product_category) as first_product_category,
            max(second_product_category) as second_product_category,
            count(*) as customers,
            -- the first key's repeaters: its cells' customers summed
            sum(count(*)) over (partition by {{ first_key }}) as first_key_repeaters,
            {{ percentile_continuous('days_to_second_order', 0.5) }}
                as median_days_to_second_order
        from repeaters
        group by {{ first_key }}, {{ second_key }}
    {%- endfor %}

),

final as (

    select
        product_level,
        first_key,
        second_key,
        first_product_category,
        second_product_category,
        cast(customers as {{ dbt.type_int() }}) as customers,
        cast(first_key_repeaters as {{ dbt.type_int() }}) as first_key_repeaters,
        {{ safe_divide('customers', 'first_key_repeaters') }} as share_of_repeaters,
        {{ wilson_interval_bound('customers', 'first_key_repeaters', var('wilson_z'), 'low') }}
            as share_of_repeaters_ci_low,
        {{ wilson_interval_bound('customers', 'first_key_repeaters', var('wilson_z'), 'high') }}
            as share_of_repeaters_ci_high,
        {{ is_below_min_sample('first_key_repeaters') }} as is_below_min_sample,
        cast(median_days_to_second_order as {{ type_double() }}) as median_days_to_second_order
    from cells_aggregated

)

select * from final
