-- grain: one row per month x channel, plus channel 'all': the channel's spend, the month's
-- unattributed spend allocated to channels in proportion to their attributed spend in the
-- month, the month's new customers by acquisition channel, and the plain and fully loaded
-- CAC (doc block cac_fully_loaded). Months outside the spend export have unknown (null)
-- spend, as in fct_acquisition_monthly. Read by the customer margin hub (acquisition_cac)
-- and by fct_acquisition_monthly, so a customer is compared to its cell's published CAC.
with

spend as (

    select
        spend_month,
        channel,
        spend_shop_currency
    from {{ ref('int_marketing_spend_attributed') }}

),

first_orders as (

    select
        order_date,
        channel
    from {{ ref('int_orders_netted') }}
    where is_valid_order and order_sequence = 1

),

spend_per_channel as (

    select
        spend_month as month,
        channel,
        sum(spend_shop_currency) as spend
    from spend
    group by spend_month, channel

),

spend_coverage as (

    select
        min(month) as first_spend_month,
        max(month) as last_spend_month
    from spend_per_channel

),

spend_per_month as (

    select
        month,
        sum(case when channel = 'unattributed' then spend else 0 end) as unattributed_spend,
        sum(case when channel = 'unattributed' then 0 else spend end) as attributed_spend
    from spend_per_channel
    group by month

),

new_customers_per_channel as (

    select
        {{ month_start('order_date') }} as month,
        channel,
        count(*) as new_customers
    from first_orders
    group by {{ month_start('order_date') }}, channel

),

cells as (

    select
        month,
        channel
    from spend_per_channel
    union
    select
        month,
        channel
    from new_customers_per_channel

),

cells_spent as (

    select
        cells.month,
        cells.channel,
        case
            when cells.month between spend_coverage.first_spend_month
                and spend_coverage.last_spend_month
                then coalesce(spend_per_channel.spend, 0)
        end as spend,
        coalesce(spend_per_month.unattributed_spend, 0) as month_unattributed_spend,
        coalesce(spend_per_month.attributed_spend, 0) as month_attributed_spend,
        coalesce(new_customers_per_channel.new_customers, 0) as new_customers
    from cells
    cross join spend_coverage
    left join spend_per_channel
        on
            cells.month = spend_per_channel.month
            and cells.channel = spend_per_channel.channel
    left join spend_per_month
        on cells.month = spend_per_month.month
    left join new_customers_per_channel
        on
            cells.month = new_customers_per_channel.month
            and cells.channel = new_customers_per_channel.channel

),

cells_loaded as (

    -- unattributed spend moves to the channels pro rata to their attributed spend; a month
    -- with no attributed spend keeps it in the bucket (nothing to allocate it to)
    select
        month,
        channel,
        spend,
        new_customers,
        case
            when spend is null then null
            when month_attributed_spend <= 0 then 0
            when channel = 'unattributed' then -spend
            else month_unattributed_spend * spend / month_attributed_spend
        end as allocated_unattributed_spend
    from cells_spent

),

with_total as (

    select
        month,
        channel,
        spend,
        allocated_unattributed_spend,
        new_customers
    from cells_loaded
    union all
    select
        month,
        'all' as channel,
        -- null when the month is outside the spend export (every channel's spend is null)
        sum(spend) as spend,
        case when count(spend) > 0 then 0 end as allocated_unattributed_spend,
        sum(new_customers) as new_customers
    from cells_loaded
    group by month

),

final as (

    select
        month,
        channel,
        cast(spend as {{ type_money() }}) as spend,
        cast(allocated_unattributed_spend as {{ type_money() }})
            as allocated_unattributed_spend,
        cast(spend + allocated_unattributed_spend as {{ type_money() }}) as spend_fully_loaded,
        cast(new_customers as {{ dbt.type_int() }}) as new_customers,
        {{ safe_divide('spend', 'new_customers') }} as cac,
        {{ safe_divide('spend + allocated_unattributed_spend', 'new_customers') }}
            as cac_fully_loaded
    from with_total

)

select * from final
