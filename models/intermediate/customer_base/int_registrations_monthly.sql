-- grain: one row per registration month (reporting timezone) with at least one account of
-- the customers export created on or before as_of_date: accounts created that month, and
-- those of them with no valid order as of as_of_date (registered, never ordered). Guests
-- (identities without an account) are not registrations.
with

registrations as (

    select
        customer_id,
        created_at
    from {{ ref('stg_shop__customers') }}
    where created_at is not null

),

customers_with_orders as (

    select customer_id
    from {{ ref('int_customers_enriched') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

registrations_dated as (

    select
        registrations.customer_id,
        cast({{ to_reporting_timezone('registrations.created_at') }} as date)
            as registration_date
    from registrations

),

registrations_flagged as (

    select
        registrations_dated.customer_id,
        customers_with_orders.customer_id is null as is_never_ordered,
        {{ month_start('registrations_dated.registration_date') }} as registration_month
    from registrations_dated
    cross join as_of
    left join customers_with_orders
        on registrations_dated.customer_id = customers_with_orders.customer_id
    where registrations_dated.registration_date <= as_of.as_of_date

),

final as (

    select
        registration_month,
        cast(count(*) as {{ dbt.type_int() }}) as registered_customers,
        cast(sum(case when is_never_ordered then 1 else 0 end) as {{ dbt.type_int() }})
            as registered_never_ordered
    from registrations_flagged
    group by registration_month

)

select * from final
