-- The cohorts partition the customers: the sum of cohort sizes (month 0) equals the
-- customers of dim_customers (customers with a valid order), and every cohort has a month 0.
with

cohorts as (

    select
        count(*) as cohorts,
        sum(cohort_size) as customers
    from {{ ref('fct_cohort_retention') }}
    where months_since_first_order = 0

),

customers as (

    select
        count(distinct cohort_month) as cohorts,
        count(*) as customers
    from {{ ref('dim_customers') }}

)

select
    cohorts.cohorts as mart_cohorts,
    customers.cohorts as dim_cohorts,
    cohorts.customers as mart_customers,
    customers.customers as dim_customers
from cohorts
cross join customers
where
    cohorts.customers != customers.customers
    or cohorts.cohorts != customers.cohorts
