-- grain: one row per first product x stratum_type x stratum_value ('all' / 'all' is the
-- headline row of each first product; offer_type, acquisition_channel, cohort_year and
-- is_subscriber split the same customers within each stratum type).
-- The product level of int_first_products_aggregated, which also feeds
-- fct_first_product_category_performance (the category level): every metric is computed
-- there once; the two marts differ by the level they select, their key's name and the
-- columns of that level (product name and margins here).
{%- set windows = [90, 180, 365] %}
with

cells as (

    select * from {{ ref('int_first_products_aggregated') }}
    where product_level = 'product'

),

products as (

    select * from {{ ref('stg_shop__products') }}

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
        {%- for n in windows %}
            cells.customers_complete_{{ n }}d,
            cells.repeat_customers_{{ n }}d,
            cells.repeat_rate_{{ n }}d,
            cells.repeat_rate_{{ n }}d_ci_low,
            cells.repeat_rate_{{ n }}d_ci_high,
        {%- endfor %}
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
