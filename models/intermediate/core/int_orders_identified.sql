-- grain: one row per order, with the customer identity it resolves to.
-- customer id when present; else the registered customer owning the normalised email;
-- else a guest identity from the email hash; else none (the order cannot be attributed).
-- A view: int_orders_validated (a view) is its one reader, int_orders_netted computes both.
{{ config(materialized='view') }}
with

orders as (

    select
        order_id,
        source_customer_id,
        customer_email_hash
    from {{ ref('stg_shop__orders') }}

),

customers as (

    select
        customer_id,
        email_hash
    from {{ ref('stg_shop__customers') }}

),

known_emails as (

    select
        email_hash,
        customer_id
    from customers
    where email_hash is not null
    union all
    select
        customer_email_hash as email_hash,
        source_customer_id as customer_id
    from orders
    where customer_email_hash is not null and source_customer_id is not null

),

email_owners as (

    -- an email claimed by several ids goes to the smallest id (deterministic)
    select
        email_hash,
        min(customer_id) as customer_id
    from known_emails
    group by email_hash

),

final as (

    select
        orders.order_id,
        orders.source_customer_id,
        case
            when orders.source_customer_id is not null then orders.source_customer_id
            when email_owners.customer_id is not null then email_owners.customer_id
            when orders.customer_email_hash is not null
                then {{ dbt.concat(["'guest_'", "orders.customer_email_hash"]) }}
        end as customer_id,
        case
            when orders.source_customer_id is not null then 'customer_id'
            when email_owners.customer_id is not null then 'email_matched'
            when orders.customer_email_hash is not null then 'guest_email'
            else 'none'
        end as identity_source
    from orders
    left join email_owners
        on
            orders.source_customer_id is null
            and orders.customer_email_hash = email_owners.email_hash

)

select * from final
