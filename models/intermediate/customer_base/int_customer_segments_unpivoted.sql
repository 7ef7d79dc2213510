-- grain: one row per customer x segment type: the first-order segments a monthly mart is
-- cut by ("first-order semantics"), plus an 'all' / 'all' row per customer.
with

customers as (

    select
        customer_id,
        acquisition_channel,
        first_order_offer_type,
        first_product_category,
        is_bfcm_acquired
    from {{ ref('int_customers_enriched') }}

),

final as (

    select
        customer_id,
        'all' as segment_type,
        'all' as segment_value
    from customers
    union all
    select
        customer_id,
        'acquisition_channel' as segment_type,
        coalesce(acquisition_channel, 'unknown') as segment_value
    from customers
    union all
    select
        customer_id,
        'first_order_offer_type' as segment_type,
        coalesce(first_order_offer_type, 'unknown') as segment_value
    from customers
    union all
    select
        customer_id,
        'first_product_category' as segment_type,
        coalesce(first_product_category, 'unknown') as segment_value
    from customers
    union all
    select
        customer_id,
        'is_bfcm_acquired' as segment_type,
        case when is_bfcm_acquired then 'true' else 'false' end as segment_value
    from customers

)

select * from final
