-- grain: one row per fit scope x customer with a purchase day on or before the scope's fit
-- end: 'as_of' (fit end = as_of_date) and 'holdout' (fit end = as_of_date - var
-- prediction_calibration_days). The BG/NBD and Gamma-Gamma inputs the prediction marts fit
-- from (time unit days; a purchase = the valid orders of one calendar day), computed once
-- here instead of copying every order into pandas for each fit, and for the holdout scope
-- what the customer bought after the fit end (up to as_of_date).
-- DuckDB only, like the prediction marts that read it (dbt_project.yml, predictions).
{{ config(enabled=(target.type == 'duckdb')) }}
with

purchase_days as (

    select
        customer_id,
        purchase_date,
        net_revenue
    from {{ ref('int_purchase_days_sequenced') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

fit_scopes as (

    select
        'as_of' as fit_scope,
        as_of_date as fit_end_date,
        as_of_date
    from as_of
    union all
    select
        'holdout' as fit_scope,
        cast(
            {{ dbt.dateadd('day', -var('prediction_calibration_days'), 'as_of_date') }} as date
        ) as fit_end_date,
        as_of_date
    from as_of

),

customer_keys as (

    -- an integer key in customer id order (the fits group and align on it)
    select
        customer_id,
        row_number() over (order by customer_id) as customer_key
    from (select distinct customer_id from purchase_days) as customers

),

days_scoped as (

    select
        fit_scopes.fit_scope,
        fit_scopes.fit_end_date,
        purchase_days.customer_id,
        purchase_days.purchase_date,
        purchase_days.net_revenue,
        purchase_days.purchase_date <= fit_scopes.fit_end_date as is_in_fit
    from purchase_days
    cross join fit_scopes
    where purchase_days.purchase_date <= fit_scopes.as_of_date

),

customers_summarised as (

    select
        fit_scope,
        fit_end_date,
        customer_id,
        sum(case when is_in_fit then 1 else 0 end) - 1 as frequency,
        min(case when is_in_fit then purchase_date end) as first_purchase_date,
        max(case when is_in_fit then purchase_date end) as last_purchase_date,
        sum(case when is_in_fit then net_revenue end) as net_revenue,
        sum(case when is_in_fit then 0 else 1 end) as holdout_purchase_days,
        sum(case when is_in_fit then 0 else net_revenue end) as holdout_net_revenue
    from days_scoped
    group by fit_scope, fit_end_date, customer_id

),

final as (

    select
        customers_summarised.fit_scope,
        customers_summarised.fit_end_date,
        customers_summarised.customer_id,
        cast(customer_keys.customer_key as {{ dbt.type_int() }}) as customer_key,
        cast(customers_summarised.frequency as {{ dbt.type_int() }}) as frequency,
        cast(
            {{ dbt.datediff(
                'customers_summarised.first_purchase_date',
                'customers_summarised.last_purchase_date',
                'day',
            ) }} as {{ dbt.type_int() }}
        ) as recency_days,
        cast(
            {{ dbt.datediff(
                'customers_summarised.first_purchase_date',
                'customers_summarised.fit_end_date',
                'day',
            ) }} as {{ dbt.type_int() }}
        ) as t_days,
        customers_summarised.first_purchase_date,
        first_days.net_revenue as first_day_net_revenue,
        -- total less the first day, as btyd.summarise_orders computes it
        customers_summarised.net_revenue - first_days.net_revenue as repeat_net_revenue,
        cast(customers_summarised.holdout_purchase_days as {{ dbt.type_int() }})
            as holdout_purchase_days,
        customers_summarised.holdout_net_revenue
    from customers_summarised
    inner join customer_keys
        on customers_summarised.customer_id = customer_keys.customer_id
    inner join purchase_days as first_days
        on
            customers_summarised.customer_id = first_days.customer_id
            and customers_summarised.first_purchase_date = first_days.purchase_date

)

select * from final
