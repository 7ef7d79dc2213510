-- grain: one row per customer with at least one valid order; segments come from the first
-- valid order ("first-order semantics"). Hub of the customers: dim_customers selects from
-- it, and every intermediate model that needs customers reads this model, never the mart.
-- What the orders say comes from int_customers_orders_aggregated; this model adds RFM,
-- lifecycle and margins (two queries: one needed more than DuckDB's memory limit at 1M).
with

customers_ordered as (

    -- first order, first product, sums to date, plan types and contact fields
    select *
    from {{ ref('int_customers_orders_aggregated') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

customer_keys as (

    -- the integer key of each customer id (its first purchase day's row)
    select
        customer_id,
        customer_key
    from {{ ref('int_purchase_days_sequenced') }}
    where purchase_day_number = 1

),

rfm_scores as (

    select
        customer_key,
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

final as (

    select
        -- ids (customer_key: the build's integer key, int_purchase_days_sequenced)
        customers_ordered.customer_id,
        customer_keys.customer_key,
        customers_ordered.identity_source,
        customers_ordered.country,

        -- first order and cohort
        customers_ordered.first_order_id,
        customers_ordered.first_order_at,
        customers_ordered.first_order_date,
        {{ month_start('customers_ordered.first_order_date') }} as cohort_month,
        customers_ordered.acquisition_channel,
        customers_ordered.first_order_discount_code,
        customers_ordered.first_order_purchase_type,
        customers_ordered.first_order_discount_depth,
        case
            when customers_ordered.first_order_discount_depth <= 0 then 'none'
            when customers_ordered.first_order_discount_depth < 0.20 then 'lt_20'
            when customers_ordered.first_order_discount_depth < 0.40 then '20_to_40'
            else 'gte_40'
        end as first_order_discount_band,
        case
            when
                customers_ordered.first_order_discount_depth
                >= {{ var('promo_discount_threshold') }}
                then 'promo'
            when customers_ordered.first_order_discount_depth > 0 then 'discounted'
            else 'full_price'
        end as first_order_offer_type,
        customers_ordered.is_bfcm_acquired,
        customers_ordered.first_product_id,
        customers_ordered.first_product_category,
        customers_ordered.first_order_net_revenue,

        -- orders and value to date (valid orders, as of the build)
        customers_ordered.order_count,
        customers_ordered.gross_sales,
        customers_ordered.discounts,
        customers_ordered.returns,
        customers_ordered.net_revenue,

        -- repeat
        customers_ordered.second_order_at,
        customers_ordered.second_order_date,
        cast(
            {{ dbt.datediff(
                'customers_ordered.first_order_date', 'customers_ordered.second_order_date', 'day'
            ) }}
            as {{ dbt.type_int() }}
        ) as days_to_second_order,
        customers_ordered.last_order_at,
        customers_ordered.last_order_date,
        cast(
            {{ dbt.datediff('customers_ordered.last_order_date', 'as_of.as_of_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_order,
        as_of.as_of_date,

        -- rfm as of as_of_date (int_customers_rfm_scored) and first-order calendar
        rfm_scores.recency_score,
        rfm_scores.frequency_score,
        rfm_scores.monetary_score,
        rfm_scores.rfm_segment,
        cast(extract(month from customers_ordered.first_order_date) as {{ dbt.type_int() }})
            as acquisition_month_of_year,
        {{ season_of_month('extract(month from customers_ordered.first_order_date)') }}
            as first_order_season,

        -- value windows and lifecycle as of as_of_date
        customers_lifecycle.ltv_182d,
        customers_lifecycle.ltv_365d,
        customers_lifecycle.lifecycle_status,
        customers_lifecycle.activation_speed,
        customers_lifecycle.expected_next_order_date,
        customers_lifecycle.is_in_cooldown,

        -- plan type: subscriptions over all valid orders, as of the build
        customers_ordered.subscription_orders > 0 as is_subscriber,
        customers_ordered.first_subscription_at,
        customers_ordered.subscription_orders,
        customers_ordered.current_plan_type,
        customers_ordered.first_order_purchase_type as first_order_plan_type,

        customers_ordered.email_hash,

        -- margins and CAC repayment to date (issue 15, int_customers_margin_valued)
        customers_margin.gross_margin,
        customers_margin.contribution_margin,
        customers_margin.margin_ltv_182d,
        customers_margin.margin_ltv_365d,
        customers_margin.acquisition_cac,
        customers_margin.has_repaid_cac,
        customers_margin.days_to_repay_cac,
        customers_margin.cac_repayment_ratio
    from customers_ordered
    left join customer_keys
        on customers_ordered.customer_id = customer_keys.customer_id
    left join rfm_scores
        on customer_keys.customer_key = rfm_scores.customer_key
    left join customers_lifecycle
        on customers_ordered.customer_id = customers_lifecycle.customer_id
    left join customers_margin
        on customers_ordered.customer_id = customers_margin.customer_id
    cross join as_of

)

select * from final
