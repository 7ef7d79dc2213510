-- grain: one row per staged marketing spend row, with its amount in the shop currency or
-- the reason it is rejected (first failing rule wins): missing_fx_rate (a currency other
-- than var shop_currency without a rate in seed fx_rates_monthly for the spend's month),
-- after_as_of_date (dated after the reference date, like orders).
with

spend as (

    select
        spend_date,
        source_channel,
        utm_source,
        utm_medium,
        campaign,
        spend_amount,
        currency
    from {{ ref('stg_marketing__spend') }}

),

fx_rates as (

    select
        month,
        currency,
        rate_to_shop_currency
    from {{ ref('fx_rates_monthly') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

spend_numbered as (

    -- staged spend has no key: number the rows deterministically (identical rows are
    -- interchangeable, so their relative order does not matter)
    select
        cast(
            row_number() over (
                order by
                    spend.spend_date,
                    spend.source_channel,
                    spend.utm_source,
                    spend.utm_medium,
                    spend.campaign,
                    spend.currency,
                    spend.spend_amount
            ) as {{ dbt.type_int() }}
        ) as spend_row_id,
        {{ month_start('spend.spend_date') }} as spend_month,
        spend.*
    from spend

),

spend_rated as (

    select
        spend_numbered.*,
        cast(
            case
                when spend_numbered.currency = '{{ var("shop_currency") }}' then 1.0
                else fx_rates.rate_to_shop_currency
            end as {{ type_double() }}
        ) as fx_rate_to_shop_currency
    from spend_numbered
    left join fx_rates
        on
            spend_numbered.spend_month = fx_rates.month
            and spend_numbered.currency = fx_rates.currency

),

spend_checked as (

    -- the first failing rule wins
    select
        spend_rated.*,
        case
            when spend_rated.fx_rate_to_shop_currency is null then 'missing_fx_rate'
            when spend_rated.spend_date > as_of.as_of_date then 'after_as_of_date'
        end as reject_reason
    from spend_rated
    cross join as_of

),

final as (

    -- each step above adds its columns to the staged row; the accepted rows get their amount
    -- in the shop currency
    select
        spend_checked.*,
        case
            when spend_checked.reject_reason is null
                then cast(
                        spend_checked.spend_amount * spend_checked.fx_rate_to_shop_currency
                        as {{ type_money() }}
                    )
        end as spend_shop_currency
    from spend_checked

)

select * from final
