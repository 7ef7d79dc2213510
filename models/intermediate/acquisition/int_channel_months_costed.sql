-- grain: one row per month x channel, plus channel 'all' (every channel and the unattributed
-- spend): the acquisition hub behind fct_acquisition_monthly (its contract). New customers of
-- a month = its acquisition cohort (first valid order in the month), by acquisition channel;
-- spend and the spend export's months come from int_marketing_spend_loaded; revenue and COS
-- use the finance view (sales by order month, returns by refund month) by each order's own
-- channel; LTV and payback use the attributed-to-order view of the month's new customers.
{%- set windows = [182, 365] %}
with

spend as (

    -- the loaded-CAC hub's cells: spend per month x channel and channel 'all', null
    -- outside the spend export, 0 inside it for a cell without spend; fully loaded spend
    select
        month,
        channel,
        spend,
        spend_fully_loaded,
        cac_fully_loaded
    from {{ ref('int_marketing_spend_loaded') }}

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
        net_revenue_365d,
        margin_ltv_182d,
        margin_ltv_365d,
        cost_coverage
    from {{ ref('int_cohort_channels_valued') }}

),

cohort_months as (

    select
        cohort_month,
        channel,
        months_since_acquisition,
        cumulative_net_revenue,
        cumulative_contribution_margin,
        is_month_complete
    from {{ ref('int_cohort_channel_months_cumulated') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

spend_coverage as (

    -- months the spend export covers: outside them spend is unknown (null), not zero
    select
        min(month) as first_spend_month,
        max(month) as last_spend_month
    from spend
    where spend is not null

),

months as (

    select month from spend
    union
    select month from booked
    union
    select cohort_month as month from cohorts

),

channels as (

    select channel from spend
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
                then coalesce(spend.spend, 0)
        end as spend,
        spend.spend_fully_loaded,
        spend.cac_fully_loaded,
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
            cohorts.margin_ltv_{{ n }}d,
        {%- endfor %}
        cohorts.cost_coverage,
        as_of.as_of_date
    from months
    cross join channels
    cross join spend_coverage
    cross join as_of
    left join spend
        on
            months.month = spend.month
            and channels.channel = spend.channel
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

    -- the cell's CAC, and its cohort's value per new customer once the window is mature
    select
        cells.*,
        {%- for n in windows %}
            case
                when cells.is_ltv_{{ n }}d_mature and cells.new_customers > 0
                    then cells.net_revenue_{{ n }}d
            end as cohort_net_revenue_{{ n }}d,
            {{ null_until_complete(
                safe_divide('cells.net_revenue_' ~ n ~ 'd', 'cells.new_customers'),
                is_complete='cells.is_ltv_' ~ n ~ 'd_mature'
            ) }} as ltv_{{ n }}d,
        {%- endfor %}
        {{ safe_divide('cells.spend', 'cells.new_customers') }} as cac
    from cells

),

payback as (

    -- first complete month since acquisition in which the cohort's cumulative net revenue
    -- reaches its spend, i.e. cumulative net revenue per new customer reaches CAC; margin
    -- payback: the same for the cumulative CM2 against the fully loaded spend
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
        min(
            case
                when
                    cohort_months.is_month_complete
                    and cohort_months.cumulative_contribution_margin
                    >= cells_costed.spend_fully_loaded
                    then cohort_months.months_since_acquisition
            end
        ) as margin_payback_months,
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

        -- margin economics (issue 15, doc blocks in _margin__docs.md)
        cast(cells_costed.cac_fully_loaded as {{ type_double() }}) as cac_fully_loaded,
        cells_costed.margin_ltv_182d,
        cells_costed.margin_ltv_365d,
        {{ safe_divide('cells_costed.margin_ltv_365d', 'cells_costed.cac_fully_loaded') }}
            as margin_ltv_to_cac_365d,
        cast(
            case
                when
                    cells_costed.cac_fully_loaded > 0
                    and cells_costed.cost_coverage >= {{ var('min_cost_coverage') }}
                    then payback.margin_payback_months
            end as {{ dbt.type_int() }}
        ) as margin_payback_months,
        cells_costed.cost_coverage,

        -- the window-complete flags under the conventions' name (is_ltv_<N>d_mature kept)
        cells_costed.is_ltv_182d_mature as is_window_182d_complete,
        cells_costed.is_ltv_365d_mature as is_window_365d_complete
    from cells_costed
    left join payback
        on
            cells_costed.month = payback.month
            and cells_costed.channel = payback.channel

)

select * from final
