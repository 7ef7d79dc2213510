-- grain: one row per distinct (utm_source, utm_medium) pair seen in orders or spend.
with

orders as (

    select
        utm_source,
        utm_medium
    from {{ ref('stg_shop__orders') }}

),

spend as (

    select
        utm_source,
        utm_medium
    from {{ ref('stg_marketing__spend') }}

),

channel_mapping as (

    select
        utm_source,
        utm_medium,
        channel
    from {{ ref('channel_mapping') }}

),

utm_pairs as (

    select distinct
        utm_source,
        utm_medium
    from (
        select
            utm_source,
            utm_medium
        from orders
        union all
        select
            utm_source,
            utm_medium
        from spend
    ) as all_pairs

),

pairs_matched as (

    select
        utm_pairs.utm_source,
        utm_pairs.utm_medium,
        exact_match.channel as exact_channel,
        source_match.channel as source_channel,
        medium_match.channel as medium_channel
    from utm_pairs
    left join channel_mapping as exact_match
        on
            utm_pairs.utm_source = exact_match.utm_source
            and utm_pairs.utm_medium = exact_match.utm_medium
    left join channel_mapping as source_match
        on
            utm_pairs.utm_source = source_match.utm_source
            and source_match.utm_medium = '*'
    left join channel_mapping as medium_match
        on
            medium_match.utm_source = '*'
            and utm_pairs.utm_medium = medium_match.utm_medium

),

final as (

    select
        utm_source,
        utm_medium,
        case
            when utm_source is null and utm_medium is null then 'direct'
            else coalesce(exact_channel, source_channel, medium_channel, 'unknown')
        end as channel,
        case
            when utm_source is null and utm_medium is null then 'no_utm'
            when exact_channel is not null then 'exact'
            when source_channel is not null then 'source'
            when medium_channel is not null then 'medium'
            else 'unmatched'
        end as channel_match_rule
    from pairs_matched

)

select * from final
