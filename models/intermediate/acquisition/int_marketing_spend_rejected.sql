-- grain: one row per staged spend row that is not counted in any metric, with the reason
-- (missing_fx_rate, after_as_of_date). Staged = attributed + rejected (tested).
with

final as (

    select
        spend_row_id,
        spend_date,
        spend_month,
        source_channel,
        utm_source,
        utm_medium,
        campaign,
        currency,
        spend_amount,
        reject_reason
    from {{ ref('int_marketing_spend_converted') }}
    where reject_reason is not null

)

select * from final
