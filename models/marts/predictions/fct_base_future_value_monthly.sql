-- grain: one row per as-of month x segment (segment_type, segment_value): the predicted
-- 12-month future value of the customer base as of the end of each of the last var
-- prediction_history_months months (the current month as of as_of_date), with how the
-- prediction compares with what the same customers bought since, over the elapsed days.
-- Segments as fct_base_future_value (first-order semantics); one fit per as-of month.
{%- set segments = future_value_segments() %}
{#- the as-of month and its fit and scope (one value per month), then the segment: the keys
    of the aggregation -#}
{%- set month_keys = [
    'as_of_month',
    'fit_end_date',
    'actual_end_date',
    'elapsed_days',
    'prediction_status',
    'horizon_days',
] %}
{%- set keys = month_keys + ['segment_type', 'segment_value'] %}
{#- what is summed per segment: customers first aggregated per month and combination of
    segment attributes, then those rows once per segment type -#}
{%- set measures = [
    'customers',
    'customers_predicted',
    'customers_value_predicted',
    'predicted_value_365d',
    'expected_orders_365d',
    'expected_repurchasers_365d',
    'expected_orders_elapsed',
    'predicted_value_elapsed',
    'actual_orders_elapsed',
    'actual_net_revenue_elapsed',
] %}
{%- set attributes = [
    'acquisition_channel',
    'first_order_offer_type',
    'first_product_id',
    'first_product_category',
    'cohort_month',
] %}
with

predictions as (

    -- one row per as-of month x customer, with what the customer bought since the fit end
    select
        as_of_month,
        fit_end_date,
        actual_end_date,
        elapsed_days,
        prediction_status,
        horizon_days,
        customer_key,
        expected_orders_365d,
        p_repurchase_365d,
        predicted_value_365d,
        expected_orders_elapsed,
        predicted_value_elapsed,
        actual_purchase_days,
        actual_net_revenue
    from {{ ref('int_customer_months_predicted') }}

),

customer_attributes as (

    -- every customer of a month end has a valid order on or before as_of_date: a row of the
    -- hub, found by the build's integer key
    select
        customer_key,
        acquisition_channel,
        first_order_offer_type,
        first_product_id,
        first_product_category,
        cohort_month
    from {{ ref('int_customers_enriched') }}

),

customer_months_joined as (

    select
        {%- for key in month_keys %}
            predictions.{{ key }},
        {%- endfor %}
        {%- for attribute in attributes %}
            customer_attributes.{{ attribute }},
        {%- endfor %}
        predictions.expected_orders_365d,
        predictions.p_repurchase_365d,
        predictions.predicted_value_365d,
        predictions.expected_orders_elapsed,
        predictions.predicted_value_elapsed,
        predictions.actual_purchase_days,
        predictions.actual_net_revenue
    -- a left join all the same: a customer is never dropped from the sums
    from predictions
    left join customer_attributes
        on predictions.customer_key = customer_attributes.customer_key

),

attribute_months_aggregated as (

    -- one row per as-of month x combination of segment attributes (far fewer than
    -- customers): the segments below add these rows up instead of every customer once per
    -- segment type
    select
        {%- for key in month_keys + attributes %}
            {{ key }},
        {%- endfor %}
        count(*) as customers,
        count(expected_orders_365d) as customers_predicted,
        count(predicted_value_365d) as customers_value_predicted,
        {{ sum_exact('predicted_value_365d') }} as predicted_value_365d,
        {{ sum_exact('expected_orders_365d') }} as expected_orders_365d,
        {{ sum_exact('p_repurchase_365d') }} as expected_repurchasers_365d,
        {{ sum_exact('expected_orders_elapsed') }} as expected_orders_elapsed,
        {{ sum_exact('predicted_value_elapsed') }} as predicted_value_elapsed,
        sum(actual_purchase_days) as actual_orders_elapsed,
        sum(actual_net_revenue) as actual_net_revenue_elapsed
    from customer_months_joined
    group by {{ (month_keys + attributes) | join(', ') }}

),

attribute_months_segmented as (

    {{ segments_unioned('attribute_months_aggregated', segments, month_keys + measures) }}

),

segments_aggregated as (

    -- fit_end_date, actual_end_date, elapsed_days, prediction_status and horizon_days are
    -- one value per as-of month (one fit, one scope)
    select
        {%- for key in keys %}
            {{ key }},
        {%- endfor %}
        sum(customers) as customers,
        sum(customers_predicted) as customers_predicted,
        sum(customers_value_predicted) as customers_value_predicted,
        sum(predicted_value_365d) as predicted_value_365d,
        sum(expected_orders_365d) as expected_orders_365d,
        sum(expected_repurchasers_365d) as expected_repurchasers_365d,
        sum(expected_orders_elapsed) as expected_orders_elapsed,
        sum(predicted_value_elapsed) as predicted_value_elapsed,
        sum(actual_orders_elapsed) as actual_orders_elapsed,
        sum(actual_net_revenue_elapsed) as actual_net_revenue_elapsed
    from attribute_months_segmented
    group by {{ keys | join(', ') }}

),

final as (

    select
        -- as-of month and segment
        as_of_month,
        fit_end_date,
        fit_end_date = cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'as_of_month')) }} as date
        ) as is_month_complete,
        segment_type,
        segment_value,
        prediction_status,
        cast(horizon_days as {{ dbt.type_int() }}) as horizon_days,
        -- customers (first valid order on or before fit_end_date); predicted,
        -- horizon_days after fit_end_date
        {{ future_value_predicted(with_orders_per_customer=true) }},
        -- calibration: the elapsed part of the horizon, (fit_end_date, actual_end_date]
        actual_end_date,
        cast(elapsed_days as {{ dbt.type_int() }}) as elapsed_days,
        cast(expected_orders_elapsed as {{ type_double() }}) as expected_orders_elapsed,
        cast(actual_orders_elapsed as {{ dbt.type_bigint() }}) as actual_orders_elapsed,
        {{ safe_divide('expected_orders_elapsed', 'actual_orders_elapsed') }}
            as predicted_over_actual_orders_elapsed,
        cast(predicted_value_elapsed as {{ type_double() }}) as predicted_value_elapsed,
        cast(actual_net_revenue_elapsed as {{ type_money() }}) as actual_net_revenue_elapsed,
        cast(
            predicted_value_elapsed / nullif(actual_net_revenue_elapsed, 0)
            as {{ type_double() }}
        ) as predicted_over_actual_value_elapsed,
        {{ is_below_min_sample('customers') }} as is_below_min_sample
    from segments_aggregated

)

select * from final
