-- fct_kpis_monthly takes LTV from the cohort it names: its ltv_182d / ltv_365d equal the
-- `all` row of fct_acquisition_monthly for that cohort month, and its blended CAC and COS
-- are the month's own. Returns one row per mismatch.
with

kpis as (

    select
        month,
        blended_cac,
        cos,
        ltv_182d,
        ltv_182d_cohort_month,
        ltv_365d,
        ltv_365d_cohort_month
    from {{ ref('fct_kpis_monthly') }}

),

acquisition as (

    select
        month,
        cac,
        cos,
        ltv_182d,
        ltv_365d
    from {{ ref('fct_acquisition_monthly') }}
    where channel = 'all'

),

compared as (

    select
        kpis.month,
        abs(coalesce(kpis.blended_cac, -1) - coalesce(same_month.cac, -1)) > 0.000001
        or abs(coalesce(kpis.cos, -1) - coalesce(same_month.cos, -1)) > 0.000001
            as is_month_mismatch,
        abs(coalesce(kpis.ltv_182d, -1) - coalesce(cohort_182d.ltv_182d, -1)) > 0.000001
            as is_ltv_182d_mismatch,
        abs(coalesce(kpis.ltv_365d, -1) - coalesce(cohort_365d.ltv_365d, -1)) > 0.000001
            as is_ltv_365d_mismatch
    from kpis
    left join acquisition as same_month
        on kpis.month = same_month.month
    left join acquisition as cohort_182d
        on kpis.ltv_182d_cohort_month = cohort_182d.month
    left join acquisition as cohort_365d
        on kpis.ltv_365d_cohort_month = cohort_365d.month

)

select *
from compared
where is_month_mismatch or is_ltv_182d_mismatch or is_ltv_365d_mismatch
