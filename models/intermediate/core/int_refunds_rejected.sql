-- grain: one row per refund that loads but must not reach the numbers (quarantined), with
-- the first rule it breaks. int_refunds_allocated reads every other refund.
with

refunds as (

    select
        refund_id,
        order_id,
        order_line_id,
        refunded_at,
        refund_amount
    from {{ ref('stg_shop__refunds') }}

),

orders as (

    select
        order_id,
        ordered_at
    from {{ ref('stg_shop__orders') }}

),

order_lines as (

    select
        order_line_id,
        order_id
    from {{ ref('stg_shop__order_lines') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

refunds_checked as (

    select
        refunds.refund_id,
        refunds.order_id,
        refunds.order_line_id,
        refunds.refunded_at,
        refunds.refund_amount,
        -- first failing rule wins
        case
            when
                refunds.order_line_id is not null
                and order_lines.order_id != refunds.order_id
                then 'line_of_another_order'
            when refunds.refunded_at < orders.ordered_at then 'before_order'
            {%- if var('as_of_date') %}
                -- only a pinned reference date: by default as_of_date is the latest order's
                -- date and refunds issued after it (export taken later) are real
                when
                    cast({{ to_reporting_timezone('refunds.refunded_at') }} as date)
                    > as_of.as_of_date
                    then 'after_as_of_date'
            {%- endif %}
        end as reject_reason
    from refunds
    inner join orders
        on refunds.order_id = orders.order_id
    left join order_lines
        on refunds.order_line_id = order_lines.order_line_id
    cross join as_of

),

final as (

    select
        refund_id,
        order_id,
        order_line_id,
        refunded_at,
        refund_amount,
        reject_reason
    from refunds_checked
    where reject_reason is not null

)

select * from final
