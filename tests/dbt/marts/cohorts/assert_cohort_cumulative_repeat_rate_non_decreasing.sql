-- The cumulative repeat rate of a cohort never decreases with months since first order.
-- Returns the months where it drops.
with

cohort_months as (

    select
        cohort_month,
        months_since_first_order,
        cumulative_repeat_rate,
        lag(cumulative_repeat_rate) over (
            partition by cohort_month
            order by months_since_first_order
        ) as previous_cumulative_repeat_rate
    from {{ ref('fct_cohort_retention') }}
    where is_complete

)

select
    cohort_month,
    months_since_first_order,
    cumulative_repeat_rate,
    previous_cumulative_repeat_rate
from cohort_months
where cumulative_repeat_rate < previous_cumulative_repeat_rate - 0.000000001
