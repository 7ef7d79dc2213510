-- Growth question: which first products make customers come back?
-- Grain: one row per first product (stratum_type = 'all'). Ranked by the 90-day repeat rate
-- among products with enough customers (is_below_min_sample = false, var
-- first_product_min_customers); products below the minimum sample are listed after them with
-- no rank (their rate is too noisy to rank: read the Wilson interval). Rates use only
-- customers whose window is complete; compare products on the interval, not the rate alone.
with first_products as (
    select
        first_product_id,
        first_product_name,
        first_product_category,
        customers,
        is_below_min_sample,
        customers_complete_90d,
        repeat_customers_90d,
        repeat_rate_90d,
        repeat_rate_90d_ci_low,
        repeat_rate_90d_ci_high,
        repeat_rate_180d,
        repeat_rate_365d,
        ltv_365d_excl_first_order,
        same_product_repeat_order_share
    from {{ ref('fct_first_product_performance') }}
    where stratum_type = 'all'
),

final as (
    select
        first_product_id,
        first_product_name,
        first_product_category,
        customers,
        is_below_min_sample,
        customers_complete_90d,
        repeat_customers_90d,
        repeat_rate_90d,
        repeat_rate_90d_ci_low,
        repeat_rate_90d_ci_high,
        repeat_rate_180d,
        repeat_rate_365d,
        ltv_365d_excl_first_order,
        same_product_repeat_order_share,
        case
            when not is_below_min_sample and repeat_rate_90d is not null
                then rank() over (
                        partition by not is_below_min_sample and repeat_rate_90d is not null
                        order by repeat_rate_90d desc
                    )
        end as repeat_rank
    from first_products
)

select * from final
order by repeat_rank asc nulls last, repeat_rate_90d desc nulls last, first_product_id asc
