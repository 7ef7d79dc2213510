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
{#- the scopes, numbered: 0 = as_of, 1 = holdout, 2.. = the month ends, latest first #}
{%- set scope_count = 2 + var('prediction_history_months') %}
{#- per scope, each measure summed over the purchase days that fall in its range #}
{%- set scope_measures = [
    ('fit_days', 'in_fit', '1', '0'),
    ('last_purchase_date', 'in_fit', 'purchase_date', none),
    ('fit_net_revenue', 'in_fit', 'net_revenue', none),
    ('actual_purchase_days', 'after_fit', '1', '0'),
    ('actual_net_revenue', 'after_fit', 'net_revenue', '0'),
] %}
with

purchase_days as (

    select
        customer_key,
        purchase_date,
        purchase_day_number,
        net_revenue
    from {{ ref('int_purchase_days_sequenced') }}

),

first_days as (

    -- one row per customer: its first purchase day
    select
        customer_key,
        purchase_date as first_purchase_date,
        net_revenue as first_day_net_revenue
    from purchase_days
    where purchase_day_number = 1

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

fit_ends as (

    select
        0 as scope_index,
        'as_of' as fit_scope,
        as_of_date as fit_end_date,
        {{ var('prediction_horizon_days') }} as horizon_days,
        as_of_date
    from as_of
    union all
    select
        1 as scope_index,
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
            {{ 2 + months_back }} as scope_index,
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
        scope_index,
        fit_scope,
        fit_end_date,
        -- what happened after the fit end is observed up to as_of_date, within the horizon
        least(
            cast({{ dbt.dateadd('day', 'horizon_days', 'fit_end_date') }} as date),
            as_of_date
        ) as actual_end_date
    from fit_ends

),

fit_dates as (

    -- the scopes' dates side by side (one row), so that one pass over the purchase days
    -- sums every scope
    select
        {%- for i in range(scope_count) %}
            max(case when scope_index = {{ i }} then fit_end_date end) as fit_end_date_{{ i }},
            max(case when scope_index = {{ i }} then actual_end_date end)
                as actual_end_date_{{ i }},
        {%- endfor %}
        count(*) as scopes
    from fit_scopes

),

customers_summarised as (

    -- one row per customer (integer key): each scope's sums over the purchase days on or
    -- before its fit end (in_fit) and in (fit end, actual_end_date] (after_fit). One group
    -- by on the customer instead of a purchase days x scopes join grouped per scope.
    select
        {%- for i in range(scope_count) %}
            {%- set ranges = {
                'in_fit': 'purchase_days.purchase_date <= fit_dates.fit_end_date_' ~ i,
                'after_fit': 'purchase_days.purchase_date > fit_dates.fit_end_date_' ~ i
                    ~ ' and purchase_days.purchase_date <= fit_dates.actual_end_date_' ~ i,
            } %}
            {%- for measure, range_name, value, otherwise in scope_measures %}
                {%- set aggregate = 'max' if measure == 'last_purchase_date' else 'sum' %}
                {%- set value_column = value if value == '1' else 'purchase_days.' ~ value %}
                {{ aggregate }}(
                    case
                        when {{ ranges[range_name] }} then {{ value_column }}
                        {%- if otherwise is not none %}
                            else {{ otherwise }}
                        {%- endif %}
                    end
                ) as {{ measure }}_{{ i }},
            {%- endfor %}
        {%- endfor %}
        purchase_days.customer_key
    from purchase_days
    cross join fit_dates
    group by purchase_days.customer_key

),

customers_scoped as (

    -- one row per scope x customer who bought by the scope's fit end
    select
        {%- for measure, range_name, value, otherwise in scope_measures %}
            case fit_scopes.scope_index
                {%- for i in range(scope_count) %}
                    when {{ i }} then customers_summarised.{{ measure }}_{{ i }}
                {%- endfor %}
            end as {{ measure }},
        {%- endfor %}
        fit_scopes.fit_scope,
        fit_scopes.fit_end_date,
        fit_scopes.actual_end_date,
        first_days.customer_key,
        first_days.first_purchase_date,
        first_days.first_day_net_revenue
    from customers_summarised
    inner join first_days
        on customers_summarised.customer_key = first_days.customer_key
    cross join fit_scopes

),

final as (

    select
        fit_scope,
        fit_end_date,
        cast(customer_key as {{ dbt.type_int() }}) as customer_key,
        cast(fit_days - 1 as {{ dbt.type_int() }}) as frequency,
        cast(
            {{ dbt.datediff('first_purchase_date', 'last_purchase_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as recency_days,
        cast(
            {{ dbt.datediff('first_purchase_date', 'fit_end_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as t_days,
        first_purchase_date,
        cast(first_day_net_revenue as {{ type_money() }}) as first_day_net_revenue,
        -- total less the first day, as btyd.summarise_orders computes it
        cast(fit_net_revenue - first_day_net_revenue as {{ type_money() }})
            as repeat_net_revenue,
        actual_end_date,
        cast(
            {{ dbt.datediff('fit_end_date', 'actual_end_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as elapsed_days,
        cast(actual_purchase_days as {{ dbt.type_int() }}) as actual_purchase_days,
        cast(actual_net_revenue as {{ type_money() }}) as actual_net_revenue
    from customers_scoped
    -- customers whose first purchase is after the fit end are not in the scope
    where fit_days > 0

)

select * from final
