-- Nothing is silently dropped: every raw order and line reaches its fact table (invalid
-- ones flagged, not removed), and every raw refund reaches fct_returns.
with

counts as (

    select
        'orders' as table_name,
        (select count(*) from {{ source('shop', 'orders') }}) as raw_rows,
        (select count(*) from {{ ref('fct_orders') }}) as mart_rows
    union all
    select
        'order_lines' as table_name,
        (select count(*) from {{ source('shop', 'order_lines') }}) as raw_rows,
        (select count(*) from {{ ref('fct_order_lines') }}) as mart_rows
    union all
    select
        'refunds' as table_name,
        (select count(*) from {{ source('shop', 'refunds') }}) as raw_rows,
        (select count(distinct refund_id) from {{ ref('fct_returns') }}) as mart_rows

)

select *
from counts
where raw_rows != mart_rows
