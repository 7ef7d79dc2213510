-- grain: one row per first or second valid order (order_sequence 1 or 2) with a paid line:
-- the order's main product, its highest-value paid line (net sales before returns; gifts
-- never count; ties: product id, then line id). The one rule behind a customer's first
-- product (int_customers_enriched, order 1) and the second order's product of the product
-- journeys (int_product_journeys_aggregated, order 2).
with

order_lines as (

    select
        customer_id,
        order_id,
        order_sequence,
        order_line_id,
        product_id,
        net_sales_before_returns
    from {{ ref('int_order_lines_netted') }}
    where is_valid_order and order_sequence <= 2 and not is_gift

),

products as (

    select
        product_id,
        product_category
    from {{ ref('stg_shop__products') }}

),

order_lines_ranked as (

    select
        customer_id,
        order_id,
        order_sequence,
        product_id,
        row_number() over (
            partition by order_id
            order by net_sales_before_returns desc, product_id asc, order_line_id asc
        ) as line_rank
    from order_lines

),

final as (

    select
        order_lines_ranked.order_id,
        order_lines_ranked.customer_id,
        order_lines_ranked.order_sequence,
        order_lines_ranked.product_id as main_product_id,
        coalesce(products.product_category, 'uncategorised') as main_product_category
    from order_lines_ranked
    left join products
        on order_lines_ranked.product_id = products.product_id
    where order_lines_ranked.line_rank = 1

)

select * from final
