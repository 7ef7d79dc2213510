-- Nothing is lost: for every raw table, raw rows = accepted rows + quarantined rows, and no
-- row is both. Orders and lines are never quarantined (invalid orders stay in the facts,
-- flagged with invalid_reason); refunds reach fct_returns or int_refunds_rejected; spend
-- rows reach int_marketing_spend_attributed or int_marketing_spend_rejected; customers and
-- products reach staging one to one. Returns one row per broken table.
with

raw_counts as (

    select
        'orders' as table_name,
        count(*) as raw_rows
    from {{ source('shop', 'orders') }}
    union all
    select
        'order_lines' as table_name,
        count(*) as raw_rows
    from {{ source('shop', 'order_lines') }}
    union all
    select
        'refunds' as table_name,
        count(*) as raw_rows
    from {{ source('shop', 'refunds') }}
    union all
    select
        'customers' as table_name,
        count(*) as raw_rows
    from {{ source('shop', 'customers') }}
    union all
    select
        'products' as table_name,
        count(*) as raw_rows
    from {{ source('shop', 'products') }}
    union all
    select
        'marketing_spend' as table_name,
        count(*) as raw_rows
    from {{ source('marketing', 'marketing_spend') }}

),

accepted_refunds as (

    select distinct refund_id
    from {{ ref('fct_returns') }}

),

rejected_refunds as (

    select refund_id
    from {{ ref('int_refunds_rejected') }}

),

accepted_counts as (

    select
        'orders' as table_name,
        count(*) as accepted_rows
    from {{ ref('fct_orders') }}
    union all
    select
        'order_lines' as table_name,
        count(*) as accepted_rows
    from {{ ref('fct_order_lines') }}
    union all
    select
        'refunds' as table_name,
        count(*) as accepted_rows
    from accepted_refunds
    union all
    select
        'customers' as table_name,
        count(*) as accepted_rows
    from {{ ref('stg_shop__customers') }}
    union all
    select
        'products' as table_name,
        count(*) as accepted_rows
    from {{ ref('stg_shop__products') }}
    union all
    select
        'marketing_spend' as table_name,
        count(*) as accepted_rows
    from {{ ref('int_marketing_spend_attributed') }}

),

rejected_counts as (

    select
        'refunds' as table_name,
        count(*) as rejected_rows
    from rejected_refunds
    union all
    select
        'marketing_spend' as table_name,
        count(*) as rejected_rows
    from {{ ref('int_marketing_spend_rejected') }}

),

both_accepted_and_rejected as (

    select
        'refunds' as table_name,
        count(*) as overlapping_rows
    from accepted_refunds
    inner join rejected_refunds
        on accepted_refunds.refund_id = rejected_refunds.refund_id
    union all
    select
        'marketing_spend' as table_name,
        count(*) as overlapping_rows
    from {{ ref('int_marketing_spend_attributed') }} as accepted_spend
    inner join {{ ref('int_marketing_spend_rejected') }} as rejected_spend
        on accepted_spend.spend_row_id = rejected_spend.spend_row_id

),

reconciled as (

    select
        raw_counts.table_name,
        raw_counts.raw_rows,
        coalesce(accepted_counts.accepted_rows, 0) as accepted_rows,
        coalesce(rejected_counts.rejected_rows, 0) as rejected_rows,
        coalesce(both_accepted_and_rejected.overlapping_rows, 0) as overlapping_rows
    from raw_counts
    left join accepted_counts
        on raw_counts.table_name = accepted_counts.table_name
    left join rejected_counts
        on raw_counts.table_name = rejected_counts.table_name
    left join both_accepted_and_rejected
        on raw_counts.table_name = both_accepted_and_rejected.table_name

)

select
    table_name,
    raw_rows,
    accepted_rows,
    rejected_rows,
    overlapping_rows
from reconciled
where raw_rows != accepted_rows + rejected_rows or overlapping_rows > 0
