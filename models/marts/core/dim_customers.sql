-- grain: one row per customer with at least one valid order; segments come from the first
-- valid order ("first-order semantics").
-- Computed in int_customers_enriched (the hub); this mart is its contract.
with

final as (

    select
        customer_id,
        identity_source,
        country,
        first_order_id,
        first_order_at,
        first_order_date,
        cohort_month,
        acquisition_channel,
        first_order_discount_code,
        first_order_purchase_type,
        first_order_discount_depth,
        first_order_discount_band,
        first_order_offer_type,
        is_bfcm_acquired,
        first_product_id,
        first_product_category,
        first_order_net_revenue,
        order_count,
        gross_sales,
        discounts,
        returns,
        net_revenue,
        second_order_at,
        second_order_date,
        days_to_second_order,
        last_order_at,
        last_order_date,
        days_since_last_order,
        as_of_date,
        recency_score,
        frequency_score,
        monetary_score,
        rfm_segment,
        acquisition_month_of_year,
        first_order_season,
        ltv_182d,
        ltv_365d,
        lifecycle_status,
        activation_speed,
        expected_next_order_date,
        is_in_cooldown,
        is_subscriber,
        first_subscription_at,
        subscription_orders,
        current_plan_type,
        first_order_plan_type,
        gross_margin,
        contribution_margin,
        margin_ltv_182d,
        margin_ltv_365d,
        acquisition_cac,
        has_repaid_cac,
        days_to_repay_cac,
        cac_repayment_ratio
    from {{ ref('int_customers_enriched') }}

)

select * from final
