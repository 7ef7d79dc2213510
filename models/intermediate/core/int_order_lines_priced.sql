-- grain: one row per order line, with its revenue ladder excl. VAT (returns excepted).
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
        is_gift
    from {{ ref('stg_shop__order_lines') }}

),

orders as (

    select
        order_id,
        prices_include_tax
    from {{ ref('stg_shop__orders') }}

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
        list_amount - discount_in_price_basis as paid_amount,
        -- excl. VAT
        list_amount / vat_divisor as gross_sales,
        discount_in_price_basis / vat_divisor as discounts,
        case when is_gift then list_amount / vat_divisor else 0 end as gifted_value,
        case when is_gift then 0 else list_amount / vat_divisor end as non_gift_gross_sales,
        case
            when is_gift then 0 else discount_in_price_basis / vat_divisor
        end as non_gift_discounts
    from lines_in_price_basis

)

select * from final
