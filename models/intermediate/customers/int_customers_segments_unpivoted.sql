-- grain: one row per customer with a valid order x segment type ('all' plus each
-- first-order segment), with the customer's value windows, inactivity flags and
-- second-order survival data: the one long input of fct_cohort_value and
-- fct_customer_base_monthly (first-order semantics: segments never change, except
-- activation_speed and is_subscriber, which are as of as_of_date: a not_yet customer can
-- become fast / slow, a one-time buyer a subscriber). Customers by the integer
-- customer_key, the join key of its readers.
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
{#- carried through the unpivot unchanged: survival data, then value windows #}
{%- set survival_columns = ['as_of_date', 'days_to_second_order', 'duration_days', 'is_event'] %}
{%- set value_columns = [
    'ltv_182d',
    'ltv_365d',
    'has_repeat_within_90d',
    'has_repeat_within_180d',
    'has_repeat_within_182d',
    'has_repeat_within_365d',
    'is_inactive_6m',
    'is_inactive_12m',
] %}
with

survival as (

    select
        customer_id,
        cohort_month,
        {%- for column in segment_columns if column != 'is_subscriber' %}
            {{ column }},
        {%- endfor %}
        {{ survival_columns | join(',\n        ') }}
    from {{ ref('int_customers_second_order_survival') }}

),

plan_types as (

    select
        customer_id,
        customer_key,
        is_subscriber
    from {{ ref('int_customers_enriched') }}

),

value_windows as (

    select
        customer_id,
        {{ value_columns | join(',\n        ') }}
    from {{ ref('int_customers_value_windows') }}

),

customers_valued as (

    -- one row per customer: survival and value windows joined once, before the unpivot
    -- multiplies the rows by the number of segment types
    select
        plan_types.customer_key,
        survival.cohort_month,
        {%- for column in segment_columns if column != 'is_subscriber' %}
            survival.{{ column }},
        {%- endfor %}
        {%- for column in survival_columns %}
            survival.{{ column }},
        {%- endfor %}
        {%- for column in value_columns %}
            value_windows.{{ column }},
        {%- endfor %}
        plan_types.is_subscriber
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
            customer_key,
            cohort_month,
            '{{ column }}' as segment_type,
            {% if column == 'all' -%}
                'all'
            {%- else -%}
                coalesce(cast({{ column }} as {{ dbt.type_string() }}), 'unknown')
            {%- endif %} as segment_value,
            {{ (survival_columns + value_columns) | join(',\n            ') }}
        from customers_valued
    {%- endfor %}

)

select * from final
