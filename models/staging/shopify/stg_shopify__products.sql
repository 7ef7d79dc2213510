-- Shopify connector `product` renamed into the raw contract's products: product_type is the
-- category. Products the connector marks deleted are excluded (their old lines then read as
-- an unknown product: docs/sources/shopify.md). unit_cost: the inventory cost its live
-- variants share (Shopify keeps cost per variant); variants with different costs: null here,
-- each line then carries its own variant's cost (stg_shopify__order_lines).
with

shop_products as (

    select
        id,
        title,
        product_type,
        _fivetran_deleted
    from {{ source('shopify', 'product') }}

),

variants as (

    select
        product_id,
        inventory_item_id,
        _fivetran_deleted
    from {{ source('shopify', 'product_variant') }}

),

inventory_items as (

    select
        id,
        cost
    from {{ source('shopify', 'inventory_item') }}

),

cost_per_product as (

    -- one cost when every costed live variant agrees; several different costs: unknown
    select
        cast(variants.product_id as {{ dbt.type_string() }}) as product_id,
        case
            when
                min(cast(inventory_items.cost as {{ type_money() }}))
                = max(cast(inventory_items.cost as {{ type_money() }}))
                then min(cast(inventory_items.cost as {{ type_money() }}))
        end as unit_cost
    from variants
    inner join inventory_items
        on
            cast(variants.inventory_item_id as {{ dbt.type_string() }})
            = cast(inventory_items.id as {{ dbt.type_string() }})
    where {{ shopify_not_deleted('variants._fivetran_deleted') }}
    group by cast(variants.product_id as {{ dbt.type_string() }})

),

final as (

    select
        cast(shop_products.id as {{ dbt.type_string() }}) as product_id,
        cast(shop_products.title as {{ dbt.type_string() }}) as product_name,
        cast(shop_products.product_type as {{ dbt.type_string() }}) as category,
        -- current cost per unit, shop money; null = unknown (never 0)
        cost_per_product.unit_cost
    from shop_products
    left join cost_per_product
        on cast(shop_products.id as {{ dbt.type_string() }}) = cost_per_product.product_id
    where {{ shopify_not_deleted('shop_products._fivetran_deleted') }}

)

select * from final
