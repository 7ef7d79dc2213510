-- Shopify connector `order` (+ shipping lines, discount codes, URL tags) renamed into the raw
-- contract's orders columns; stg_shop__orders cleans them like any contract export.
with

shop_orders as (

    select
        id,
        {{ shopify_email_hash(source('shopify', 'order')) }} as email_hash,
        customer_id,
        created_at,
        cancelled_at,
        test,
        currency,
        taxes_included,
        source_name,
        _fivetran_deleted
    from {{ source('shopify', 'order') }}

),

shipping_lines as (

    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        price,
        discounted_price
    from {{ source('shopify', 'order_shipping_line') }}

),

discount_codes as (

    select
        order_id,
        code,
        {{ dbt.cast('"index"', dbt.type_int()) }} as code_index
    from {{ source('shopify', 'order_discount_code') }}

),

url_tags as (

    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        key as tag_key,
        value as tag_value
    from {{ source('shopify', 'order_url_tag') }}

),

live_orders as (

    -- rows the connector marks deleted are not orders any more
    select *
    from shop_orders
    where {{ shopify_not_deleted() }}

),

shipping_per_order as (

    -- shipping charged = price after shipping discounts, in the shop currency
    select
        order_id,
        cast(
            sum(cast(coalesce(discounted_price, price) as {{ type_money() }}))
            as {{ type_money() }}
        ) as shipping_amount
    from shipping_lines
    group by order_id

),

first_discount_code as (

    -- our contract holds one code per order: the first one applied (lowest index)
    select
        order_id,
        code
    from (
        select
            cast(order_id as {{ dbt.type_string() }}) as order_id,
            code,
            row_number() over (
                partition by order_id order by code_index asc, code asc
            ) as code_rank
        from discount_codes
    ) as ranked
    where code_rank = 1

),

utm_per_order as (

    select
        order_id,
        max(case when lower(tag_key) = 'utm_source' then tag_value end) as utm_source,
        max(case when lower(tag_key) = 'utm_medium' then tag_value end) as utm_medium,
        max(case when lower(tag_key) = 'utm_campaign' then tag_value end) as utm_campaign
    from url_tags
    group by order_id

),

final as (

    select
        cast(live_orders.id as {{ dbt.type_string() }}) as order_id,
        nullif(trim(cast(live_orders.customer_id as {{ dbt.type_string() }})), '') as customer_id,
        cast(live_orders.email_hash as {{ dbt.type_string() }}) as customer_email_hash,
        cast(live_orders.created_at as {{ dbt.type_timestamp() }}) as ordered_at,
        -- our validity rule reads status: test first, then cancelled, else completed
        case
            when coalesce(cast(live_orders.test as boolean), false) then 'test'
            when live_orders.cancelled_at is not null then 'cancelled'
            else 'completed'
        end as status,
        -- `currency` is the shop currency; every amount read here is in shop money
        cast(live_orders.currency as {{ dbt.type_string() }}) as currency,
        cast(live_orders.taxes_included as boolean) as prices_include_tax,
        coalesce(shipping_per_order.shipping_amount, 0) as shipping_amount,
        utm_per_order.utm_source,
        utm_per_order.utm_medium,
        utm_per_order.utm_campaign,
        first_discount_code.code as discount_code,
        -- Shopify subscription apps create orders with source_name subscription_contract
        case
            when live_orders.source_name = 'subscription_contract' then 'subscription'
            else 'one_time'
        end as purchase_type,
        -- carrier cost paid by the shop: not in the connector's order tables (unknown)
        cast(null as {{ type_money() }}) as shipping_cost
    from live_orders
    left join shipping_per_order
        on cast(live_orders.id as {{ dbt.type_string() }}) = shipping_per_order.order_id
    left join first_discount_code
        on cast(live_orders.id as {{ dbt.type_string() }}) = first_discount_code.order_id
    left join utm_per_order
        on cast(live_orders.id as {{ dbt.type_string() }}) = utm_per_order.order_id

)

select * from final
