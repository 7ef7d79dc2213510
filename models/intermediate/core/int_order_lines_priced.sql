-- grain: one row per order line, with its revenue ladder excl. VAT (returns excepted) and
-- its cost: the unit cost (line's cost at the time of sale, else the product's, else
-- unknown), COGS and the cost given back by returned units (doc blocks unit_cost, cogs).
-- One line hub read by the order and line hubs (int_orders_validated, int_orders_netted,
-- int_order_lines_netted) and int_refunds_allocated: 7.7M lines at 1M customers are
-- written once here, not once for prices and once for costs (docs/performance.md).
{%- set restock = var('restock_returned_goods') in [true, 'true', 'True'] %}
{%- set restocked_quantity = 'returned_quantity' if restock else '0' %}
with

order_lines as (

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
    from {{ ref('stg_shop__order_lines') }}

),

orders as (

    select
        order_id,
        prices_include_tax
    from {{ ref('stg_shop__orders') }}

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

lines_in_price_basis as (

    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.product_id,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.tax_rate,
        order_lines.is_gift,
        orders.prices_include_tax,
        -- the line's cost at the time of sale wins; unknown stays null, never 0
        coalesce(order_lines.unit_cost, products.unit_cost) as unit_cost,
        case
            when order_lines.unit_cost is not null then 'order_line'
            when products.unit_cost is not null then 'product'
        end as unit_cost_source,
        -- never more units back than the line sold (a larger refund quantity is capped)
        least(
            coalesce(returned_per_line.returned_quantity, 0), order_lines.quantity
        ) as returned_quantity,
        order_lines.unit_price * order_lines.quantity as list_amount,
        -- a gift is a 100% discount whatever the export says; no discount exceeds the line
        case
            when order_lines.is_gift then order_lines.unit_price * order_lines.quantity
            else least(order_lines.discount_amount, order_lines.unit_price * order_lines.quantity)
        end as discount_in_price_basis,
        case
            when orders.prices_include_tax then 1 + order_lines.tax_rate
            else 1
        end as vat_divisor
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join products
        on order_lines.product_id = products.product_id
    left join returned_per_line
        on order_lines.order_line_id = returned_per_line.order_line_id

),

lines_excl_vat as (

    -- each amount is backed out of VAT once and rounded to the money scale (a decimal
    -- division returns a double on DuckDB); discounts are gross minus net so the ladder
    -- adds up exactly: gross_sales - discounts = net_sales_before_returns to the last digit
    select
        lines_in_price_basis.*,
        cast(
            lines_in_price_basis.list_amount - lines_in_price_basis.discount_in_price_basis
            as {{ type_money() }}
        ) as paid_amount,
        cast(
            lines_in_price_basis.list_amount / lines_in_price_basis.vat_divisor
            as {{ type_money() }}
        ) as gross_sales,
        cast(
            (lines_in_price_basis.list_amount - lines_in_price_basis.discount_in_price_basis)
            / lines_in_price_basis.vat_divisor as {{ type_money() }}
        ) as net_sales_before_returns
    from lines_in_price_basis

),

final as (

    select
        order_line_id,
        order_id,
        product_id,
        quantity,
        unit_price,
        tax_rate,
        is_gift,
        prices_include_tax,
        vat_divisor,
        -- price basis (what the customer paid, VAT included when prices include it)
        paid_amount,
        -- excl. VAT
        gross_sales,
        cast(gross_sales - net_sales_before_returns as {{ type_money() }}) as discounts,
        case
            when is_gift then gross_sales else cast(0 as {{ type_money() }})
        end as gifted_value,
        -- discount depth inputs only (int_orders_validated): 12 decimals, not the money
        -- scale, so a 40%-off order's ratio is 0.4 after its 6-decimal rounding, not 0.399998
        case
            when is_gift then cast(0 as decimal(38, 12))
            else cast(list_amount / vat_divisor as decimal(38, 12))
        end as non_gift_gross_sales,
        case
            when is_gift then cast(0 as decimal(38, 12))
            else cast(discount_in_price_basis / vat_divisor as decimal(38, 12))
        end as non_gift_discounts,
        -- cost; returned units back in stock give their cost back (var restock_returned_goods)
        unit_cost,
        unit_cost_source,
        unit_cost is not null as has_known_cost,
        returned_quantity,
        {{ restocked_quantity }} as restocked_quantity,
        quantity * unit_cost as gross_cogs,
        cast({{ restocked_quantity }} * unit_cost as {{ type_money() }}) as restocked_cost,
        cast((quantity - {{ restocked_quantity }}) * unit_cost as {{ type_money() }}) as cogs
    from lines_excl_vat

)

select * from final
