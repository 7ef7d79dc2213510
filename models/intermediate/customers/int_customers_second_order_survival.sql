-- grain: one row per customer with a valid order: time to the second valid order as
-- survival data (an event when it happened, else right-censored at days_observed), with
-- the cohort and first-order segments, ready for kaplan_meier_quantiles().
with

customers as (

    select
        customer_id,
        cohort_month,
        first_order_date,
        acquisition_channel,
        first_order_offer_type,
        first_order_discount_band,
        first_product_id,
        first_product_category,
        is_bfcm_acquired,
        first_order_season,
        first_order_purchase_type,
        activation_speed,
        as_of_date,
        days_to_second_order,
        cast(
            {{ dbt.datediff('first_order_date', 'as_of_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_observed
    from {{ ref('int_customers_enriched') }}

),

final as (

    select
        customers.*,
        cast(
            coalesce(customers.days_to_second_order, customers.days_observed)
            as {{ dbt.type_int() }}
        ) as duration_days,
        customers.days_to_second_order is not null as is_event
    from customers

)

select * from final
