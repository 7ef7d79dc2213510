with

source as (

    select * from {{ shop_source('orders') }}

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
        {{ escape_formula_text(
            "coalesce(nullif(lower(trim(status)), ''), 'completed')"
        ) }} as order_status,
        {{ escape_formula_text(
            "coalesce(nullif(upper(trim(currency)), ''), '" ~ var("shop_currency") ~ "')"
        ) }} as currency,
        coalesce(
            prices_include_tax, {{ var("default_prices_include_tax") }}
        ) as prices_include_tax,
        {{ escape_formula_text("nullif(lower(trim(utm_source)), '')") }} as utm_source,
        {{ escape_formula_text("nullif(lower(trim(utm_medium)), '')") }} as utm_medium,
        {{ escape_formula_text("nullif(lower(trim(utm_campaign)), '')") }} as utm_campaign,
        {{ escape_formula_text("nullif(upper(trim(discount_code)), '')") }} as discount_code,
        {{ escape_formula_text(
            "coalesce(nullif(lower(trim(purchase_type)), ''), 'one_time')"
        ) }} as purchase_type,

        -- amounts (order's tax basis)
        cast(coalesce(shipping_amount, 0) as {{ type_money() }}) as shipping_amount,

        -- costs (excl. VAT, shop currency); null = unknown, never 0
        cast(shipping_cost as {{ type_money() }}) as shipping_cost

    from source

)

select * from renamed
