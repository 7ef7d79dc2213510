-- grain: one row per customer with at least one valid order; segments come from the first
-- valid order ("first-order semantics"). Hub of the customers: dim_customers selects from
-- it, and every intermediate model that needs customers reads this model, never the mart.
with

orders as (

    select
        order_id,
        customer_id,
        identity_source,
        ordered_at,
        order_date,
        order_sequence,
        channel,
        discount_code,
        purchase_type,
        is_bfcm_order,
        discount_depth,
        gross_sales,
        discounts,
        returns,
        net_revenue
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

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

rfm_scores as (

    select
        customer_id,
        recency_score,
        frequency_score,
        monetary_score,
        rfm_segment
    from {{ ref('int_customers_rfm_scored') }}
    where is_as_of_snapshot

),

customers_lifecycle as (

    select
        customer_id,
        ltv_182d,
        ltv_365d,
        lifecycle_status,
        activation_speed,
        expected_next_order_date,
        is_in_cooldown
    from {{ ref('int_customers_lifecycle_classified') }}

),

customers_margin as (

    select
        customer_id,
        gross_margin,
        contribution_margin,
        margin_ltv_182d,
        margin_ltv_365d,
        acquisition_cac,
        has_repaid_cac,
        days_to_repay_cac,
        cac_repayment_ratio
    from {{ ref('int_customers_margin_valued') }}

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
    from orders
    where order_sequence = 1

),

latest_orders as (

    -- the latest valid order gives the current plan type: order_sequence numbers a
    -- customer's valid orders 1..n, so the latest is the one whose sequence is the count
    select
        orders.customer_id,
        orders.purchase_type
    from orders
    inner join orders_per_customer
        on
            orders.customer_id = orders_per_customer.customer_id
            and orders.order_sequence = orders_per_customer.order_count

),

final as (

    select
        -- ids
        first_orders.customer_id,
        first_orders.identity_source,
        customers.country,

        -- first order and cohort
        first_orders.order_id as first_order_id,
        first_orders.ordered_at as first_order_at,
        first_orders.order_date as first_order_date,
        {{ month_start('first_orders.order_date') }} as cohort_month,
        first_orders.channel as acquisition_channel,
        first_orders.discount_code as first_order_discount_code,
        first_orders.purchase_type as first_order_purchase_type,
        first_orders.discount_depth as first_order_discount_depth,
        case
            when first_orders.discount_depth <= 0 then 'none'
            when first_orders.discount_depth < 0.20 then 'lt_20'
            when first_orders.discount_depth < 0.40 then '20_to_40'
            else 'gte_40'
        end as first_order_discount_band,
        case
            when first_orders.discount_depth >= {{ var('promo_discount_threshold') }}
                then 'promo'
            when first_orders.discount_depth > 0 then 'discounted'
            else 'full_price'
        end as first_order_offer_type,
        first_orders.is_bfcm_order as is_bfcm_acquired,
        first_products.product_id as first_product_id,
        first_products.product_category as first_product_category,
        first_orders.net_revenue as first_order_net_revenue,

        -- orders and value to date (valid orders, as of the build)
        cast(orders_per_customer.order_count as {{ dbt.type_int() }}) as order_count,
        cast(orders_per_customer.gross_sales as {{ type_money() }}) as gross_sales,
        cast(orders_per_customer.discounts as {{ type_money() }}) as discounts,
        cast(orders_per_customer.returns as {{ type_money() }}) as returns,
        cast(orders_per_customer.net_revenue as {{ type_money() }}) as net_revenue,

        -- repeat
        orders_per_customer.second_order_at,
        orders_per_customer.second_order_date,
        cast(
            {{ dbt.datediff(
                'first_orders.order_date', 'orders_per_customer.second_order_date', 'day'
            ) }}
            as {{ dbt.type_int() }}
        ) as days_to_second_order,
        orders_per_customer.last_order_at,
        orders_per_customer.last_order_date,
        cast(
            {{ dbt.datediff('orders_per_customer.last_order_date', 'as_of.as_of_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_order,
        as_of.as_of_date,

        -- rfm as of as_of_date (int_customers_rfm_scored) and first-order calendar
        rfm_scores.recency_score,
        rfm_scores.frequency_score,
        rfm_scores.monetary_score,
        rfm_scores.rfm_segment,
        cast(extract(month from first_orders.order_date) as {{ dbt.type_int() }})
            as acquisition_month_of_year,
        {{ season_of_month('extract(month from first_orders.order_date)') }}
            as first_order_season,

        -- value windows and lifecycle as of as_of_date
        customers_lifecycle.ltv_182d,
        customers_lifecycle.ltv_365d,
        customers_lifecycle.lifecycle_status,
        customers_lifecycle.activation_speed,
        customers_lifecycle.expected_next_order_date,
        customers_lifecycle.is_in_cooldown,

        -- plan type: subscriptions over all valid orders, as of the build
        orders_per_customer.subscription_orders > 0 as is_subscriber,
        orders_per_customer.first_subscription_at,
        cast(orders_per_customer.subscription_orders as {{ dbt.type_int() }})
            as subscription_orders,
        latest_orders.purchase_type as current_plan_type,
        first_orders.purchase_type as first_order_plan_type,

        -- salted email hash (loader), for CRM exports; guests carry it in their id
        coalesce(
            customers.email_hash,
            case
                when first_orders.identity_source = 'guest_email'
                    then substr(first_orders.customer_id, 7)
            end
        ) as email_hash,

        -- margins and CAC repayment to date (issue 15, int_customers_margin_valued)
        customers_margin.gross_margin,
        customers_margin.contribution_margin,
        customers_margin.margin_ltv_182d,
        customers_margin.margin_ltv_365d,
        customers_margin.acquisition_cac,
        customers_margin.has_repaid_cac,
        customers_margin.days_to_repay_cac,
        customers_margin.cac_repayment_ratio
    from first_orders
    inner join orders_per_customer
        on first_orders.customer_id = orders_per_customer.customer_id
    left join first_products
        on first_orders.order_id = first_products.order_id
    left join customers
        on first_orders.customer_id = customers.customer_id
    left join rfm_scores
        on first_orders.customer_id = rfm_scores.customer_id
    left join customers_lifecycle
        on first_orders.customer_id = customers_lifecycle.customer_id
    left join latest_orders
        on first_orders.customer_id = latest_orders.customer_id
    left join customers_margin
        on first_orders.customer_id = customers_margin.customer_id
    cross join as_of

)

select * from final
