-- Per order line: the unit cost (line's cost at the time of sale, else the product's, else
-- unknown), COGS and the cost given back by returned units (doc blocks unit_cost, cogs).
-- Reads staging only; int_order_lines_netted and int_orders_netted read it (issue 15).
{%- set restock = var('restock_returned_goods') in [true, 'true', 'True'] %}
{%- set restocked_quantity = 'returned_quantity' if restock else '0' %}
with

order_lines as (

    select
        order_line_id,
        order_id,
        product_id,
        quantity,
        is_gift,
        unit_cost
    from {{ ref('stg_shop__order_lines') }}

),

products as (

    select
        product_id,
        unit_cost
    from {{ ref('stg_shop__products') }}

),

refunds as (

    select
        order_line_id,
        refund_quantity
    from {{ ref('stg_shop__refunds') }}

),

returned_per_line as (

    -- units returned on line-level refunds; a refund without a quantity returns no unit
    select
        order_line_id,
        sum(coalesce(refund_quantity, 0)) as returned_quantity
    from refunds
    where order_line_id is not null
    group by order_line_id

),

unit_cost_resolved as (

    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.product_id,
        order_lines.quantity,
        order_lines.is_gift,
        -- the line's cost at the time of sale wins; unknown stays null, never 0
        coalesce(order_lines.unit_cost, products.unit_cost) as unit_cost,
        case
            when order_lines.unit_cost is not null then 'order_line'
            when products.unit_cost is not null then 'product'
        end as unit_cost_source,
        -- never more units back than the line sold (a larger refund quantity is capped)
        least(
            coalesce(returned_per_line.returned_quantity, 0), order_lines.quantity
        ) as returned_quantity
    from order_lines
    left join products
        on order_lines.product_id = products.product_id
    left join returned_per_line
        on order_lines.order_line_id = returned_per_line.order_line_id

),

final as (

    -- returned units back in stock give their cost back (var restock_returned_goods)
    select
        order_line_id,
        order_id,
        product_id,
        quantity,
        is_gift,
        unit_cost,
        unit_cost_source,
        unit_cost is not null as has_known_cost,
        returned_quantity,
        {{ restocked_quantity }} as restocked_quantity,
        quantity * unit_cost as gross_cogs,
        {{ restocked_quantity }} * unit_cost as restocked_cost,
        (quantity - {{ restocked_quantity }}) * unit_cost as cogs
    from unit_cost_resolved

)

select * from final
