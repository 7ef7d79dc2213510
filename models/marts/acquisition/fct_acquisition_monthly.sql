-- grain: one row per month x channel, plus channel 'all' (every channel and the unattributed
-- spend). New customers of a month = its acquisition cohort (first valid order in the
-- month), by acquisition channel; revenue and COS use the finance view (sales by order
-- month, returns by refund month) by each order's own channel; LTV and payback use the
-- attributed-to-order view of the month's new customers.
{%- set windows = [182, 365] %}
with

spend as (

    select
        spend_month,
        channel,
        spend_shop_currency
    from {{ ref('int_marketing_spend_attributed') }}

),

booked as (

    select
        month,
        channel,
        net_sales_before_returns,
        returns,
        net_revenue
    from {{ ref('int_orders_booked_monthly') }}

),

cohorts as (

    select
        cohort_month,
        channel,
        new_customers,
        first_order_net_revenue,
        net_revenue_182d,
        net_revenue_365d
    from {{ ref('int_cohort_channels_valued') }}

),

cohort_months as (

    select
        cohort_month,
        channel,
        months_since_acquisition,
        cumulative_net_revenue,
        is_month_complete
    from {{ ref('int_cohort_channel_months_cumulated') }}

),

margins as (

    select
        month,
        channel,
        cac_fully_loaded,
        margin_ltv_182d,
        margin_ltv_365d,
        margin_payback_months,
        cost_coverage
    from {{ ref('int_cohort_channels_margined') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

spend_per_channel as (

    select
        spend_month as month,
        channel,
        sum(spend_shop_currency) as spend
    from spend
    group by spend_month, channel

),

spend_with_total as (

    select
        month,
        channel,
        spend
    from spend_per_channel
    union all
    select
        month,
        'all' as channel,
        sum(spend) as spend
    from spend_per_channel
    group by month

),

spend_coverage as (

    -- months the spend export covers: outside them spend is unknown (null), not zero
    select
        min(month) as first_spend_month,
        max(month) as last_spend_month
    from spend_per_channel

),

months as (

    select month from spend_per_channel
    union
    select month from booked
    union
    select cohort_month as month from cohorts

),

channels as (

    select channel from spend_with_total
    union
    select channel from booked
    union
    select channel from cohorts

),

unknown_channel_customers as (

    select
        cohort_month,
        sum(case when channel = 'all' then new_customers else 0 end) as month_new_customers,
        sum(case when channel = 'unknown' then new_customers else 0 end)
            as unknown_channel_new_customers
    from cohorts
    group by cohort_month

),

cells as (

    select
        months.month,
        channels.channel,
        case
            when months.month between spend_coverage.first_spend_month
                and spend_coverage.last_spend_month
                then coalesce(spend_with_total.spend, 0)
        end as spend,
        coalesce(cohorts.new_customers, 0) as new_customers,
        coalesce(unknown_channel_customers.month_new_customers, 0) as month_new_customers,
        coalesce(unknown_channel_customers.unknown_channel_new_customers, 0)
            as unknown_channel_new_customers,
        coalesce(booked.net_sales_before_returns, 0) as net_sales_before_returns,
        coalesce(booked.returns, 0) as returns,
        coalesce(booked.net_revenue, 0) as net_revenue,
        coalesce(cohorts.first_order_net_revenue, 0) as first_order_net_revenue,
        {%- for n in windows %}
            {{ month_window_is_complete('months.month', n, 'as_of.as_of_date') }}
                as is_ltv_{{ n }}d_mature,
            cohorts.net_revenue_{{ n }}d,
        {%- endfor %}
        as_of.as_of_date
    from months
    cross join channels
    cross join spend_coverage
    cross join as_of
    left join spend_with_total
        on
            months.month = spend_with_total.month
            and channels.channel = spend_with_total.channel
    left join cohorts
        on
            months.month = cohorts.cohort_month
            and channels.channel = cohorts.channel
    left join unknown_channel_customers
        on months.month = unknown_channel_customers.cohort_month
    left join booked
        on
            months.month = booked.month
            and channels.channel = booked.channel

),

cells_costed as (

    select
        month,
        channel,
        spend,
        new_customers,
        {{ safe_divide('spend', 'new_customers') }} as cac,
        month_new_customers,
        unknown_channel_new_customers,
        net_sales_before_returns,
        returns,
        net_revenue,
        first_order_net_revenue,
        {%- for n in windows %}
            is_ltv_{{ n }}d_mature,
            case
                when is_ltv_{{ n }}d_mature and new_customers > 0
                    then net_revenue_{{ n }}d
            end as cohort_net_revenue_{{ n }}d,
            case
                when is_ltv_{{ n }}d_mature
                    then {{ safe_divide('net_revenue_' ~ n ~ 'd', 'new_customers') }}
            end as ltv_{{ n }}d,
        {%- endfor %}
        as_of_date
    from cells

),

payback as (

    -- first complete month since acquisition in which the cohort's cumulative net revenue
    -- reaches its spend, i.e. cumulative net revenue per new customer reaches CAC
    select
        cells_costed.month,
        cells_costed.channel,
        min(
            case
                when
                    cells_costed.cac > 0
                    and cohort_months.is_month_complete
                    and cohort_months.cumulative_net_revenue >= cells_costed.spend
                    then cohort_months.months_since_acquisition
            end
        ) as payback_months,
        sum(case when cohort_months.is_month_complete then 1 else 0 end)
            as payback_months_observed
    from cells_costed
    inner join cohort_months
        on
            cells_costed.month = cohort_months.cohort_month
            and cells_costed.channel = cohort_months.channel
    group by cells_costed.month, cells_costed.channel

),

final as (

    select
        -- keys
        cells_costed.month,
        cells_costed.channel,

        -- spend and new customers
        cast(cells_costed.spend as {{ type_money() }}) as spend,
        cast(cells_costed.new_customers as {{ dbt.type_int() }}) as new_customers,
        cast(cells_costed.cac as {{ type_double() }}) as cac,
        cast(cells_costed.month_new_customers as {{ dbt.type_int() }}) as month_new_customers,
        cast(cells_costed.unknown_channel_new_customers as {{ dbt.type_int() }})
            as unknown_channel_new_customers,
        {{ safe_divide(
            'cells_costed.unknown_channel_new_customers', 'cells_costed.month_new_customers'
        ) }} as unknown_channel_share,

        -- revenue of the month, finance view, and marketing efficiency
        cast(cells_costed.net_sales_before_returns as {{ type_money() }})
            as net_sales_before_returns,
        cast(cells_costed.returns as {{ type_money() }}) as returns,
        cast(cells_costed.net_revenue as {{ type_money() }}) as net_revenue,
        {{ safe_divide('cells_costed.spend', 'cells_costed.net_revenue') }} as cos,
        {{ safe_divide('cells_costed.net_revenue', 'cells_costed.spend') }} as roas,

        -- first orders of the month's new customers
        cast(cells_costed.first_order_net_revenue as {{ type_money() }})
            as first_order_net_revenue,
        {{ safe_divide('cells_costed.spend', 'cells_costed.first_order_net_revenue') }}
            as cos_new_customers,
        {{ safe_divide('cells_costed.first_order_net_revenue', 'cells_costed.spend') }}
            as roas_new_customers,

        -- value of the month's new customers, attributed-to-order view
        {%- for n in windows %}
            cells_costed.is_ltv_{{ n }}d_mature,
            cast(cells_costed.cohort_net_revenue_{{ n }}d as {{ type_money() }})
                as cohort_net_revenue_{{ n }}d,
            cast(cells_costed.ltv_{{ n }}d as {{ type_double() }}) as ltv_{{ n }}d,
            {{ safe_divide('cells_costed.ltv_' ~ n ~ 'd', 'cells_costed.cac') }}
                as ltv_to_cac_{{ n }}d,
        {%- endfor %}

        -- payback
        cast(payback.payback_months as {{ dbt.type_int() }}) as payback_months,
        cast(payback.payback_months_observed as {{ dbt.type_int() }})
            as payback_months_observed,
        cells_costed.as_of_date,
        {{ is_below_min_sample('cells_costed.new_customers') }} as is_below_min_sample,

        -- margin economics (issue 15, int_cohort_channels_margined)
        margins.cac_fully_loaded,
        margins.margin_ltv_182d,
        margins.margin_ltv_365d,
        {{ safe_divide('margins.margin_ltv_365d', 'margins.cac_fully_loaded') }}
            as margin_ltv_to_cac_365d,
        margins.margin_payback_months,
        margins.cost_coverage,

        -- the window-complete flags under the conventions' name (is_ltv_<N>d_mature kept)
        cells_costed.is_ltv_182d_mature as is_window_182d_complete,
        cells_costed.is_ltv_365d_mature as is_window_365d_complete
    from cells_costed
    left join payback
        on
            cells_costed.month = payback.month
            and cells_costed.channel = payback.channel
    left join margins
        on
            cells_costed.month = margins.month
            and cells_costed.channel = margins.channel

)

select * from final
