-- grain: one row per refund x order line it is allocated to; dated by refund date
-- (the finance view: a return is booked in the month the money went back).
-- Computed in int_refunds_dated (the hub); this mart is its contract.
with

final as (

    select
        refund_id,
        order_id,
        order_line_id,
        customer_id,
        refunded_at,
        refund_date,
        refund_month,
        order_date,
        is_valid_order,
        refunded_amount,
        returns,
        refund_excess,
        return_id
    from {{ ref('int_refunds_dated') }}

)

select * from final
