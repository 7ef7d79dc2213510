-- grain: one row per cohort month x segment (segment_type, segment_value): value, repeat,
-- churn and time to second order of the customers acquired that month (first-order
-- semantics). Windowed metrics are null until every customer of the cohort month had the
-- full window. Inactivity (no valid order in months 6-12 / 12-24 after the first order) is
-- null until the 365 / 730-day window is complete for the cohort month.
{%- set repeat_windows = [90, 180, 365] %}
{%- set value_windows = [182, 365] %}
{%- set all_windows = [90, 180, 182, 365] %}
{%- set churn_windows = {'6m': 182, '12m': 365} %}
{%- set inactivity_windows = {'6m': 365, '12m': 730} %}
{%- set keys = ['cohort_month', 'segment_type', 'segment_value'] %}
with

customers_segmented as (

    select
        cohort_month,
        segment_type,
        segment_value,
        as_of_date,
        days_to_second_order,
        duration_days,
        is_event,
        ltv_182d,
        ltv_365d,
        has_repeat_within_90d,
        has_repeat_within_180d,
        has_repeat_within_182d,
        has_repeat_within_365d,
        is_inactive_6m,
        is_inactive_12m
    from {{ ref('int_customers_segments_unpivoted') }}

),

cells_aggregated as (

    select
        cohort_month,
        segment_type,
        segment_value,
        max(as_of_date) as as_of_date,
        count(*) as customers,
        {%- for n in all_windows %}
            count(has_repeat_within_{{ n }}d) as customers_{{ n }}d_observed,
            sum(case when has_repeat_within_{{ n }}d then 1 else 0 end) as repeaters_{{ n }}d,
        {%- endfor %}
        {%- for n in value_windows %}
            sum(ltv_{{ n }}d) as net_revenue_{{ n }}d,
        {%- endfor %}
        -- no valid order in months 6-12 / 12-24 after the first order
        {%- for label in inactivity_windows %}
            count(is_inactive_{{ label }}) as inactivity_observed_customers_{{ label }},
            sum(case when is_inactive_{{ label }} then 1 else 0 end)
                as inactive_customers_{{ label }},
        {%- endfor %}
        {{ percentile_continuous('days_to_second_order', 0.25) }} as p25_days_to_second_order,
        {{ percentile_continuous('days_to_second_order', 0.5) }} as median_days_to_second_order,
        {{ percentile_continuous('days_to_second_order', 0.75) }} as p75_days_to_second_order
    from customers_segmented
    group by cohort_month, segment_type, segment_value

),

second_order_survival as (

    {{ kaplan_meier_quantiles('customers_segmented', keys, 'duration_days', 'is_event') }}

),

cells_windowed as (

    -- a window is complete for the cell when the cohort month's last day had it in full,
    -- so every segment of a cohort month matures on the same day
    select
        cohort_month,
        segment_type,
        segment_value,
        {%- for n in all_windows + [730] %}
            {{ month_window_is_complete('cohort_month', n, 'as_of_date') }}
                as is_window_{{ n }}d_complete,
        {%- endfor %}
        as_of_date
    from cells_aggregated

),

final as (

    select
        -- keys
        cells_aggregated.cohort_month,
        cells_aggregated.segment_type,
        cells_aggregated.segment_value,
        cells_aggregated.as_of_date,
        cast(cells_aggregated.customers as {{ dbt.type_int() }}) as customers,

        -- repeat within N days of the first order
        {%- for n in repeat_windows %}
            {%- set complete = 'cells_windowed.is_window_' ~ n ~ 'd_complete' %}
            {{ complete }},
            {{ null_until_complete(
                'cells_aggregated.repeaters_' ~ n ~ 'd', dbt.type_int(), complete
            ) }} as repeaters_{{ n }}d,
            {{ null_until_complete(
                'cells_aggregated.customers_' ~ n ~ 'd_observed', dbt.type_int(), complete
            ) }} as customers_{{ n }}d_observed,
            {{ null_until_complete(
                safe_divide(
                    'cells_aggregated.repeaters_' ~ n ~ 'd',
                    'cells_aggregated.customers_' ~ n ~ 'd_observed'
                ),
                is_complete=complete
            ) }} as repeat_rate_{{ n }}d,
        {%- endfor %}

        -- value (LTV) within 182 / 365 days, first order included
        cells_windowed.is_window_182d_complete,
        {{ null_until_complete(
            'cells_aggregated.customers_182d_observed',
            dbt.type_int(),
            'cells_windowed.is_window_182d_complete'
        ) }} as customers_182d_observed,
        {%- for n in value_windows %}
            {%- set complete = 'cells_windowed.is_window_' ~ n ~ 'd_complete' %}
            {{ null_until_complete(
                'cells_aggregated.net_revenue_' ~ n ~ 'd', type_money(), complete
            ) }} as net_revenue_{{ n }}d,
            {{ null_until_complete(
                safe_divide(
                    'cells_aggregated.net_revenue_' ~ n ~ 'd',
                    'cells_aggregated.customers_' ~ n ~ 'd_observed'
                ),
                is_complete=complete
            ) }} as ltv_{{ n }}d,
        {%- endfor %}

        -- churn: no valid order in the 182 / 365 days after the first order
        {%- for label, n in churn_windows.items() %}
            {%- set complete = 'cells_windowed.is_window_' ~ n ~ 'd_complete' %}
            {%- set churned = 'cells_aggregated.customers_' ~ n ~ 'd_observed - '
                ~ 'cells_aggregated.repeaters_' ~ n ~ 'd' %}
            {{ null_until_complete(churned, dbt.type_int(), complete) }}
                as churned_customers_{{ label }},
            {{ null_until_complete(
                safe_divide(churned, 'cells_aggregated.customers_' ~ n ~ 'd_observed'),
                is_complete=complete
            ) }} as churn_rate_{{ label }},
        {%- endfor %}

        -- days to second order: observed among repeaters, and Kaplan-Meier (censored)
        {%- for quantile in ['p25', 'median', 'p75'] %}
            cast(cells_aggregated.{{ quantile }}_days_to_second_order as {{ type_double() }})
                as {{ quantile }}_days_to_second_order,
        {%- endfor %}
        {%- for quantile in ['p25', 'median', 'p75'] %}
            cast(second_order_survival.km_{{ quantile }} as {{ dbt.type_int() }})
                as km_{{ quantile }}_days_to_second_order,
        {%- endfor %}
        second_order_survival.events as second_order_events,
        second_order_survival.censored as second_order_censored,

        -- inactive: no valid order in months 6-12 / 12-24 after the first order (days
        -- 182..364 / 365..729), null until the 365 / 730-day window is complete
        {%- for label, n in inactivity_windows.items() %}
            {%- set complete = 'cells_windowed.is_window_' ~ n ~ 'd_complete' %}
            {%- set inactive = 'cells_aggregated.inactive_customers_' ~ label %}
            {%- set observed = 'cells_aggregated.inactivity_observed_customers_' ~ label %}
            {{ null_until_complete(inactive, dbt.type_int(), complete) }}
                as inactive_customers_{{ label }},
            {{ null_until_complete(observed, dbt.type_int(), complete) }}
                as inactivity_observed_customers_{{ label }},
            {{ null_until_complete(safe_divide(inactive, observed), is_complete=complete) }}
                as inactive_rate_{{ label }},
        {%- endfor %}
        cells_windowed.is_window_730d_complete,

        -- honest cells: the sample flag and the observed median named as such
        {{ is_below_min_sample('cells_aggregated.customers') }} as is_below_min_sample,
        cast(
            cells_aggregated.median_days_to_second_order as {{ type_double() }}
        ) as observed_median_days_to_second_order
    from cells_aggregated
    inner join cells_windowed
        on
            cells_aggregated.cohort_month = cells_windowed.cohort_month
            and cells_aggregated.segment_type = cells_windowed.segment_type
            and cells_aggregated.segment_value = cells_windowed.segment_value
    inner join second_order_survival
        on
            cells_aggregated.cohort_month = second_order_survival.cohort_month
            and cells_aggregated.segment_type = second_order_survival.segment_type
            and cells_aggregated.segment_value = second_order_survival.segment_value

)

select * from final
