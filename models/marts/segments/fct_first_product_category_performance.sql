-- grain: one row per first product category x stratum_type x stratum_value ('all' / 'all'
-- is the headline row of each category; offer_type, acquisition_channel and cohort_year
-- split the same customers within each stratum type).
with

cells as (

    select
        product_key,
        stratum_type,
        stratum_value,
        first_products,
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
        avg_first_order_discount_depth
    from {{ ref('int_first_products_aggregated') }}
    where product_level = 'category'

),

final as (

    select
        -- keys
        product_key as first_product_category,
        stratum_type,
        stratum_value,
        first_products,

        -- customers, repeat within fixed windows, value
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
        avg_first_order_discount_depth
    from cells

)

select * from final
