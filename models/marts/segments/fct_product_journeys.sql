-- grain: one row per first product x second product: the customers whose first valid
-- order's first product is first_product_id and whose second valid order's main product is
-- second_product_id. A first product's rows add up to its repeaters (repeat_customers of
-- its 'all' / 'all' row in fct_first_product_performance).
with

cells as (

    select * from {{ ref('int_product_journeys_aggregated') }}
    where product_level = 'product'

),

products as (

    select * from {{ ref('stg_shop__products') }}

),

final as (

    select
        -- keys
        cells.first_key as first_product_id,
        cells.second_key as second_product_id,
        first_products.product_name as first_product_name,
        second_products.product_name as second_product_name,
        cells.first_product_category,
        cells.second_product_category,

        -- customers and their share of the first product's repeaters
        cells.customers,
        cells.first_key_repeaters as first_product_repeaters,
        cells.share_of_repeaters,
        cells.share_of_repeaters_ci_low,
        cells.share_of_repeaters_ci_high,
        cells.is_below_min_sample,
        cells.median_days_to_second_order,
        cells.first_key = cells.second_key as is_same_product
    from cells
    left join products as first_products
        on cells.first_key = first_products.product_id
    left join products as second_products
        on cells.second_key = second_products.product_id

)

select * from final
