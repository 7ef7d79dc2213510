-- grain: one row per customer with a valid order x segment type ('all' plus each
-- first-order segment), with the customer's value windows and second-order survival data:
-- the long input of fct_cohort_value (first-order semantics: segments never change, except
-- activation_speed, which is as of as_of_date: a not_yet customer can become fast / slow).
{%- set segment_columns = [
    'acquisition_channel',
    'first_order_offer_type',
    'first_order_discount_band',
    'first_product_id',
    'first_product_category',
    'is_bfcm_acquired',
    'first_order_season',
    'first_order_purchase_type',
    'activation_speed',
] %}
with

survival as (

    select
        customer_id,
        cohort_month,
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
        duration_days,
        is_event
    from {{ ref('int_customers_second_order_survival') }}

),

value_windows as (

    select
        customer_id,
        ltv_182d,
        ltv_365d,
        has_repeat_within_90d,
        has_repeat_within_180d,
        has_repeat_within_182d,
        has_repeat_within_365d
    from {{ ref('int_customers_value_windows') }}

),

customers_segmented as (

    select
        survival.customer_id,
        survival.cohort_month,
        'all' as segment_type,
        'all' as segment_value
    from survival
    {%- for column in segment_columns %}
        union all
        select
            survival.customer_id,
            survival.cohort_month,
            '{{ column }}' as segment_type,
            coalesce(cast(survival.{{ column }} as {{ dbt.type_string() }}), 'unknown')
                as segment_value
        from survival
    {%- endfor %}

),

final as (

    select
        customers_segmented.customer_id,
        customers_segmented.cohort_month,
        customers_segmented.segment_type,
        customers_segmented.segment_value,
        survival.as_of_date,
        survival.days_to_second_order,
        survival.duration_days,
        survival.is_event,
        value_windows.ltv_182d,
        value_windows.ltv_365d,
        value_windows.has_repeat_within_90d,
        value_windows.has_repeat_within_180d,
        value_windows.has_repeat_within_182d,
        value_windows.has_repeat_within_365d
    from customers_segmented
    inner join survival
        on customers_segmented.customer_id = survival.customer_id
    inner join value_windows
        on customers_segmented.customer_id = value_windows.customer_id

)

select * from final
