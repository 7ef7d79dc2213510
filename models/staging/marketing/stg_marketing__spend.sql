with

source as (

    select
        spend_date,
        channel,
        utm_source,
        utm_medium,
        campaign,
        amount,
        currency
    from {{ source('marketing', 'marketing_spend') }}

),

renamed as (

    select
        cast(spend_date as date) as spend_date,
        {{ clean_text('channel', 'lower') }} as source_channel,
        {{ clean_text('utm_source', 'lower') }} as utm_source,
        {{ clean_text('utm_medium', 'lower') }} as utm_medium,
        {{ clean_text('campaign') }} as campaign,
        cast(amount as {{ type_money() }}) as spend_amount,
        {{ clean_text('currency', 'upper', var('shop_currency')) }} as currency
    from source

)

select * from renamed
