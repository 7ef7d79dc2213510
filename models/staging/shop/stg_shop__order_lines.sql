with

source as (

    select
        order_line_id,
        order_id,
        product_id,
        quantity,
        unit_price,
        discount_amount,
        tax_rate,
        is_gift,
        unit_cost
    from {{ shop_source('order_lines') }}

),

renamed as (

    select
        -- ids
        cast(order_line_id as {{ dbt.type_string() }}) as order_line_id,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(product_id as {{ dbt.type_string() }}) as product_id,

        -- quantities and prices (order's tax basis)
        cast(quantity as {{ dbt.type_int() }}) as quantity,
        cast(unit_price as {{ type_money() }}) as unit_price,
        cast(coalesce(discount_amount, 0) as {{ type_money() }}) as discount_amount,
        cast(
            coalesce(tax_rate, {{ var("default_tax_rate") }}) as {{ type_double() }}
        ) as tax_rate,
        coalesce(is_gift, false) as is_gift,

        -- cost per unit at the time of sale, excl. VAT, shop currency; null = unknown
        cast(unit_cost as {{ type_money() }}) as unit_cost

    from source

)

select * from renamed
