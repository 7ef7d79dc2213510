-- grain: one row per month: the five numbers side by side, the hub behind fct_kpis_monthly
-- (its contract). Blended CAC and COS are the month's own (int_channel_months_costed, row
-- 'all', as in fct_acquisition_monthly); median days to second order, LTV and
-- churn come from the most recent acquisition cohort whose window is complete for all its
-- customers at the end of the month (at as_of_date for the current month), with that
-- cohort month in its own column. The Kaplan-Meier quartiles of days to second order are
-- taken on the same source cohort and horizon as the observed median: every customer of
-- that cohort is followed for the full window, and one without a second order inside it is
-- right-censored at the window's length (so a month's row never changes later). The
-- inactive rates (no valid order in months 6-12 / 12-24 after the first order) come from the
-- most recent cohort whose 365 / 730-day window is complete. Every KPI that is null carries
-- its reason in <kpi>_null_reason (null when the KPI has a value).
{%- set second_order_window = var('kpi_second_order_window_days') %}
with

acquisition as (

    select
        month,
        spend,
        new_customers,
        cac,
        net_revenue,
        cos,
        roas
    from {{ ref('int_channel_months_costed') }}
    where channel = 'all'

),

cohorts as (

    select
        cohort_month,
        new_customers,
        net_revenue_182d,
        net_revenue_365d,
        repeat_customers_182d,
        repeat_customers_365d
    from {{ ref('int_cohort_channels_valued') }}
    where channel = 'all'

),

customers as (

    select
        customer_id,
        cohort_month,
        days_to_second_order
    from {{ ref('int_customers_enriched') }}

),

customers_inactivity as (

    select
        customer_id,
        is_inactive_6m,
        is_inactive_12m
    from {{ ref('int_customers_value_windows') }}

),

margins as (

    select
        month,
        net_revenue_covered,
        gross_margin_covered,
        contribution_margin_covered,
        cost_coverage
    from {{ ref('int_orders_margined_monthly') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

months_bounded as (

    -- the date up to which each month's row may look: its last day, or as_of_date for the
    -- month in progress
    select
        acquisition.month,
        case
            when {{ month_window_is_complete('acquisition.month', 1, 'as_of.as_of_date') }}
                then {{ dbt.last_day('acquisition.month', 'month') }}
            else as_of.as_of_date
        end as observed_until,
        {{ month_window_is_complete('acquisition.month', 1, 'as_of.as_of_date') }}
            as is_month_complete,
        as_of.as_of_date
    from acquisition
    cross join as_of

),

source_cohorts as (

    -- per month, the most recent cohort whose window is complete for every customer it can
    -- hold by the day the month's row looks at (last day of the cohort month + N - 1)
    {%- set cohort_windows = [
        ('182d', 182), ('365d', 365), ('730d', 730), ('second_order', second_order_window)
    ] %}
    select
        {%- for suffix, days in cohort_windows %}
            max(
                case
                    when {{ month_window_is_complete(
                        'cohorts.cohort_month', days, 'months_bounded.observed_until'
                    ) }}
                        then cohorts.cohort_month
                end
            ) as cohort_month_{{ suffix }},
        {%- endfor %}
        months_bounded.month
    from months_bounded
    cross join cohorts
    group by months_bounded.month

),

customers_survival as (

    -- time to the second order within the window, right-censored at the window's length
    select
        cohort_month,
        case
            when days_to_second_order < {{ second_order_window }}
                then days_to_second_order
            else {{ second_order_window }}
        end as duration_days,
        coalesce(days_to_second_order < {{ second_order_window }}, false) as is_event
    from customers

),

kaplan_meier_per_cohort as (

    {{ kaplan_meier_quantiles(
        'customers_survival', ['cohort_month'], 'duration_days', 'is_event'
    ) }}

),

median_per_cohort as (

    -- observed median of the cohort's customers with a second order inside the window
    select
        cohort_month,
        {{ percentile_continuous('days_to_second_order', 0.5) }} as median_days_to_second_order,
        count(*) as repeaters
    from customers
    where days_to_second_order < {{ second_order_window }}
    group by cohort_month

),

inactivity_per_cohort as (

    -- no valid order in months 6-12 / 12-24 after the first order, per acquisition cohort
    select
        {%- for label in ['6m', '12m'] %}
            count(customers_inactivity.is_inactive_{{ label }})
                as inactive_{{ label }}_observed_customers,
            sum(case when customers_inactivity.is_inactive_{{ label }} then 1 else 0 end)
                as inactive_{{ label }}_customers,
        {%- endfor %}
        customers.cohort_month
    from customers
    inner join customers_inactivity
        on customers.customer_id = customers_inactivity.customer_id
    group by customers.cohort_month

),

cohort_rates as (

    select
        {%- for n in [182, 365] %}
            {%- set churned = 'new_customers - repeat_customers_' ~ n ~ 'd' %}
            net_revenue_{{ n }}d,
            {{ safe_divide('net_revenue_' ~ n ~ 'd', 'new_customers') }} as ltv_{{ n }}d,
            {{ churned }} as churned_customers_{{ n }}d,
            {{ safe_divide(churned, 'new_customers') }} as churn_{{ n }}d,
        {%- endfor %}
        cohort_month,
        new_customers
    from cohorts

),

margins_covered as (

    -- margin sums of the month's valid orders; null below the coverage var (never understated)
    select
        month,
        cost_coverage,
        case
            when cost_coverage >= {{ var('min_cost_coverage') }} then net_revenue_covered
        end as net_revenue_covered,
        case
            when cost_coverage >= {{ var('min_cost_coverage') }} then gross_margin_covered
        end as gross_margin,
        case
            when cost_coverage >= {{ var('min_cost_coverage') }} then contribution_margin_covered
        end as contribution_margin
    from margins

),

final as (

    select
        -- month
        months_bounded.month,
        months_bounded.is_month_complete,

        -- acquisition cost and efficiency of the month
        acquisition.spend,
        acquisition.new_customers,
        acquisition.cac as blended_cac,
        acquisition.net_revenue,
        acquisition.cos,
        acquisition.roas,

        -- time to second order
        cast(median_per_cohort.median_days_to_second_order as {{ type_double() }})
            as median_days_to_second_order,
        source_cohorts.cohort_month_second_order as median_days_to_second_order_cohort_month,
        cast(
            case
                when source_cohorts.cohort_month_second_order is not null
                    then coalesce(median_per_cohort.repeaters, 0)
            end as {{ dbt.type_int() }}
        ) as median_days_to_second_order_repeaters,
        cast(kaplan_meier_per_cohort.km_median as {{ type_double() }})
            as km_median_days_to_second_order,
        cast(kaplan_meier_per_cohort.km_p25 as {{ type_double() }})
            as km_p25_days_to_second_order,
        source_cohorts.cohort_month_second_order
            as km_median_days_to_second_order_cohort_month,
        cast(kaplan_meier_per_cohort.subjects as {{ dbt.type_int() }})
            as km_days_to_second_order_customers,

        -- value per new customer
        cast(cohort_182d.ltv_182d as {{ type_double() }}) as ltv_182d,
        source_cohorts.cohort_month_182d as ltv_182d_cohort_month,
        cast(cohort_182d.net_revenue_182d as {{ type_money() }}) as ltv_182d_cohort_net_revenue,
        cast(cohort_182d.new_customers as {{ dbt.type_int() }}) as ltv_182d_cohort_customers,
        cast(cohort_365d.ltv_365d as {{ type_double() }}) as ltv_365d,
        source_cohorts.cohort_month_365d as ltv_365d_cohort_month,
        cast(cohort_365d.net_revenue_365d as {{ type_money() }}) as ltv_365d_cohort_net_revenue,
        cast(cohort_365d.new_customers as {{ dbt.type_int() }}) as ltv_365d_cohort_customers,

        -- churn
        cast(cohort_182d.churn_182d as {{ type_double() }}) as churn_6m,
        source_cohorts.cohort_month_182d as churn_6m_cohort_month,
        cast(cohort_182d.churned_customers_182d as {{ dbt.type_int() }})
            as churn_6m_churned_customers,
        cast(cohort_182d.new_customers as {{ dbt.type_int() }}) as churn_6m_cohort_customers,
        cast(cohort_365d.churn_365d as {{ type_double() }}) as churn_12m,
        source_cohorts.cohort_month_365d as churn_12m_cohort_month,
        cast(cohort_365d.churned_customers_365d as {{ dbt.type_int() }})
            as churn_12m_churned_customers,
        cast(cohort_365d.new_customers as {{ dbt.type_int() }}) as churn_12m_cohort_customers,
        months_bounded.as_of_date,

        -- inactive: no valid order in months 6-12 / 12-24 after the first order
        {%- for label, cohort in [('6m', '365d'), ('12m', '730d')] %}
            {{ safe_divide(
                'inactivity_' ~ label ~ '.inactive_' ~ label ~ '_customers',
                'inactivity_' ~ label ~ '.inactive_' ~ label ~ '_observed_customers'
            ) }} as inactive_rate_{{ label }},
            source_cohorts.cohort_month_{{ cohort }} as inactive_rate_{{ label }}_cohort_month,
            cast(inactivity_{{ label }}.inactive_{{ label }}_customers as {{ dbt.type_int() }})
                as inactive_rate_{{ label }}_inactive_customers,
            cast(
                inactivity_{{ label }}.inactive_{{ label }}_observed_customers
                as {{ dbt.type_int() }}
            ) as inactive_rate_{{ label }}_cohort_customers,
        {%- endfor %}

        -- why a KPI is null (null when it has a value)
        case
            when acquisition.cac is not null then null
            when acquisition.spend is null then 'no_spend_data'
            when acquisition.new_customers = 0 then 'no_new_customers'
        end as blended_cac_null_reason,
        case
            when acquisition.cos is not null then null
            when acquisition.spend is null then 'no_spend_data'
            when acquisition.net_revenue <= 0 then 'no_net_revenue'
        end as cos_null_reason,
        case
            when acquisition.roas is not null then null
            when acquisition.spend is null then 'no_spend_data'
            when acquisition.spend <= 0 then 'no_spend'
        end as roas_null_reason,
        case
            when median_per_cohort.median_days_to_second_order is not null then null
            when source_cohorts.cohort_month_second_order is null then 'no_complete_cohort'
            else 'no_repeaters'
        end as median_days_to_second_order_null_reason,
        {%- for quantile, share in [('median', 'half'), ('p25', 'quarter')] %}
            case
                when kaplan_meier_per_cohort.km_{{ quantile }} is not null then null
                when source_cohorts.cohort_month_second_order is null then 'no_complete_cohort'
                when kaplan_meier_per_cohort.subjects > 0 then '{{ quantile }}_not_reached'
            end as km_{{ quantile }}_days_to_second_order_null_reason,
        {%- endfor %}
        {%- for kpi, cohort, has_value in [
            ('ltv_182d', '182d', 'cohort_182d.ltv_182d is not null'),
            ('ltv_365d', '365d', 'cohort_365d.ltv_365d is not null'),
            ('churn_6m', '182d', 'cohort_182d.churn_182d is not null'),
            ('churn_12m', '365d', 'cohort_365d.churn_365d is not null'),
            ('inactive_rate_6m', '365d', 'inactivity_6m.inactive_6m_observed_customers > 0'),
            ('inactive_rate_12m', '730d', 'inactivity_12m.inactive_12m_observed_customers > 0'),
        ] %}
            case
                when {{ has_value }} then null
                when source_cohorts.cohort_month_{{ cohort }} is null then 'no_complete_cohort'
                else 'no_new_customers'
            end as {{ kpi }}_null_reason,
        {%- endfor %}

        -- margins of the month's valid orders (issue 15), rates over the same orders
        cast(margins_covered.gross_margin as {{ type_money() }}) as gross_margin,
        cast(margins_covered.contribution_margin as {{ type_money() }}) as contribution_margin,
        cast(margins_covered.contribution_margin - acquisition.spend as {{ type_money() }})
            as cm3,
        {{ safe_divide('margins_covered.gross_margin', 'margins_covered.net_revenue_covered') }}
            as gross_margin_rate,
        {{ safe_divide(
            'margins_covered.contribution_margin', 'margins_covered.net_revenue_covered'
        ) }} as contribution_margin_rate,
        {{ safe_divide('margins_covered.contribution_margin', 'acquisition.spend') }} as poas,
        cast(margins_covered.cost_coverage as {{ type_double() }}) as cost_coverage
    from months_bounded
    inner join acquisition
        on months_bounded.month = acquisition.month
    left join margins_covered
        on months_bounded.month = margins_covered.month
    inner join source_cohorts
        on months_bounded.month = source_cohorts.month
    left join cohort_rates as cohort_182d
        on source_cohorts.cohort_month_182d = cohort_182d.cohort_month
    left join cohort_rates as cohort_365d
        on source_cohorts.cohort_month_365d = cohort_365d.cohort_month
    left join median_per_cohort
        on source_cohorts.cohort_month_second_order = median_per_cohort.cohort_month
    left join kaplan_meier_per_cohort
        on source_cohorts.cohort_month_second_order = kaplan_meier_per_cohort.cohort_month
    left join inactivity_per_cohort as inactivity_6m
        on source_cohorts.cohort_month_365d = inactivity_6m.cohort_month
    left join inactivity_per_cohort as inactivity_12m
        on source_cohorts.cohort_month_730d = inactivity_12m.cohort_month

)

select * from final
