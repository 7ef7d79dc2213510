with

source as (

    select
        order_id,
        customer_id,
        customer_email_hash,
        ordered_at,
        status,
        currency,
        prices_include_tax,
        shipping_amount,
        utm_source,
        utm_medium,
        utm_campaign,
        discount_code,
        purchase_type,
        shipping_cost
    from {{ shop_source('orders') }}

),

renamed as (

    select
        -- ids
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        customer_id as source_customer_id,
        customer_email_hash,

        -- timestamps (UTC)
        cast(ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,

        -- attributes
        {{ clean_text('status', 'lower', 'completed') }} as order_status,
        {{ clean_text('currency', 'upper', var('shop_currency')) }} as currency,
        coalesce(
            prices_include_tax, {{ var("default_prices_include_tax") }}
        ) as prices_include_tax,
        {{ clean_text('utm_source', 'lower') }} as utm_source,
        {{ clean_text('utm_medium', 'lower') }} as utm_medium,
        {{ clean_text('utm_campaign', 'lower') }} as utm_campaign,
        {{ clean_text('discount_code', 'upper') }} as discount_code,
        {{ clean_text('purchase_type', 'lower', 'one_time') }} as purchase_type,

        -- amounts (order's tax basis)
        cast(coalesce(shipping_amount, 0) as {{ type_money() }}) as shipping_amount,

        -- costs (excl. VAT, shop currency); null = unknown, never 0
        cast(shipping_cost as {{ type_money() }}) as shipping_cost

    from source

)

select * from renamed
