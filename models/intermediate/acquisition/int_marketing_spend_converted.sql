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
        row_number() over (
            order by
                spend_date,
                source_channel,
                utm_source,
                utm_medium,
                campaign,
                currency,
                spend_amount
        ) as spend_row_id,
        spend_date,
        {{ month_start('spend_date') }} as spend_month,
        source_channel,
        utm_source,
        utm_medium,
        campaign,
        currency,
        spend_amount
    from spend

),

spend_rated as (

    select
        spend_numbered.spend_row_id,
        spend_numbered.spend_date,
        spend_numbered.spend_month,
        spend_numbered.source_channel,
        spend_numbered.utm_source,
        spend_numbered.utm_medium,
        spend_numbered.campaign,
        spend_numbered.currency,
        spend_numbered.spend_amount,
        case
            when spend_numbered.currency = '{{ var("shop_currency") }}' then 1.0
            else fx_rates.rate_to_shop_currency
        end as fx_rate_to_shop_currency,
        as_of.as_of_date
    from spend_numbered
    left join fx_rates
        on
            spend_numbered.spend_month = fx_rates.month
            and spend_numbered.currency = fx_rates.currency
    cross join as_of

),

spend_checked as (

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
        fx_rate_to_shop_currency,
        case
            when fx_rate_to_shop_currency is null then 'missing_fx_rate'
            when spend_date > as_of_date then 'after_as_of_date'
        end as reject_reason
    from spend_rated

),

final as (

    select
        cast(spend_row_id as {{ dbt.type_int() }}) as spend_row_id,
        spend_date,
        spend_month,
        source_channel,
        utm_source,
        utm_medium,
        campaign,
        currency,
        spend_amount,
        cast(fx_rate_to_shop_currency as {{ type_double() }}) as fx_rate_to_shop_currency,
        case
            when reject_reason is null
                then cast(spend_amount * fx_rate_to_shop_currency as {{ type_money() }})
        end as spend_shop_currency,
        reject_reason
    from spend_checked

)

select * from final
