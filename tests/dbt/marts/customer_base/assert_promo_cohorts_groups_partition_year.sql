-- In fct_promo_cohorts the groups of a comparison partition the acquisition year's new
-- customers of dim_customers (customers and repeat numerators add up). Returns one row per
-- broken year / comparison.
with

promo as (

    select
        acquisition_year,
        comparison_type,
        customers,
        year_new_customers
    from {{ ref('fct_promo_cohorts') }}

),

customers as (

    select first_order_date
    from {{ ref('dim_customers') }}

),

customers_per_year as (

    select
        cast(extract(year from first_order_date) as {{ dbt.type_int() }}) as acquisition_year,
        count(*) as customers
    from customers
    group by cast(extract(year from first_order_date) as {{ dbt.type_int() }})

),

groups_summed as (

    select
        acquisition_year,
        comparison_type,
        sum(customers) as customers,
        max(year_new_customers) as year_new_customers
    from promo
    group by acquisition_year, comparison_type

)

select
    groups_summed.acquisition_year,
    groups_summed.comparison_type
from groups_summed
left join customers_per_year
    on groups_summed.acquisition_year = customers_per_year.acquisition_year
where
    customers_per_year.customers is null
    or groups_summed.customers != customers_per_year.customers
    or groups_summed.year_new_customers != customers_per_year.customers
