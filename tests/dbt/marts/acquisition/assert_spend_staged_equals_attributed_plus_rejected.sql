-- No spend row is silently dropped: per month, staged spend rows = attributed + rejected,
-- in row count and in amount (export currency). Returns one row per broken month.
with

staged as (

    select
        {{ month_start('spend_date') }} as spend_month,
        count(*) as staged_rows,
        sum(spend_amount) as staged_amount
    from {{ ref('stg_marketing__spend') }}
    group by {{ month_start('spend_date') }}

),

kept_and_rejected as (

    select
        spend_month,
        spend_amount
    from {{ ref('int_marketing_spend_attributed') }}
    union all
    select
        spend_month,
        spend_amount
    from {{ ref('int_marketing_spend_rejected') }}

),

accounted as (

    select
        spend_month,
        count(*) as accounted_rows,
        sum(spend_amount) as accounted_amount
    from kept_and_rejected
    group by spend_month

),

compared as (

    select
        coalesce(staged.spend_month, accounted.spend_month) as spend_month,
        coalesce(staged.staged_rows, 0) as staged_rows,
        coalesce(accounted.accounted_rows, 0) as accounted_rows,
        coalesce(staged.staged_amount, 0) as staged_amount,
        coalesce(accounted.accounted_amount, 0) as accounted_amount
    from staged
    full outer join accounted
        on staged.spend_month = accounted.spend_month

)

select *
from compared
where
    staged_rows != accounted_rows
    or abs(staged_amount - accounted_amount) > 0.01
