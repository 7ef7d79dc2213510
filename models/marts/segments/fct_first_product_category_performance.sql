-- grain: one row per first product category x stratum_type x stratum_value ('all' / 'all'
-- is the headline row of each category; offer_type, acquisition_channel, cohort_year and
-- is_subscriber split the same customers within each stratum type).
-- The category level of int_first_products_aggregated (see fct_first_product_performance
-- for the product level): the same metrics, under the category key, with the number of
-- first products pooled; no margin columns.
{%- set windows = [90, 180, 365] %}
with

cells as (

    select * from {{ ref('int_first_products_aggregated') }}
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
        {%- for n in windows %}
            customers_complete_{{ n }}d,
            repeat_customers_{{ n }}d,
            repeat_rate_{{ n }}d,
            repeat_rate_{{ n }}d_ci_low,
            repeat_rate_{{ n }}d_ci_high,
        {%- endfor %}
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
