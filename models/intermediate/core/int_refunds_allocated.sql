-- grain: one row per refund x order line it is allocated to.
-- Line refunds go to their line; order-level refunds are spread over the order's lines pro
-- rata to what was paid for each. Per line, refunds are recognised as returns in date order
-- up to what was paid for the line; anything beyond is refund_excess (not a product return).
-- Quarantined refunds (int_refunds_rejected) never reach this model.
-- Exact money (DECIMAL, type_money): an order-level refund is spread by cumulative shares
-- (each line gets round(amount x paid through it / paid) minus the same for the lines
-- before it), so the pieces add up to the refund to the last digit; returns excl. VAT are
-- rounded the same way on the running recognised amount, so a fully refunded line returns
-- exactly its net_sales_before_returns (int_order_lines_priced) and nets to 0.
with

staged_refunds as (

    select
        refund_id,
        order_id,
        order_line_id,
        refunded_at,
        refund_amount,
        refund_quantity
    from {{ ref('stg_shop__refunds') }}

),

rejected_refunds as (

    select refund_id
    from {{ ref('int_refunds_rejected') }}

),

priced_lines as (

    select
        order_line_id,
        order_id,
        paid_amount,
        vat_divisor
    from {{ ref('int_order_lines_priced') }}

),

refunds as (

    select
        staged_refunds.refund_id,
        staged_refunds.order_id,
        staged_refunds.order_line_id,
        staged_refunds.refunded_at,
        staged_refunds.refund_amount,
        staged_refunds.refund_quantity
    from staged_refunds
    left join rejected_refunds
        on staged_refunds.refund_id = rejected_refunds.refund_id
    where rejected_refunds.refund_id is null

),

refunded_orders as (

    -- a kept line refund names a line of its own order (int_refunds_rejected), so the lines
    -- of the refunded orders are every line a refund can reach: the windows below run on
    -- those, not on every line of the store
    select distinct order_id
    from refunds

),

order_lines as (

    select
        priced_lines.order_line_id,
        priced_lines.order_id,
        priced_lines.paid_amount,
        priced_lines.vat_divisor,
        sum(priced_lines.paid_amount) over (
            partition by priced_lines.order_id
            order by priced_lines.order_line_id
            rows between unbounded preceding and current row
        ) as paid_through_line,
        row_number() over (
            partition by priced_lines.order_id order by priced_lines.order_line_id
        ) as line_number
    from priced_lines
    inner join refunded_orders
        on priced_lines.order_id = refunded_orders.order_id

),

paid_per_order as (

    select
        order_id,
        sum(paid_amount) as order_paid_amount,
        count(*) as order_line_count
    from order_lines
    group by order_id

),

line_refunds as (

    select
        refund_id,
        order_id,
        order_line_id,
        refunded_at,
        refund_amount as allocated_amount,
        refund_quantity
    from refunds
    where order_line_id is not null

),

order_refunds_spread as (

    select
        refunds.refund_id,
        refunds.order_id,
        order_lines.order_line_id,
        refunds.refunded_at,
        case
            when paid_per_order.order_paid_amount > 0
                then
                    cast(
                        refunds.refund_amount * order_lines.paid_through_line
                        / paid_per_order.order_paid_amount as {{ type_money() }}
                    )
                    - cast(
                        refunds.refund_amount
                        * (order_lines.paid_through_line - order_lines.paid_amount)
                        / paid_per_order.order_paid_amount as {{ type_money() }}
                    )
            else
                cast(
                    refunds.refund_amount * order_lines.line_number
                    / paid_per_order.order_line_count as {{ type_money() }}
                )
                - cast(
                    refunds.refund_amount * (order_lines.line_number - 1)
                    / paid_per_order.order_line_count as {{ type_money() }}
                )
        end as allocated_amount,
        cast(null as {{ dbt.type_int() }}) as refund_quantity
    from refunds
    inner join paid_per_order
        on refunds.order_id = paid_per_order.order_id
    inner join order_lines
        on refunds.order_id = order_lines.order_id
    where refunds.order_line_id is null

),

order_refunds_without_lines as (

    -- an order-level refund on an order with no lines: nothing to return, all excess
    select
        refunds.refund_id,
        refunds.order_id,
        cast(null as {{ dbt.type_string() }}) as order_line_id,
        refunds.refunded_at,
        refunds.refund_amount as allocated_amount,
        refunds.refund_quantity
    from refunds
    left join paid_per_order
        on refunds.order_id = paid_per_order.order_id
    where refunds.order_line_id is null and paid_per_order.order_id is null

),

refund_pieces as (

    select * from line_refunds
    union all
    select * from order_refunds_spread
    union all
    select * from order_refunds_without_lines

),

pieces_with_history as (

    select
        refund_pieces.refund_id,
        refund_pieces.order_id,
        refund_pieces.order_line_id,
        refund_pieces.refunded_at,
        refund_pieces.allocated_amount,
        refund_pieces.refund_quantity,
        coalesce(order_lines.paid_amount, 0) as line_paid_amount,
        coalesce(order_lines.vat_divisor, 1) as vat_divisor,
        coalesce(
            sum(refund_pieces.allocated_amount) over (
                partition by refund_pieces.order_id, refund_pieces.order_line_id
                order by refund_pieces.refunded_at, refund_pieces.refund_id
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as refunded_before
    from refund_pieces
    left join order_lines
        on refund_pieces.order_line_id = order_lines.order_line_id

),

pieces_capped as (

    select
        pieces_with_history.*,
        cast(
            greatest(
                0,
                least(
                    pieces_with_history.allocated_amount,
                    pieces_with_history.line_paid_amount - pieces_with_history.refunded_before
                )
            ) as {{ type_money() }}
        ) as recognised_amount
    from pieces_with_history

),

pieces_recognised_to_date as (

    select
        pieces_capped.*,
        sum(pieces_capped.recognised_amount) over (
            partition by pieces_capped.order_id, pieces_capped.order_line_id
            order by pieces_capped.refunded_at, pieces_capped.refund_id
            rows between unbounded preceding and current row
        ) as recognised_through_piece
    from pieces_capped

),

final as (

    select
        refund_id,
        order_id,
        order_line_id,
        refunded_at,
        refund_quantity,
        -- price basis
        cast(allocated_amount as {{ type_money() }}) as refunded_amount,
        -- excl. VAT: the running recognised amount backed out of VAT and rounded, minus
        -- the same before this piece (the pieces of a line add up to its rounded total)
        cast(
            cast(recognised_through_piece / vat_divisor as {{ type_money() }})
            - cast(
                (recognised_through_piece - recognised_amount) / vat_divisor
                as {{ type_money() }}
            )
            as {{ type_money() }}
        ) as returns,
        cast(
            (allocated_amount - recognised_amount) / vat_divisor as {{ type_money() }}
        ) as refund_excess
    from pieces_recognised_to_date

)

select * from final
