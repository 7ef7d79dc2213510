-- grain: one row per first product category x second product category: the customers
-- whose first product is in first_product_category and whose second valid order's main
-- product is in second_product_category. A first category's rows add up to its repeaters
-- (repeat_customers of its 'all' / 'all' row in fct_first_product_category_performance).
with

cells as (

    select * from {{ ref('int_product_journeys_aggregated') }}
    where product_level = 'category'

),

final as (

    select
        -- keys
        first_key as first_product_category,
        second_key as second_product_category,

        -- customers and their share of the first category's repeaters
        customers,
        first_key_repeaters as first_category_repeaters,
        share_of_repeaters,
        share_of_repeaters_ci_low,
        share_of_repeaters_ci_high,
        is_below_min_sample,
        median_days_to_second_order,
        first_key = second_key as is_same_category
    from cells

)

select * from final
