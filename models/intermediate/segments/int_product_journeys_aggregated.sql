-- grain: one row per product_level ('product' or 'category') x first_key x second_key: the
-- customers whose first valid order's first product (or its category) is first_key and
-- whose second valid order's main product (or its category) is second_key. Each repeater
-- (a customer with a second valid order and a first product) counts exactly once per
-- level, so a first key's cells add up to its repeaters in fct_first_product_performance.
-- The second order's main product follows the first product's rule: the order's
-- highest-value paid line (ties: product id, then line id).
{%- set group_columns = ['product_level', 'first_key', 'second_key'] %}
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

second_order_lines as (

    select
        customer_id,
        order_line_id,
        product_id,
        net_sales_before_returns
    from {{ ref('int_order_lines_netted') }}
    where is_valid_order and order_sequence = 2 and not is_gift

),

products as (

    select
        product_id,
        product_category
    from {{ ref('stg_shop__products') }}

),

second_lines_ranked as (

    select
        customer_id,
        product_id,
        row_number() over (
            partition by customer_id
            order by net_sales_before_returns desc, product_id asc, order_line_id asc
        ) as line_rank
    from second_order_lines

),

second_products as (

    select
        second_lines_ranked.customer_id,
        second_lines_ranked.product_id as second_product_id,
        coalesce(products.product_category, 'uncategorised') as second_product_category
    from second_lines_ranked
    left join products
        on second_lines_ranked.product_id = products.product_id
    where second_lines_ranked.line_rank = 1

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

product_levels as (

    select 'product' as product_level
    union all
    select 'category' as product_level

),

repeaters_leveled as (

    select
        product_levels.product_level,
        repeaters.customer_id,
        repeaters.first_product_category,
        repeaters.second_product_category,
        repeaters.days_to_second_order,
        case product_levels.product_level
            when 'product' then repeaters.first_product_id
            else repeaters.first_product_category
        end as first_key,
        case product_levels.product_level
            when 'product' then repeaters.second_product_id
            else repeaters.second_product_category
        end as second_key
    from repeaters
    cross join product_levels

),

cells_aggregated as (

    select
        product_level,
        first_key,
        second_key,
        max(first_product_category) as first_product_category,
        max(second_product_category) as second_product_category,
        count(*) as customers
    from repeaters_leveled
    group by product_level, first_key, second_key

),

first_keys_counted as (

    select
        product_level,
        first_key,
        count(*) as first_key_repeaters
    from repeaters_leveled
    group by product_level, first_key

),

repeaters_ordered as (

    select
        product_level,
        first_key,
        second_key,
        days_to_second_order,
        row_number() over (
            partition by {{ group_columns | join(', ') }}
            order by days_to_second_order
        ) as repeater_position,
        count(*) over (partition by {{ group_columns | join(', ') }}) as repeaters
    from repeaters_leveled

),

medians as (

    -- the middle value (odd count) or the mean of the two middle values (even count)
    select
        product_level,
        first_key,
        second_key,
        avg(cast(days_to_second_order as {{ type_double() }})) as median_days_to_second_order
    from repeaters_ordered
    where 2 * repeater_position between repeaters and repeaters + 2
    group by product_level, first_key, second_key

),

final as (

    select
        cells_aggregated.product_level,
        cells_aggregated.first_key,
        cells_aggregated.second_key,
        cells_aggregated.first_product_category,
        cells_aggregated.second_product_category,
        cast(cells_aggregated.customers as {{ dbt.type_int() }}) as customers,
        cast(first_keys_counted.first_key_repeaters as {{ dbt.type_int() }})
            as first_key_repeaters,
        {{ safe_divide('cells_aggregated.customers', 'first_keys_counted.first_key_repeaters') }}
            as share_of_repeaters,
        {{ wilson_interval_bound(
            'cells_aggregated.customers', 'first_keys_counted.first_key_repeaters',
            var('wilson_z'), 'low'
        ) }} as share_of_repeaters_ci_low,
        {{ wilson_interval_bound(
            'cells_aggregated.customers', 'first_keys_counted.first_key_repeaters',
            var('wilson_z'), 'high'
        ) }} as share_of_repeaters_ci_high,
        {{ is_below_min_sample('first_keys_counted.first_key_repeaters') }}
            as is_below_min_sample,
        medians.median_days_to_second_order
    from cells_aggregated
    inner join first_keys_counted
        on
            cells_aggregated.product_level = first_keys_counted.product_level
            and cells_aggregated.first_key = first_keys_counted.first_key
    inner join medians
        on
            cells_aggregated.product_level = medians.product_level
            and cells_aggregated.first_key = medians.first_key
            and cells_aggregated.second_key = medians.second_key

)

select * from final
