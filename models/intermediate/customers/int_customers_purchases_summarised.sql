-- grain: one row per fit scope x fit end date x customer with a purchase day on or before
-- the fit end: 'as_of' (fit end = as_of_date), 'holdout' (fit end = as_of_date - var
-- prediction_calibration_days) and 'month_end' (one fit end per month of the last var
-- prediction_history_months months: the month's last day, as_of_date for the current
-- month). The BG/NBD and Gamma-Gamma inputs the prediction models fit from (time unit days;
-- a purchase = the valid orders of one calendar day), computed once here instead of copying
-- every order into pandas for each fit, and what the customer bought after the fit end up
-- to actual_end_date (the elapsed part of the scope's horizon, at most as_of_date).
-- DuckDB only, like the prediction models that read it (dbt_project.yml, predictions).
{{ config(enabled=(target.type == 'duckdb')) }}
with

purchase_days_sequenced as (

    select
        customer_id,
        purchase_date,
        purchase_day_number,
        net_revenue
    from {{ ref('int_purchase_days_sequenced') }}

),

first_days as (

    -- one row per customer: its first purchase day, and an integer key in customer id
    -- order (the fits group and align on it; the scopes below group on it, not on the
    -- text id)
    select
        customer_id,
        purchase_date as first_purchase_date,
        net_revenue as first_day_net_revenue,
        row_number() over (order by customer_id) as customer_key
    from purchase_days_sequenced
    where purchase_day_number = 1

),

purchase_days as (

    select
        first_days.customer_key,
        purchase_days_sequenced.purchase_date,
        purchase_days_sequenced.net_revenue
    from purchase_days_sequenced
    inner join first_days
        on purchase_days_sequenced.customer_id = first_days.customer_id

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

fit_ends as (

    select
        'as_of' as fit_scope,
        as_of_date as fit_end_date,
        {{ var('prediction_horizon_days') }} as horizon_days,
        as_of_date
    from as_of
    union all
    select
        'holdout' as fit_scope,
        cast(
            {{ dbt.dateadd('day', -var('prediction_calibration_days'), 'as_of_date') }} as date
        ) as fit_end_date,
        {{ var('prediction_calibration_days') }} as horizon_days,
        as_of_date
    from as_of
    {%- for months_back in range(var('prediction_history_months')) %}
        union all
        select
            'month_end' as fit_scope,
            -- the month's last day; the current month is cut at as_of_date
            least(
                cast({{ dbt.dateadd(
                    'day', -1, dbt.dateadd(
                        'month', 1 - months_back, dbt.date_trunc('month', 'as_of_date')
                    )
                ) }} as date),
                as_of_date
            ) as fit_end_date,
            {{ var('prediction_horizon_days') }} as horizon_days,
            as_of_date
        from as_of
    {%- endfor %}

),

fit_scopes as (

    select
        fit_scope,
        fit_end_date,
        -- what happened after the fit end is observed up to as_of_date, within the horizon
        least(
            cast({{ dbt.dateadd('day', 'horizon_days', 'fit_end_date') }} as date),
            as_of_date
        ) as actual_end_date
    from fit_ends

),

days_scoped as (

    select
        fit_scopes.fit_scope,
        fit_scopes.fit_end_date,
        fit_scopes.actual_end_date,
        purchase_days.customer_key,
        purchase_days.purchase_date,
        purchase_days.net_revenue,
        purchase_days.purchase_date <= fit_scopes.fit_end_date as is_in_fit
    from purchase_days
    inner join fit_scopes
        on purchase_days.purchase_date <= fit_scopes.actual_end_date

),

customers_summarised as (

    select
        fit_scope,
        fit_end_date,
        actual_end_date,
        customer_key,
        sum(case when is_in_fit then 1 else 0 end) - 1 as frequency,
        min(case when is_in_fit then purchase_date end) as first_purchase_date,
        max(case when is_in_fit then purchase_date end) as last_purchase_date,
        sum(case when is_in_fit then net_revenue end) as net_revenue,
        sum(case when is_in_fit then 0 else 1 end) as actual_purchase_days,
        sum(case when is_in_fit then 0 else net_revenue end) as actual_net_revenue
    from days_scoped
    group by fit_scope, fit_end_date, actual_end_date, customer_key
    -- customers whose first purchase is after the fit end are not in the scope
    having min(case when is_in_fit then purchase_date end) is not null

),

final as (

    select
        customers_summarised.fit_scope,
        customers_summarised.fit_end_date,
        first_days.customer_id,
        cast(customers_summarised.customer_key as {{ dbt.type_int() }}) as customer_key,
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
        first_days.first_day_net_revenue,
        -- total less the first day, as btyd.summarise_orders computes it
        customers_summarised.net_revenue - first_days.first_day_net_revenue
            as repeat_net_revenue,
        customers_summarised.actual_end_date,
        cast(
            {{ dbt.datediff(
                'customers_summarised.fit_end_date',
                'customers_summarised.actual_end_date',
                'day',
            ) }} as {{ dbt.type_int() }}
        ) as elapsed_days,
        cast(customers_summarised.actual_purchase_days as {{ dbt.type_int() }})
            as actual_purchase_days,
        customers_summarised.actual_net_revenue
    from customers_summarised
    -- a customer in a scope bought by its fit end, so its first purchase day in the scope
    -- is its first purchase day
    inner join first_days
        on customers_summarised.customer_key = first_days.customer_key

)

select * from final
