with

source as (

    select * from {{ shop_source('customers') }}

),

renamed as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        email_hash,
        {{ escape_formula_text("nullif(upper(trim(country)), '')") }} as country
    from source

)

select * from renamed
