-- grain: one row per month x channel, plus channel 'all' (every channel and the unattributed
-- spend). The month is both the spend month and the acquisition cohort. Computed in the
-- acquisition hub int_channel_months_costed; this mart is its contract.
with

final as (

    select
        -- keys
        month,
        channel,

        -- spend and new customers
        spend,
        new_customers,
        cac,
        month_new_customers,
        unknown_channel_new_customers,
        unknown_channel_share,

        -- revenue of the month, finance view, and marketing efficiency
        net_sales_before_returns,
        returns,
        net_revenue,
        cos,
        roas,

        -- first orders of the month's new customers
        first_order_net_revenue,
        cos_new_customers,
        roas_new_customers,

        -- value of the month's new customers, attributed-to-order view
        is_ltv_182d_mature,
        cohort_net_revenue_182d,
        ltv_182d,
        ltv_to_cac_182d,
        is_ltv_365d_mature,
        cohort_net_revenue_365d,
        ltv_365d,
        ltv_to_cac_365d,

        -- payback
        payback_months,
        payback_months_observed,
        as_of_date,
        is_below_min_sample,

        -- margin economics (issue 15)
        cac_fully_loaded,
        margin_ltv_182d,
        margin_ltv_365d,
        margin_ltv_to_cac_365d,
        margin_payback_months,
        cost_coverage,

        -- the window-complete flags under the conventions' name (is_ltv_<N>d_mature kept)
        is_window_182d_complete,
        is_window_365d_complete
    from {{ ref('int_channel_months_costed') }}

)

select * from final
