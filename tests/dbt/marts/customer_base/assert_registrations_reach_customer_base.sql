-- Every account of the customers export created on or before as_of_date is counted once:
-- in registered_customers of the 'all' rows of fct_customer_base_monthly, or, when created
-- before the spine's first month, in the documented remainder; the same for the accounts
-- that never ordered (no row in dim_customers). Returns a row when the counts differ.
with

accounts as (

    select customers.customer_id
    from {{ ref('stg_shop__customers') }} as customers
    cross join {{ ref('int_as_of_date') }} as as_of
    where
        customers.created_at is not null
        and cast({{ to_reporting_timezone('customers.created_at') }} as date)
        <= as_of.as_of_date

),

accounts_counted as (

    select
        count(*) as accounts,
        sum(
            case when dim_customers.customer_id is null then 1 else 0 end
        ) as accounts_never_ordered
    from accounts
    left join {{ ref('dim_customers') }} as dim_customers
        on accounts.customer_id = dim_customers.customer_id

),

base as (

    select
        sum(registered_customers) as registered_customers,
        sum(registered_never_ordered) as registered_never_ordered,
        min(month) as first_month
    from {{ ref('fct_customer_base_monthly') }}
    where segment_type = 'all'

),

before_spine as (

    select
        coalesce(sum(registrations.registered_customers), 0) as registered_customers,
        coalesce(sum(registrations.registered_never_ordered), 0) as registered_never_ordered
    from {{ ref('int_registrations_monthly') }} as registrations
    cross join base
    where registrations.registration_month < base.first_month

),

compared as (

    select
        accounts_counted.accounts,
        accounts_counted.accounts_never_ordered,
        base.registered_customers,
        base.registered_never_ordered,
        before_spine.registered_customers as registered_before_spine,
        before_spine.registered_never_ordered as never_ordered_before_spine
    from accounts_counted
    cross join base
    cross join before_spine

)

select * from compared
where
    accounts != registered_customers + registered_before_spine
    or accounts_never_ordered != registered_never_ordered + never_ordered_before_spine
