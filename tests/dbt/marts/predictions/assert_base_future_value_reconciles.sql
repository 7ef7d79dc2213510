-- Each segment_type partitions the base: its customers, predicted value, expected orders and
-- net revenue to date add up to the 'all' row, which equals fct_customer_predictions.
{{ config(enabled=target.type == 'duckdb') }}
with

segments as (

    select
        segment_type,
        customers,
        predicted_value_365d,
        expected_orders_365d,
        net_revenue_to_date
    from {{ ref('fct_base_future_value') }}

),

predictions as (

    select
        customer_id,
        expected_orders_365d,
        predicted_value_365d
    from {{ ref('fct_customer_predictions') }}

),

predictions_totalled as (

    select
        count(*) as customers,
        sum(predicted_value_365d) as predicted_value_365d,
        sum(expected_orders_365d) as expected_orders_365d
    from predictions

),

segment_types_totalled as (

    select
        segment_type,
        sum(customers) as customers,
        sum(predicted_value_365d) as predicted_value_365d,
        sum(expected_orders_365d) as expected_orders_365d,
        sum(net_revenue_to_date) as net_revenue_to_date
    from segments
    group by segment_type

),

base as (

    select
        customers,
        predicted_value_365d,
        expected_orders_365d,
        net_revenue_to_date
    from segments
    where segment_type = 'all'

),

mismatches as (

    select
        segment_types_totalled.segment_type,
        segment_types_totalled.customers,
        base.customers as base_customers,
        segment_types_totalled.predicted_value_365d,
        base.predicted_value_365d as base_predicted_value_365d
    from segment_types_totalled
    cross join base
    where
        segment_types_totalled.customers <> base.customers
        or abs(segment_types_totalled.net_revenue_to_date - base.net_revenue_to_date) > 0.01
        or (segment_types_totalled.predicted_value_365d is null)
        <> (base.predicted_value_365d is null)
        or abs(segment_types_totalled.predicted_value_365d - base.predicted_value_365d) > 0.01
        -- double sums in no fixed order: at 1M customers (about a million expected orders)
        -- the segment types' totals differ from the 'all' row by about 1e-6, so the bound is
        -- relative (1e-9) above an absolute floor; a missing customer fails the count above
        or abs(segment_types_totalled.expected_orders_365d - base.expected_orders_365d)
        > 0.000000001 * abs(base.expected_orders_365d) + 0.000001

    union all

    select
        'fct_customer_predictions' as segment_type,
        predictions_totalled.customers,
        base.customers as base_customers,
        predictions_totalled.predicted_value_365d,
        base.predicted_value_365d as base_predicted_value_365d
    from predictions_totalled
    cross join base
    where
        predictions_totalled.customers <> base.customers
        or (predictions_totalled.predicted_value_365d is null)
        <> (base.predicted_value_365d is null)
        or abs(predictions_totalled.predicted_value_365d - base.predicted_value_365d) > 0.01

)

select * from mismatches
