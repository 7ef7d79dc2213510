-- grain: one row per accepted staged spend row (not rejected), with its channel and its
-- amount in the shop currency. Attribution: the export's channel when it names a known
-- channel (one of seed channel_mapping's channels), else the channel of its UTM source /
-- medium pair (the same mapping as orders), else the bucket `unattributed` (brand, agency
-- fees, TV, UTMs the seed does not know, rows without channel or UTMs): kept, never dropped.
with

spend as (

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
        spend_shop_currency
    from {{ ref('int_marketing_spend_converted') }}
    where reject_reason is null

),

utm_channels as (

    select
        utm_source,
        utm_medium,
        channel,
        channel_match_rule
    from {{ ref('int_utm_channels_mapped') }}

),

channel_mapping as (

    select channel
    from {{ ref('channel_mapping') }}

),

known_channels as (

    select distinct channel
    from channel_mapping

),

final as (

    select
        spend.*,
        coalesce(named_channels.channel, utm_known_channels.channel, 'unattributed')
            as channel,
        case
            when named_channels.channel is not null then 'source_channel'
            when utm_known_channels.channel is not null
                then 'utm_' || utm_channels.channel_match_rule
            else 'unattributed'
        end as attribution_rule
    from spend
    left join known_channels as named_channels
        on spend.source_channel = named_channels.channel
    left join utm_channels
        on
            coalesce(spend.utm_source, '') = coalesce(utm_channels.utm_source, '')
            and coalesce(spend.utm_medium, '') = coalesce(utm_channels.utm_medium, '')
    left join known_channels as utm_known_channels
        on utm_channels.channel = utm_known_channels.channel

)

select * from final
