with

source as (

    select
        product_id,
        product_name,
        category,
        unit_cost
    from {{ shop_source('products') }}

),

renamed as (

    select
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        {{ escape_formula_text('trim(product_name)') }} as product_name,
        {{ clean_text('category', 'lower', 'uncategorised') }} as product_category,
        -- cost per unit excl. VAT, shop currency; null = unknown (never 0)
        cast(unit_cost as {{ type_money() }}) as unit_cost
    from source

)

select * from renamed
