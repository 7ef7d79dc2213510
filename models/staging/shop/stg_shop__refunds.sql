with

source as (

    select
        refund_id,
        order_id,
        order_line_id,
        refunded_at,
        amount,
        quantity,
        reason
    from {{ shop_source('refunds') }}

),

renamed as (

    select
        -- ids
        cast(refund_id as {{ dbt.type_string() }}) as refund_id,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(order_line_id as {{ dbt.type_string() }}) as order_line_id,

        -- timestamps (UTC)
        cast(refunded_at as {{ dbt.type_timestamp() }}) as refunded_at,

        -- amounts (order's tax basis)
        cast(amount as {{ type_money() }}) as refund_amount,
        cast(quantity as {{ dbt.type_int() }}) as refund_quantity,
        {{ clean_text('reason') }} as refund_reason

    from source

)

select * from renamed
