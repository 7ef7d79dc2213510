-- Spend in fct_acquisition_monthly reconciles per month: the `all` row = the sum of the
-- channel rows (unattributed included) = attributed spend in the shop currency (staged
-- spend minus rejected rows, converted). Returns one row per broken month.
with

mart as (

    select
        month,
        sum(case when channel = 'all' then spend else 0 end) as all_row_spend,
        sum(case when channel != 'all' then spend else 0 end) as channel_rows_spend
    from {{ ref('fct_acquisition_monthly') }}
    group by month

),

attributed as (

    select
        spend_month as month,
        sum(spend_shop_currency) as attributed_spend
    from {{ ref('int_marketing_spend_attributed') }}
    group by spend_month

),

compared as (

    select
        coalesce(mart.month, attributed.month) as month,
        coalesce(mart.all_row_spend, 0) as all_row_spend,
        coalesce(mart.channel_rows_spend, 0) as channel_rows_spend,
        coalesce(attributed.attributed_spend, 0) as attributed_spend
    from mart
    full outer join attributed
        on mart.month = attributed.month

)

select *
from compared
where
    abs(all_row_spend - attributed_spend) > 0.01
    or abs(channel_rows_spend - attributed_spend) > 0.01
