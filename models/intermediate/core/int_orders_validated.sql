-- grain: one row per order (all orders), with identity, channel, line totals excl. VAT,
-- the one is_valid_order rule, and the order's sequence among the customer's valid orders.
-- A view: int_orders_netted is its one reader, so the order hub is one query over the lines
-- and orders, not a 2.9M-row table written and read back (docs/performance.md).
{{ config(materialized='view') }}
with

orders as (

    select
        order_id,
        ordered_at,
        order_status,
        currency,
        prices_include_tax,
        shipping_amount,
        utm_source,
        utm_medium,
        utm_campaign,
        discount_code,
        purchase_type,
        shipping_cost
    from {{ ref('stg_shop__orders') }}

),

identities as (

    select
        order_id,
        source_customer_id,
        customer_id,
        identity_source
    from {{ ref('int_orders_identified') }}

),

channels as (

    select
        utm_source,
        utm_medium,
        channel
    from {{ ref('int_utm_channels_mapped') }}

),

order_lines as (

    select
        order_id,
        quantity,
        gross_sales,
        discounts,
        gifted_value,
        non_gift_gross_sales,
        non_gift_discounts,
        has_known_cost,
        cogs,
        -- what the customer paid for the line, VAT included, rounded to the money scale
        -- once per line (tax_rate is a double) so the order's sum is exact
        cast(
            case
                when prices_include_tax then paid_amount
                else paid_amount * (1 + tax_rate)
            end as {{ type_money() }}
        ) as paid_incl_vat
    from {{ ref('int_order_lines_priced') }}

),

bfcm_windows as (

    select
        window_start,
        window_end
    from {{ ref('bfcm_windows') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

lines_per_order as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as units,
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(gifted_value) as gifted_value,
        sum(non_gift_gross_sales) as non_gift_gross_sales,
        sum(non_gift_discounts) as non_gift_discounts,
        -- an order's COGS is known only when every one of its lines' costs is
        case
            when min(case when has_known_cost then 1 else 0 end) = 1 then sum(cogs)
        end as lines_cogs,
        min(case when has_known_cost then 1 else 0 end) = 1 as has_known_line_costs,
        sum(paid_incl_vat) as paid_incl_vat
    from order_lines
    group by order_id

),

orders_joined as (

    select
        orders.order_id,
        identities.customer_id,
        identities.source_customer_id,
        identities.identity_source,
        orders.ordered_at,
        {{ to_reporting_timezone('orders.ordered_at') }} as ordered_at_local,
        orders.order_status,
        orders.currency,
        orders.prices_include_tax,
        orders.shipping_amount,
        orders.shipping_cost,
        orders.utm_source,
        orders.utm_medium,
        orders.utm_campaign,
        orders.discount_code,
        orders.purchase_type,
        coalesce(channels.channel, 'direct') as channel,
        coalesce(lines_per_order.line_count, 0) as line_count,
        coalesce(lines_per_order.units, 0) as units,
        cast(coalesce(lines_per_order.gross_sales, 0) as {{ type_money() }}) as gross_sales,
        cast(coalesce(lines_per_order.discounts, 0) as {{ type_money() }}) as discounts,
        cast(coalesce(lines_per_order.gifted_value, 0) as {{ type_money() }}) as gifted_value,
        cast(
            coalesce(lines_per_order.non_gift_gross_sales, 0) as decimal(38, 12)
        ) as non_gift_gross_sales,
        cast(
            coalesce(lines_per_order.non_gift_discounts, 0) as decimal(38, 12)
        ) as non_gift_discounts,
        cast(lines_per_order.lines_cogs as {{ type_money() }}) as lines_cogs,
        lines_per_order.has_known_line_costs,
        cast(lines_per_order.paid_incl_vat as {{ type_money() }}) as paid_incl_vat,
        as_of.as_of_date
    from orders
    inner join identities
        on orders.order_id = identities.order_id
    left join channels
        on
            coalesce(orders.utm_source, '') = coalesce(channels.utm_source, '')
            and coalesce(orders.utm_medium, '') = coalesce(channels.utm_medium, '')
    left join lines_per_order
        on orders.order_id = lines_per_order.order_id
    cross join as_of

),

orders_dated as (

    select
        orders_joined.*,
        cast(orders_joined.ordered_at_local as date) as order_date
    from orders_joined

),

order_dates as (

    select distinct order_date
    from orders_dated

),

order_dates_in_bfcm as (

    -- the range join runs on the distinct order dates (about a thousand), not on every
    -- order; bfcm windows never overlap (seed test), so this join cannot fan out
    select
        order_dates.order_date,
        bfcm_windows.window_start is not null as is_bfcm_order
    from order_dates
    left join bfcm_windows
        on order_dates.order_date between bfcm_windows.window_start and bfcm_windows.window_end

),

orders_in_bfcm as (

    select
        orders_dated.*,
        coalesce(order_dates_in_bfcm.is_bfcm_order, false) as is_bfcm_order
    from orders_dated
    left join order_dates_in_bfcm
        on orders_dated.order_date = order_dates_in_bfcm.order_date

),

orders_flagged as (

    select
        *,
        case
            when non_gift_gross_sales > 0 then non_gift_discounts / non_gift_gross_sales
            else 0
        end as discount_ratio,
        -- the one validity rule, first failing reason wins
        case
            when order_status = 'cancelled' then 'cancelled'
            when order_status = 'test' then 'test'
            when order_status = 'pending' then 'pending'
            -- refunded: a real sale whose money came back through the refunds table
            when order_status not in ('completed', 'refunded') then 'unknown_status'
            when customer_id is null then 'no_identity'
            when currency != '{{ var("shop_currency") }}' then 'foreign_currency'
            when order_date > as_of_date then 'after_as_of_date'
            when gross_sales - discounts <= 0 then 'zero_value'
        end as invalid_reason
    from orders_in_bfcm

),

orders_windowed as (

    -- the sequence among the customer's valid orders: one window over every order,
    -- partitioned by validity too (no second pass over the orders and no join back)
    select
        *,
        row_number() over (
            partition by customer_id, invalid_reason is null
            order by ordered_at, order_id
        ) as sequence_within_validity,
        lag(order_date) over (
            partition by customer_id, invalid_reason is null
            order by ordered_at, order_id
        ) as previous_date_within_validity
    from orders_flagged

),

orders_sequenced as (

    -- kept for valid orders only
    select
        *,
        case
            when invalid_reason is null then sequence_within_validity
        end as order_sequence,
        case
            when invalid_reason is null then previous_date_within_validity
        end as previous_order_date
    from orders_windowed

),

final as (

    select
        -- ids
        orders_sequenced.order_id,
        orders_sequenced.customer_id,
        orders_sequenced.source_customer_id,
        orders_sequenced.identity_source,

        -- dates
        orders_sequenced.ordered_at,
        orders_sequenced.ordered_at_local,
        orders_sequenced.order_date,
        {{ month_start('orders_sequenced.order_date') }} as order_month,

        -- validity and sequence
        orders_sequenced.order_status,
        orders_sequenced.invalid_reason is null as is_valid_order,
        orders_sequenced.invalid_reason,
        orders_sequenced.order_sequence,
        coalesce(orders_sequenced.order_sequence = 1, false) as is_first_order,
        orders_sequenced.previous_order_date,
        {{ dbt.datediff(
            'orders_sequenced.previous_order_date',
            'orders_sequenced.order_date',
            'day'
        ) }} as days_since_previous_order,

        -- attributes
        orders_sequenced.channel,
        orders_sequenced.utm_source,
        orders_sequenced.utm_medium,
        orders_sequenced.utm_campaign,
        orders_sequenced.discount_code,
        orders_sequenced.purchase_type,
        orders_sequenced.currency,
        orders_sequenced.prices_include_tax,
        orders_sequenced.is_bfcm_order,

        -- amounts excl. VAT (returns come from refunds, downstream)
        orders_sequenced.line_count,
        orders_sequenced.units,
        orders_sequenced.gross_sales,
        orders_sequenced.discounts,
        orders_sequenced.gifted_value,
        -- rounded to 6 decimals (via numeric(28,6)) so a 40%-off order is exactly 0.4,
        -- not 0.39999999, at the band boundaries
        cast(
            cast(orders_sequenced.discount_ratio as {{ dbt.type_numeric() }})
            as {{ type_double() }}
        ) as discount_depth,
        orders_sequenced.shipping_amount,

        -- line costs and what was paid, for the order's margins (int_orders_netted)
        orders_sequenced.lines_cogs,
        orders_sequenced.has_known_line_costs,
        orders_sequenced.paid_incl_vat,
        orders_sequenced.shipping_cost
    from orders_sequenced

)

select * from final
