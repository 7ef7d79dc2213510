-- Shopify connector refunds renamed into the raw contract's refunds: one row per refunded line
-- (order_line_refund) and one per order-level adjustment (order_adjustment, e.g. a shipping
-- refund or a refund discrepancy), dated by their refund.
with

shop_refunds as (

    select
        id,
        order_id,
        created_at,
        note
    from {{ source('shopify', 'refund') }}

),

line_refunds as (

    select
        id,
        refund_id,
        order_line_id,
        quantity,
        subtotal,
        restock_type
    from {{ source('shopify', 'order_line_refund') }}

),

adjustments as (

    select
        id,
        refund_id,
        order_id,
        amount,
        reason
    from {{ source('shopify', 'order_adjustment') }}

),

live_orders as (

    select cast(id as {{ dbt.type_string() }}) as order_id
    from {{ source('shopify', 'order') }}
    where {{ shopify_not_deleted() }}

),

refund_parts as (

    -- subtotal: the refunded line amount in the order's tax basis, shop money
    select
        cast(line_refunds.refund_id as {{ dbt.type_string() }}) as refund_id,
        'line' as part_kind,
        cast(line_refunds.id as {{ dbt.type_string() }}) as part_id,
        cast(line_refunds.order_line_id as {{ dbt.type_string() }}) as order_line_id,
        cast(line_refunds.subtotal as {{ type_money() }}) as amount,
        cast(line_refunds.quantity as {{ dbt.type_int() }}) as quantity,
        cast(line_refunds.restock_type as {{ dbt.type_string() }}) as restock_type,
        cast(null as {{ dbt.type_string() }}) as adjustment_reason
    from line_refunds

    union all

    -- adjustments are negative when money goes back to the customer
    select
        cast(adjustments.refund_id as {{ dbt.type_string() }}) as refund_id,
        'adjustment' as part_kind,
        cast(adjustments.id as {{ dbt.type_string() }}) as part_id,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        cast(-1 * cast(adjustments.amount as {{ type_money() }}) as {{ type_money() }})
            as amount,
        cast(null as {{ dbt.type_int() }}) as quantity,
        cast(null as {{ dbt.type_string() }}) as restock_type,
        cast(adjustments.reason as {{ dbt.type_string() }}) as adjustment_reason
    from adjustments

),

parts_counted as (

    select
        *,
        count(*) over (partition by refund_id) as parts_in_refund
    from refund_parts

),

final as (

    select
        -- one part: the refund's own id; several: refund id and part, still unique
        case
            when parts_counted.parts_in_refund = 1 then parts_counted.refund_id
            else parts_counted.refund_id || '-' || parts_counted.part_kind
                || '-' || parts_counted.part_id
        end as refund_id,
        cast(shop_refunds.order_id as {{ dbt.type_string() }}) as order_id,
        parts_counted.order_line_id,
        cast(shop_refunds.created_at as {{ dbt.type_timestamp() }}) as refunded_at,
        parts_counted.amount,
        parts_counted.quantity,
        coalesce(
            cast(shop_refunds.note as {{ dbt.type_string() }}), parts_counted.adjustment_reason
        ) as reason
    from parts_counted
    inner join shop_refunds
        on parts_counted.refund_id = cast(shop_refunds.id as {{ dbt.type_string() }})
    inner join live_orders
        on cast(shop_refunds.order_id as {{ dbt.type_string() }}) = live_orders.order_id

)

select * from final
