-- A cohort has one size whatever the month since first order. Returns the cohorts with
-- more than one.
select
    cohort_month,
    count(distinct cohort_size) as distinct_sizes
from {{ ref('fct_cohort_retention') }}
group by cohort_month
having count(distinct cohort_size) > 1
