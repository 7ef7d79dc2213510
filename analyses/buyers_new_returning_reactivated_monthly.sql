-- Growth question: how many of this month's buyers are new, returning or reactivated, and how
-- does each group move month over month?
-- Grain: one row per calendar month (the whole base: segment_type = 'all').
-- Shares are of the month's buyers (they add up to 1); *_mom_pct are fractions (-0.18 = -18%),
-- null when the previous month is 0 or the month is incomplete (is_complete = false: the
-- month of as_of_date, month-to-date, not comparable with full months).
with customer_base as (
    select
        month,
        is_complete,
        buyers,
        new_customers,
        returning_customers,
        reactivated_customers,
        buyers_mom_pct,
        new_customers_mom_pct,
        returning_customers_mom_pct,
        reactivated_customers_mom_pct
    from {{ ref('fct_customer_base_monthly') }}
    where segment_type = 'all'
),

final as (
    select
        month,
        is_complete,
        buyers,
        new_customers,
        returning_customers,
        reactivated_customers,
        buyers_mom_pct,
        new_customers_mom_pct,
        returning_customers_mom_pct,
        reactivated_customers_mom_pct,
        case when buyers > 0 then new_customers * 1.0 / buyers end as new_buyer_share,
        case when buyers > 0 then returning_customers * 1.0 / buyers end as returning_buyer_share,
        case
            when buyers > 0 then reactivated_customers * 1.0 / buyers
        end as reactivated_buyer_share
    from customer_base
)

select * from final
order by month
