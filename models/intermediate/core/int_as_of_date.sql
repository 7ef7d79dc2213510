-- grain: one row: the reference date every "as of" metric uses.
-- var as_of_date when set, else the latest completed order's date (reporting timezone).
with

orders as (

    select
        ordered_at,
        order_status
    from {{ ref('stg_shop__orders') }}

),

latest_order as (

    select max(cast({{ to_reporting_timezone('ordered_at') }} as date)) as latest_order_date
    from orders
    where order_status in ('completed', 'refunded')

),

final as (

    select
        {% if var('as_of_date') -%}
            cast('{{ var("as_of_date") }}' as date)
        {%- else -%}
            latest_order_date
        {%- endif %} as as_of_date
    from latest_order

)

select * from final
