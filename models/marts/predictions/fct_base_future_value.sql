-- grain: one row per segment (segment_type, segment_value): the predicted 12-month future
-- value of the current customer base next to the same segment's historical value.
-- segment_type 'all' is the whole base; the others follow first-order semantics.
{%- set segments = future_value_segments() %}
with

predictions as (

    select
        customer_id,
        expected_orders_365d,
        p_repurchase_365d,
        predicted_value_365d
    from {{ ref('fct_customer_predictions') }}

),

customers as (

    select
        customer_id,
        acquisition_channel,
        first_order_offer_type,
        first_product_id,
        first_product_category,
        cohort_month,
        net_revenue
    from {{ ref('int_customers_enriched') }}

),

value_windows as (

    select
        customer_id,
        ltv_365d,
        ltv_365d_excl_first_order
    from {{ ref('int_customers_value_windows') }}

),

customers_joined as (

    select
        customers.customer_id,
        customers.acquisition_channel,
        customers.first_order_offer_type,
        customers.first_product_id,
        customers.first_product_category,
        customers.cohort_month,
        customers.net_revenue,
        predictions.expected_orders_365d,
        predictions.p_repurchase_365d,
        predictions.predicted_value_365d,
        value_windows.ltv_365d,
        value_windows.ltv_365d_excl_first_order
    from customers
    left join predictions
        on customers.customer_id = predictions.customer_id
    left join value_windows
        on customers.customer_id = value_windows.customer_id

),

customers_segmented as (

    {{ segments_unioned('customers_joined', segments, [
        'customer_id',
        'net_revenue',
        'expected_orders_365d',
        'p_repurchase_365d',
        'predicted_value_365d',
        'ltv_365d',
        'ltv_365d_excl_first_order',
    ]) }}

),

segments_aggregated as (

    select
        segment_type,
        segment_value,
        count(*) as customers,
        count(expected_orders_365d) as customers_predicted,
        {{ sum_exact('expected_orders_365d') }} as expected_orders_365d,
        {{ sum_exact('p_repurchase_365d') }} as expected_repurchasers_365d,
        count(predicted_value_365d) as customers_value_predicted,
        {{ sum_exact('predicted_value_365d') }} as predicted_value_365d,
        count(ltv_365d) as customers_365d_complete,
        sum(ltv_365d) as ltv_365d,
        sum(ltv_365d_excl_first_order) as ltv_365d_excl_first_order,
        sum(net_revenue) as net_revenue_to_date
    from customers_segmented
    group by
        segment_type,
        segment_value

),

final as (

    select
        -- segment
        segment_type,
        segment_value,
        -- customers; predicted, next horizon_days
        {{ future_value_predicted() }},
        -- historical
        cast(customers_365d_complete as {{ dbt.type_bigint() }}) as customers_365d_complete,
        cast(ltv_365d as {{ type_money() }}) as ltv_365d,
        {{ safe_divide('ltv_365d', 'customers_365d_complete') }} as ltv_365d_per_customer,
        cast(ltv_365d_excl_first_order as {{ type_money() }}) as ltv_365d_excl_first_order,
        {{ safe_divide('ltv_365d_excl_first_order', 'customers_365d_complete') }}
            as ltv_365d_excl_first_order_per_customer,
        cast(net_revenue_to_date as {{ type_money() }}) as net_revenue_to_date,
        {{ safe_divide('net_revenue_to_date', 'customers') }}
            as net_revenue_to_date_per_customer,
        {{ is_below_min_sample('customers') }} as is_below_min_sample
    from segments_aggregated

)

select * from final
