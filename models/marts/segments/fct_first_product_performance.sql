-- grain: one row per first product x stratum_type x stratum_value ('all' / 'all' is the
-- headline row of each first product; offer_type, acquisition_channel and cohort_year split
-- the same customers within each stratum type).
with

cells as (

    select
        product_key,
        stratum_type,
        stratum_value,
        first_product_category,
        customers,
        is_below_min_sample,
        customers_complete_90d,
        repeat_customers_90d,
        repeat_rate_90d,
        repeat_rate_90d_ci_low,
        repeat_rate_90d_ci_high,
        customers_complete_180d,
        repeat_customers_180d,
        repeat_rate_180d,
        repeat_rate_180d_ci_low,
        repeat_rate_180d_ci_high,
        customers_complete_365d,
        repeat_customers_365d,
        repeat_rate_365d,
        repeat_rate_365d_ci_low,
        repeat_rate_365d_ci_high,
        repeat_net_revenue_365d,
        ltv_365d_excl_first_order,
        repeat_customers,
        median_days_to_second_order,
        km_p25_days_to_second_order,
        km_median_days_to_second_order,
        km_p75_days_to_second_order,
        repeat_orders,
        repeat_orders_with_first_product,
        same_product_repeat_order_share,
        avg_first_order_discount_depth,
        margin_ltv_365d,
        first_order_gross_margin_rate
    from {{ ref('int_first_products_aggregated') }}
    where product_level = 'product'

),

products as (

    select
        product_id,
        product_name
    from {{ ref('stg_shop__products') }}

),

final as (

    select
        -- keys
        cells.product_key as first_product_id,
        cells.stratum_type,
        cells.stratum_value,
        products.product_name as first_product_name,
        cells.first_product_category,

        -- customers, repeat within fixed windows, value
        cells.customers,
        cells.is_below_min_sample,
        cells.customers_complete_90d,
        cells.repeat_customers_90d,
        cells.repeat_rate_90d,
        cells.repeat_rate_90d_ci_low,
        cells.repeat_rate_90d_ci_high,
        cells.customers_complete_180d,
        cells.repeat_customers_180d,
        cells.repeat_rate_180d,
        cells.repeat_rate_180d_ci_low,
        cells.repeat_rate_180d_ci_high,
        cells.customers_complete_365d,
        cells.repeat_customers_365d,
        cells.repeat_rate_365d,
        cells.repeat_rate_365d_ci_low,
        cells.repeat_rate_365d_ci_high,
        cells.repeat_net_revenue_365d,
        cells.ltv_365d_excl_first_order,
        cells.repeat_customers,
        cells.median_days_to_second_order,
        cells.km_p25_days_to_second_order,
        cells.km_median_days_to_second_order,
        cells.km_p75_days_to_second_order,
        cells.repeat_orders,
        cells.repeat_orders_with_first_product,
        cells.same_product_repeat_order_share,
        cells.avg_first_order_discount_depth,
        cells.margin_ltv_365d,
        cells.first_order_gross_margin_rate
    from cells
    left join products
        on cells.product_key = products.product_id

)

select * from final
