-- grain: one row per customer with at least one valid order: what the customer's valid
-- orders say (first order and product, sums to date, second and latest order, plan types,
-- contact fields). First half of the customer hub: int_customers_enriched adds RFM,
-- lifecycle and margins. Two models, not one query, because one query building all of
-- their hash tables at once needed more than DuckDB's 2.5GB limit at 1M customers and
-- failed the build (docs/decisions.md, Performance and memory).
with

orders as (

    -- every valid order, for the sums to date; the first and the latest order are read by
    -- their own imports, so that no CTE holds every order with its attributes in memory
    select
        customer_id,
        order_sequence,
        purchase_type,
        ordered_at,
        order_date,
        gross_sales,
        discounts,
        returns,
        net_revenue
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

first_orders as (

    select
        customer_id,
        order_id,
        identity_source,
        ordered_at,
        order_date,
        channel,
        discount_code,
        purchase_type,
        is_bfcm_order,
        discount_depth,
        net_revenue
    from {{ ref('int_orders_netted') }}
    where is_valid_order and order_sequence = 1

),

order_plan_types as (

    select
        customer_id,
        order_sequence,
        purchase_type
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

first_products as (

    -- the first product is the first order's main product (highest-value paid line)
    select
        order_id,
        main_product_id as product_id,
        main_product_category as product_category
    from {{ ref('int_orders_main_product_picked') }}
    where order_sequence = 1

),

customers as (

    select
        customer_id,
        country,
        email_hash
    from {{ ref('stg_shop__customers') }}

),

orders_per_customer as (

    select
        customer_id,
        count(*) as order_count,
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(returns) as returns,
        sum(net_revenue) as net_revenue,
        max(ordered_at) as last_order_at,
        max(order_date) as last_order_date,
        -- the second valid order (order_sequence is unique per customer)
        max(case when order_sequence = 2 then ordered_at end) as second_order_at,
        max(case when order_sequence = 2 then order_date end) as second_order_date,
        -- plan type beyond the first order: subscription orders are often repeat orders
        count(case when purchase_type = 'subscription' then 1 end) as subscription_orders,
        min(case when purchase_type = 'subscription' then ordered_at end)
            as first_subscription_at
    from orders
    group by customer_id

),

latest_orders as (

    -- the latest valid order gives the current plan type: order_sequence numbers a
    -- customer's valid orders 1..n, so the latest is the one whose sequence is the count
    select
        order_plan_types.customer_id,
        order_plan_types.purchase_type
    from order_plan_types
    inner join orders_per_customer
        on
            order_plan_types.customer_id = orders_per_customer.customer_id
            and order_plan_types.order_sequence = orders_per_customer.order_count

),

final as (

    select
        first_orders.customer_id,
        first_orders.identity_source,
        customers.country,
        -- salted email hash (loader), for CRM exports; guests carry it in their id
        coalesce(
            customers.email_hash,
            case
                when first_orders.identity_source = 'guest_email'
                    then substr(first_orders.customer_id, 7)
            end
        ) as email_hash,
        first_orders.order_id as first_order_id,
        first_orders.ordered_at as first_order_at,
        first_orders.order_date as first_order_date,
        first_orders.channel as acquisition_channel,
        first_orders.discount_code as first_order_discount_code,
        first_orders.purchase_type as first_order_purchase_type,
        first_orders.discount_depth as first_order_discount_depth,
        first_orders.is_bfcm_order as is_bfcm_acquired,
        first_products.product_id as first_product_id,
        first_products.product_category as first_product_category,
        first_orders.net_revenue as first_order_net_revenue,
        cast(orders_per_customer.order_count as {{ dbt.type_int() }}) as order_count,
        cast(orders_per_customer.gross_sales as {{ type_money() }}) as gross_sales,
        cast(orders_per_customer.discounts as {{ type_money() }}) as discounts,
        cast(orders_per_customer.returns as {{ type_money() }}) as returns,
        cast(orders_per_customer.net_revenue as {{ type_money() }}) as net_revenue,
        orders_per_customer.second_order_at,
        orders_per_customer.second_order_date,
        orders_per_customer.last_order_at,
        orders_per_customer.last_order_date,
        cast(orders_per_customer.subscription_orders as {{ dbt.type_int() }})
            as subscription_orders,
        orders_per_customer.first_subscription_at,
        latest_orders.purchase_type as current_plan_type
    from first_orders
    inner join orders_per_customer
        on first_orders.customer_id = orders_per_customer.customer_id
    left join first_products
        on first_orders.order_id = first_products.order_id
    left join customers
        on first_orders.customer_id = customers.customer_id
    left join latest_orders
        on first_orders.customer_id = latest_orders.customer_id

)

select * from final
