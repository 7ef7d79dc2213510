-- Shopify connector `product` renamed into the raw contract's products: product_type is the
-- category. Products the connector marks deleted are excluded (their old lines then read as
-- an unknown product: docs/sources/shopify.md).
with

shop_products as (

    select
        id,
        title,
        product_type,
        _fivetran_deleted
    from {{ source('shopify', 'product') }}

),

final as (

    select
        cast(id as {{ dbt.type_string() }}) as product_id,
        cast(title as {{ dbt.type_string() }}) as product_name,
        cast(product_type as {{ dbt.type_string() }}) as category,
        -- inventory_item.cost (per variant) is not mapped yet: unknown, never 0 (issue 15)
        cast(null as {{ type_money() }}) as unit_cost
    from shop_products
    where {{ shopify_not_deleted() }}

)

select * from final
