-- New customers in fct_acquisition_monthly are exactly dim_customers by cohort month and
-- acquisition channel, and the `all` row is their total. Returns one row per broken cell.
with

mart as (

    select
        month,
        channel,
        new_customers
    from {{ ref('fct_acquisition_monthly') }}
    where new_customers > 0

),

customers_per_channel as (

    select
        cohort_month as month,
        acquisition_channel as channel,
        count(*) as customers
    from {{ ref('dim_customers') }}
    group by cohort_month, acquisition_channel

),

customers_with_total as (

    select
        month,
        channel,
        customers
    from customers_per_channel
    union all
    select
        month,
        'all' as channel,
        sum(customers) as customers
    from customers_per_channel
    group by month

),

compared as (

    select
        coalesce(mart.month, customers_with_total.month) as month,
        coalesce(mart.channel, customers_with_total.channel) as channel,
        coalesce(mart.new_customers, 0) as mart_new_customers,
        coalesce(customers_with_total.customers, 0) as dim_customers
    from mart
    full outer join customers_with_total
        on
            mart.month = customers_with_total.month
            and mart.channel = customers_with_total.channel

)

select *
from compared
where mart_new_customers != dim_customers
