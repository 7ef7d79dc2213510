-- Shopify connector `order_line` (+ tax lines, + the variant's inventory cost) renamed into
-- the raw contract's order_lines.
with

shop_lines as (

    select
        id,
        order_id,
        product_id,
        quantity,
        price,
        total_discount,
        taxable,
        variant_id
    from {{ source('shopify', 'order_line') }}

),

variant_costs as (

    -- Shopify keeps cost per variant, on its inventory item: the current cost (no history)
    select
        cast(variants.id as {{ dbt.type_string() }}) as variant_id,
        cast(items.cost as {{ type_money() }}) as unit_cost
    from {{ source('shopify', 'product_variant') }} as variants
    inner join {{ source('shopify', 'inventory_item') }} as items
        on
            cast(variants.inventory_item_id as {{ dbt.type_string() }})
            = cast(items.id as {{ dbt.type_string() }})

),

tax_lines as (

    select
        cast(order_line_id as {{ dbt.type_string() }}) as order_line_id,
        rate
    from {{ source('shopify', 'tax_line') }}

),

live_orders as (

    -- lines of orders the connector marks deleted go with their order
    select cast(id as {{ dbt.type_string() }}) as order_id
    from {{ source('shopify', 'order') }}
    where {{ shopify_not_deleted() }}

),

rate_per_line as (

    -- several taxes on one line (e.g. state + county) add up to the line's rate
    select
        order_line_id,
        sum(cast(rate as {{ type_double() }})) as tax_rate
    from tax_lines
    group by order_line_id

),

final as (

    select
        cast(shop_lines.id as {{ dbt.type_string() }}) as order_line_id,
        cast(shop_lines.order_id as {{ dbt.type_string() }}) as order_id,
        cast(shop_lines.product_id as {{ dbt.type_string() }}) as product_id,
        cast(shop_lines.quantity as {{ dbt.type_int() }}) as quantity,
        -- price and total_discount are shop money in the order's tax basis (taxes_included)
        cast(shop_lines.price as {{ type_money() }}) as unit_price,
        cast(shop_lines.total_discount as {{ type_money() }}) as discount_amount,
        -- not taxable: rate 0; taxable without tax lines: null, i.e. var default_tax_rate
        case
            when not coalesce(cast(shop_lines.taxable as boolean), true) then 0
            else rate_per_line.tax_rate
        end as tax_rate,
        -- Shopify has no gift flag: a line discounted to nothing is a free product
        cast(shop_lines.total_discount as {{ type_money() }})
        >= cast(shop_lines.price as {{ type_money() }})
        * cast(shop_lines.quantity as {{ dbt.type_int() }}) as is_gift,
        -- the line's variant's inventory cost: Shopify's current cost, the only cost the
        -- connector has (no cost at the time of sale); no cost: null = unknown, never 0
        variant_costs.unit_cost
    from shop_lines
    inner join live_orders
        on cast(shop_lines.order_id as {{ dbt.type_string() }}) = live_orders.order_id
    left join rate_per_line
        on cast(shop_lines.id as {{ dbt.type_string() }}) = rate_per_line.order_line_id
    left join variant_costs
        on cast(shop_lines.variant_id as {{ dbt.type_string() }}) = variant_costs.variant_id

)

select * from final
