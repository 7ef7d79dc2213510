-- Per fit scope, the frequency buckets 0..6 and 7+ add up to the total row (customers,
-- predicted and actual purchases and net revenue; nulls stay null on both sides).
{{ config(enabled=target.type == 'duckdb') }}
with

calibration as (

    select
        fit_scope,
        frequency_bucket,
        customers,
        predicted_repeat_purchases,
        actual_repeat_purchases,
        predicted_net_revenue,
        actual_net_revenue
    from {{ ref('fct_prediction_calibration') }}

),

buckets_summed as (

    select
        fit_scope,
        sum(customers) as customers,
        sum(predicted_repeat_purchases) as predicted_repeat_purchases,
        sum(actual_repeat_purchases) as actual_repeat_purchases,
        sum(predicted_net_revenue) as predicted_net_revenue,
        sum(actual_net_revenue) as actual_net_revenue
    from calibration
    where frequency_bucket <> 'total'
    group by fit_scope

),

totals as (

    select
        fit_scope,
        customers,
        predicted_repeat_purchases,
        actual_repeat_purchases,
        predicted_net_revenue,
        actual_net_revenue
    from calibration
    where frequency_bucket = 'total'

),

mismatches as (

    select
        totals.fit_scope,
        totals.customers,
        buckets_summed.customers as bucket_customers
    from totals
    left join buckets_summed
        on totals.fit_scope = buckets_summed.fit_scope
    where
        buckets_summed.fit_scope is null
        or totals.customers <> buckets_summed.customers
        {%- for col in ['predicted_repeat_purchases', 'actual_repeat_purchases',
            'predicted_net_revenue', 'actual_net_revenue'] %}
            or (totals.{{ col }} is null) <> (buckets_summed.{{ col }} is null)
            or abs(totals.{{ col }} - buckets_summed.{{ col }}) > 0.001
        {%- endfor %}

)

select * from mismatches
