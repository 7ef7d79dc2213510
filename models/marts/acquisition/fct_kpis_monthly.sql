-- grain: one row per month: blended CAC, COS / ROAS, time to second order, LTV, churn,
-- inactive rates and margins side by side, each cohort KPI with its source cohort month and
-- its null reason. Computed in the hub int_kpi_months_sourced; this mart is its contract.
with

final as (

    select
        -- month
        month,
        is_month_complete,
        -- acquisition cost and efficiency of the month
        spend,
        new_customers,
        blended_cac,
        net_revenue,
        cos,
        roas,
        -- time to second order
        median_days_to_second_order,
        median_days_to_second_order_cohort_month,
        median_days_to_second_order_repeaters,
        km_median_days_to_second_order,
        km_p25_days_to_second_order,
        km_median_days_to_second_order_cohort_month,
        km_days_to_second_order_customers,
        -- value per new customer
        ltv_182d,
        ltv_182d_cohort_month,
        ltv_182d_cohort_net_revenue,
        ltv_182d_cohort_customers,
        ltv_365d,
        ltv_365d_cohort_month,
        ltv_365d_cohort_net_revenue,
        ltv_365d_cohort_customers,
        -- churn
        churn_6m,
        churn_6m_cohort_month,
        churn_6m_churned_customers,
        churn_6m_cohort_customers,
        churn_12m,
        churn_12m_cohort_month,
        churn_12m_churned_customers,
        churn_12m_cohort_customers,
        as_of_date,
        -- inactive: no valid order in months 6-12 / 12-24 after the first order
        inactive_rate_6m,
        inactive_rate_6m_cohort_month,
        inactive_rate_6m_inactive_customers,
        inactive_rate_6m_cohort_customers,
        inactive_rate_12m,
        inactive_rate_12m_cohort_month,
        inactive_rate_12m_inactive_customers,
        inactive_rate_12m_cohort_customers,
        -- why a KPI is null (null when it has a value)
        blended_cac_null_reason,
        cos_null_reason,
        roas_null_reason,
        median_days_to_second_order_null_reason,
        km_median_days_to_second_order_null_reason,
        km_p25_days_to_second_order_null_reason,
        ltv_182d_null_reason,
        ltv_365d_null_reason,
        churn_6m_null_reason,
        churn_12m_null_reason,
        inactive_rate_6m_null_reason,
        inactive_rate_12m_null_reason,
        -- margins of the month's valid orders (issue 15)
        gross_margin,
        contribution_margin,
        cm3,
        gross_margin_rate,
        contribution_margin_rate,
        poas,
        cost_coverage
    from {{ ref('int_kpi_months_sourced') }}

)

select * from final
