-- Growth question: do customers acquired on Black Friday / Cyber Monday come back like the
-- same year's other new customers, at 90 and 180 days?
-- Grain: one row per acquisition year x group (bfcm, other). Rates are null while the year's
-- window is not complete for every customer of the row (not comparable yet); numerators and
-- denominators are kept so years can be pooled: sum(repeat_customers_90d) /
-- sum(window_90d_complete_customers).
with promo_cohorts as (
    select
        acquisition_year,
        group_value,
        is_baseline,
        customers,
        window_90d_complete_customers,
        repeat_customers_90d,
        repeat_rate_90d,
        window_180d_complete_customers,
        repeat_customers_180d,
        repeat_rate_180d
    from {{ ref('fct_promo_cohorts') }}
    where comparison_type = 'bfcm'
),

baseline as (
    select
        acquisition_year,
        repeat_rate_90d as baseline_repeat_rate_90d,
        repeat_rate_180d as baseline_repeat_rate_180d
    from promo_cohorts
    where is_baseline
),

final as (
    select
        promo_cohorts.acquisition_year,
        promo_cohorts.group_value,
        promo_cohorts.customers,
        promo_cohorts.window_90d_complete_customers,
        promo_cohorts.repeat_customers_90d,
        promo_cohorts.repeat_rate_90d,
        promo_cohorts.window_180d_complete_customers,
        promo_cohorts.repeat_customers_180d,
        promo_cohorts.repeat_rate_180d,
        promo_cohorts.repeat_rate_90d
        - baseline.baseline_repeat_rate_90d as repeat_rate_90d_vs_other,
        promo_cohorts.repeat_rate_180d
        - baseline.baseline_repeat_rate_180d as repeat_rate_180d_vs_other
    from promo_cohorts
    left join baseline
        on promo_cohorts.acquisition_year = baseline.acquisition_year
)

select * from final
order by acquisition_year, group_value
