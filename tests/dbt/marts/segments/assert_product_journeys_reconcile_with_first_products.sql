-- Journeys' customers add up to the first product's repeaters as counted in
-- fct_first_product_performance (repeat_customers of the 'all' / 'all' row), and the same
-- for categories in fct_first_product_category_performance; a first product with repeaters
-- but no journey (or the reverse) fails too. Returns one row per mismatch.
with

journeys_per_product as (

    select
        'product' as product_level,
        first_product_id as first_key,
        sum(customers) as journey_customers,
        max(first_product_repeaters) as stated_repeaters,
        sum(share_of_repeaters) as share_total
    from {{ ref('fct_product_journeys') }}
    group by first_product_id
    union all
    select
        'category' as product_level,
        first_product_category as first_key,
        sum(customers) as journey_customers,
        max(first_category_repeaters) as stated_repeaters,
        sum(share_of_repeaters) as share_total
    from {{ ref('fct_product_category_journeys') }}
    group by first_product_category

),

first_product_repeaters as (

    select
        'product' as product_level,
        first_product_id as first_key,
        repeat_customers
    from {{ ref('fct_first_product_performance') }}
    where stratum_type = 'all' and repeat_customers > 0
    union all
    select
        'category' as product_level,
        first_product_category as first_key,
        repeat_customers
    from {{ ref('fct_first_product_category_performance') }}
    where stratum_type = 'all' and repeat_customers > 0

),

compared as (

    select
        journeys.journey_customers,
        journeys.stated_repeaters,
        journeys.share_total,
        repeaters.repeat_customers,
        coalesce(journeys.product_level, repeaters.product_level) as product_level,
        coalesce(journeys.first_key, repeaters.first_key) as first_key
    from journeys_per_product as journeys
    full outer join first_product_repeaters as repeaters
        on
            journeys.product_level = repeaters.product_level
            and journeys.first_key = repeaters.first_key

)

select * from compared
where
    journey_customers is null
    or repeat_customers is null
    or journey_customers != repeat_customers
    or stated_repeaters != repeat_customers
    or abs(share_total - 1) > 0.000001
