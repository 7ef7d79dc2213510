-- Shopify connector `customer` (+ its default address's country) renamed into the raw
-- contract's customers.
with

shop_customers as (

    select
        id,
        created_at,
        {{ shopify_email_hash(source('shopify', 'customer')) }} as email_hash,
        _fivetran_deleted
    from {{ source('shopify', 'customer') }}

),

addresses as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        country_code,
        is_default
    from {{ source('shopify', 'customer_address') }}

),

default_country as (

    select
        customer_id,
        max(country_code) as country
    from addresses
    where coalesce(cast(is_default as boolean), false)
    group by customer_id

),

final as (

    select
        cast(shop_customers.id as {{ dbt.type_string() }}) as customer_id,
        cast(shop_customers.created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(shop_customers.email_hash as {{ dbt.type_string() }}) as email_hash,
        cast(default_country.country as {{ dbt.type_string() }}) as country
    from shop_customers
    left join default_country
        on cast(shop_customers.id as {{ dbt.type_string() }}) = default_country.customer_id
    where {{ shopify_not_deleted("shop_customers._fivetran_deleted") }}

)

select * from final
