-- grain: one row per customer with a valid order x segment type ('all' plus each
-- first-order segment), with the customer's value windows and second-order survival data:
-- the one long input of fct_cohort_value and fct_customer_base_monthly (first-order
-- semantics: segments never change, except activation_speed and is_subscriber, which are as
-- of as_of_date: a not_yet customer can become fast / slow, a one-time buyer a subscriber).
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
    'is_subscriber',
] %}
with

survival as (

    select
        customer_id,
        cohort_month,
        {%- for column in segment_columns if column != 'is_subscriber' %}
            {{ column }},
        {%- endfor %}
        as_of_date,
        days_to_second_order,
        duration_days,
        is_event
    from {{ ref('int_customers_second_order_survival') }}

),

plan_types as (

    select
        customer_id,
        is_subscriber
    from {{ ref('int_customers_enriched') }}

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

customers_valued as (

    -- one row per customer: survival and value windows joined once, before the unpivot
    -- multiplies the rows by the number of segment types
    select
        survival.customer_id,
        survival.cohort_month,
        {%- for column in segment_columns if column != 'is_subscriber' %}
            survival.{{ column }},
        {%- endfor %}
        plan_types.is_subscriber,
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
    from survival
    inner join value_windows
        on survival.customer_id = value_windows.customer_id
    inner join plan_types
        on survival.customer_id = plan_types.customer_id

),

final as (

    {%- for column in ['all'] + segment_columns %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select
            customer_id,
            cohort_month,
            '{{ column }}' as segment_type,
            {% if column == 'all' -%}
                'all'
            {%- else -%}
                coalesce(cast({{ column }} as {{ dbt.type_string() }}), 'unknown')
            {%- endif %} as segment_value,
            as_of_date,
            days_to_second_order,
            duration_days,
            is_event,
            ltv_182d,
            ltv_365d,
            has_repeat_within_90d,
            has_repeat_within_180d,
            has_repeat_within_182d,
            has_repeat_within_365d
        from customers_valued
    {%- endfor %}

)

select * from final
