-- Growth question: what do customers of each first product buy next?
-- Grain: one row per first product x second product, the three most common second products
-- of each first product (ties: the lower product id first). share_of_repeaters is over the
-- first product's repeaters (customers with a second valid order), with its Wilson interval;
-- is_below_min_sample = true means the first product has too few repeaters to trust the
-- shares (var first_product_min_customers): read the interval, do not rank across products.
with journeys as (
    select
        first_product_id,
        first_product_name,
        first_product_category,
        second_product_id,
        second_product_name,
        second_product_category,
        is_same_product,
        customers,
        first_product_repeaters,
        share_of_repeaters,
        share_of_repeaters_ci_low,
        share_of_repeaters_ci_high,
        is_below_min_sample,
        median_days_to_second_order
    from {{ ref('fct_product_journeys') }}
),

ranked as (
    select
        first_product_id,
        first_product_name,
        first_product_category,
        second_product_id,
        second_product_name,
        second_product_category,
        is_same_product,
        customers,
        first_product_repeaters,
        share_of_repeaters,
        share_of_repeaters_ci_low,
        share_of_repeaters_ci_high,
        is_below_min_sample,
        median_days_to_second_order,
        row_number() over (
            partition by first_product_id
            order by customers desc, second_product_id asc
        ) as next_product_rank
    from journeys
)

select * from ranked
where next_product_rank <= 3
order by first_product_repeaters desc, first_product_id asc, next_product_rank asc
