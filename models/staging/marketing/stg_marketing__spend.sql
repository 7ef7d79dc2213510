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
        {{ escape_formula_text("nullif(lower(trim(channel)), '')") }} as source_channel,
        {{ escape_formula_text("nullif(lower(trim(utm_source)), '')") }} as utm_source,
        {{ escape_formula_text("nullif(lower(trim(utm_medium)), '')") }} as utm_medium,
        {{ escape_formula_text("nullif(trim(campaign), '')") }} as campaign,
        cast(amount as {{ type_money() }}) as spend_amount,
        {{ escape_formula_text(
            "coalesce(nullif(upper(trim(currency)), ''), '" ~ var("shop_currency") ~ "')"
        ) }} as currency
    from source

)

select * from renamed
