-- grain: one row: the store's own purchase-delay distribution (days between consecutive
-- valid orders on different days) and the lifecycle, activation and cooldown thresholds
-- derived from it; a non-null var replaces the derived value.
{%- set overrides = {
    'new_customer_days': 'lifecycle_new_days',
    'active_days': 'lifecycle_active_days',
    'at_risk_days': 'lifecycle_at_risk_days',
    'lapsed_days': 'lifecycle_lapsed_days',
    'cooldown_days': 'cooldown_days',
    'activation_fast_days': 'activation_fast_days',
    'activation_window_days': 'activation_window_days',
} %}
with

repeat_orders as (

    select
        order_sequence,
        days_since_previous_order
    from {{ ref('int_orders_netted') }}
    where is_valid_order and order_sequence > 1

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

gaps_summarised as (

    -- same-day orders are one purchase occasion: zero-day gaps are left out
    select
        count(*) as gap_count,
        {{ percentile_continuous('days_since_previous_order', 0.25) }} as p25_gap_days,
        {{ percentile_continuous('days_since_previous_order', 0.5) }} as median_gap_days,
        {{ percentile_continuous('days_since_previous_order', 0.75) }} as p75_gap_days,
        {{ percentile_continuous('days_since_previous_order', 0.9) }} as p90_gap_days
    from repeat_orders
    where days_since_previous_order > 0

),

second_orders_summarised as (

    select
        count(*) as second_order_count,
        {{ percentile_continuous('days_since_previous_order', 0.5) }}
            as median_days_to_second_order,
        {{ percentile_continuous('days_since_previous_order', 0.9) }}
            as p90_days_to_second_order
    from repeat_orders
    where order_sequence = 2 and days_since_previous_order > 0

),

thresholds_derived as (

    select
        as_of.as_of_date,
        cast(gaps_summarised.gap_count as {{ dbt.type_int() }}) as gap_count,
        cast(gaps_summarised.p25_gap_days as {{ type_double() }}) as p25_gap_days,
        cast(gaps_summarised.median_gap_days as {{ type_double() }}) as median_gap_days,
        cast(gaps_summarised.p75_gap_days as {{ type_double() }}) as p75_gap_days,
        cast(gaps_summarised.p90_gap_days as {{ type_double() }}) as p90_gap_days,
        cast(
            second_orders_summarised.second_order_count as {{ dbt.type_int() }}
        ) as second_order_count,
        cast(
            second_orders_summarised.median_days_to_second_order as {{ type_double() }}
        ) as median_days_to_second_order,
        cast(
            second_orders_summarised.p90_days_to_second_order as {{ type_double() }}
        ) as p90_days_to_second_order,

        -- derived defaults of the thresholds (days)
        cast(gaps_summarised.p75_gap_days as {{ type_double() }}) as derived_new_customer_days,
        cast(gaps_summarised.p75_gap_days as {{ type_double() }}) as derived_active_days,
        cast(gaps_summarised.p90_gap_days as {{ type_double() }}) as derived_at_risk_days,
        cast(
            least(2 * gaps_summarised.p90_gap_days, {{ var('lifecycle_lapsed_cap_days') }})
            as {{ type_double() }}
        ) as derived_lapsed_days,
        cast(gaps_summarised.p25_gap_days as {{ type_double() }}) as derived_cooldown_days,
        cast(
            second_orders_summarised.median_days_to_second_order as {{ type_double() }}
        ) as derived_activation_fast_days,
        cast(gaps_summarised.p90_gap_days as {{ type_double() }}) as derived_activation_window_days
    from as_of
    cross join gaps_summarised
    cross join second_orders_summarised

),

final as (

    select
        -- thresholds in use (days): the var when set, else the derived value
        {%- for threshold, var_name in overrides.items() %}
            {%- if var(var_name) is not none %}
                cast({{ var(var_name) }} as {{ type_double() }}) as {{ threshold }},
                true as is_{{ threshold }}_overridden,
            {%- else %}
                derived_{{ threshold }} as {{ threshold }},
                false as is_{{ threshold }}_overridden,
            {%- endif %}
        {%- endfor %}

        -- the store's purchase-delay distribution (days)
        gap_count,
        p25_gap_days,
        median_gap_days,
        p75_gap_days,
        p90_gap_days,
        second_order_count,
        median_days_to_second_order,
        p90_days_to_second_order,
        as_of_date
    from thresholds_derived

)

select * from final
