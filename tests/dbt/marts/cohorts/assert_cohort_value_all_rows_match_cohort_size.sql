-- fct_cohort_value's 'all' row of a cohort month has the customers of the same cohort in
-- fct_cohort_retention, and both marts have the same cohort months.
with

value_all as (

    select
        cohort_month,
        customers
    from {{ ref('fct_cohort_value') }}
    where segment_type = 'all' and segment_value = 'all'

),

retention_month_0 as (

    select
        cohort_month,
        cohort_size
    from {{ ref('fct_cohort_retention') }}
    where months_since_first_order = 0

)

select
    value_all.customers,
    retention_month_0.cohort_size,
    coalesce(value_all.cohort_month, retention_month_0.cohort_month) as cohort_month
from value_all
full outer join retention_month_0
    on value_all.cohort_month = retention_month_0.cohort_month
where
    value_all.customers is null
    or retention_month_0.cohort_size is null
    or value_all.customers != retention_month_0.cohort_size
