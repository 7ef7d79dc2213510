-- fct_customer_health's stocks and flows equal the 'all' rows of fct_customer_base_monthly.
-- Both marts now select them from one hub (int_segment_months_counted), so this guards the
-- marts' own code: it fails if either mart filters, recomputes or re-derives these columns,
-- or loses a month. Returns one row per month that disagrees.
with

health as (

    select
        month,
        customers_to_date,
        active_customers_12m,
        inactive_customers,
        one_order_customers,
        repeat_customers,
        buyers,
        new_customers,
        orders
    from {{ ref('fct_customer_health') }}

),

base as (

    select
        month,
        customers_to_date,
        active_customers_12m,
        inactive_customers,
        one_order_customers,
        repeat_customers,
        buyers,
        new_customers,
        orders
    from {{ ref('fct_customer_base_monthly') }}
    where segment_type = 'all'

)

select coalesce(health.month, base.month) as month
from health
full outer join base
    on health.month = base.month
where
    health.month is null
    or base.month is null
    or health.customers_to_date != base.customers_to_date
    or health.active_customers_12m != base.active_customers_12m
    or health.inactive_customers != base.inactive_customers
    or health.one_order_customers != base.one_order_customers
    or health.repeat_customers != base.repeat_customers
    or health.buyers != base.buyers
    or health.new_customers != base.new_customers
    or health.orders != base.orders
