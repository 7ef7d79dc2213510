with

source as (

    select
        customer_id,
        created_at,
        email_hash,
        country
    from {{ shop_source('customers') }}

),

renamed as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        email_hash,
        {{ clean_text('country', 'upper') }} as country
    from source

)

select * from renamed
