-- The 'all' rows of fct_customer_base_monthly agree with dim_customers: new customers summed
-- over the months = customers with a valid order; at every month end, customers to date
-- (= active + inactive) = customers whose cohort month is on or before it. Returns one row
-- per broken check.
with

base as (

    select
        month,
        new_customers,
        customers_to_date,
        active_customers_12m,
        inactive_customers
    from {{ ref('fct_customer_base_monthly') }}
    where segment_type = 'all'

),

customers as (

    select cohort_month
    from {{ ref('dim_customers') }}

),

customers_per_cohort_month as (

    select
        cohort_month,
        count(*) as customers
    from customers
    group by cohort_month

),

acquired_by_month as (

    select
        base.month,
        coalesce(sum(customers_per_cohort_month.customers), 0) as customers_acquired
    from base
    left join customers_per_cohort_month
        on base.month >= customers_per_cohort_month.cohort_month
    group by base.month

),

new_customers_summed as (

    select sum(new_customers) as new_customers
    from base

),

customers_counted as (

    select count(*) as customers
    from customers

),

totals_broken as (

    select
        cast(null as date) as month,
        'sum of new_customers != customers in dim_customers' as check_name
    from new_customers_summed
    cross join customers_counted
    where new_customers_summed.new_customers != customers_counted.customers

),

month_ends_broken as (

    select
        base.month,
        'active + inactive != customers acquired by the month end' as check_name
    from base
    inner join acquired_by_month
        on base.month = acquired_by_month.month
    where
        base.active_customers_12m + base.inactive_customers
        != acquired_by_month.customers_acquired
        or base.customers_to_date != acquired_by_month.customers_acquired

)

select * from totals_broken
union all
select * from month_ends_broken
