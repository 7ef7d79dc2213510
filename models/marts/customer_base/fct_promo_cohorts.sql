-- grain: one row per acquisition year x comparison_type x group_value: first-time buyers
-- acquired in the year's Black Friday / Cyber Monday window vs the year's other new
-- customers ('bfcm'), and by first-order discount band vs full price ('discount_band').
{%- set windows = [90, 180] %}
with

customers as (

    select
        customer_id,
        first_order_date,
        is_bfcm_acquired,
        first_order_discount_band
    from {{ ref('int_customers_enriched') }}

),

value_windows as (

    select
        customer_id,
        is_window_90d_complete,
        has_repeat_within_90d,
        is_window_180d_complete,
        has_repeat_within_180d,
        is_window_365d_complete,
        ltv_365d
    from {{ ref('int_customers_value_windows') }}

),

second_orders as (

    select
        customer_id,
        discount_depth
    from {{ ref('int_orders_netted') }}
    where is_valid_order and order_sequence = 2

),

bfcm_windows as (

    select
        year,
        window_start
    from {{ ref('bfcm_windows') }}

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

customers_enriched as (

    select
        customers.customer_id,
        cast(extract(year from customers.first_order_date) as {{ dbt.type_int() }})
            as acquisition_year,
        case when customers.is_bfcm_acquired then 'bfcm' else 'other' end as bfcm_group,
        customers.first_order_discount_band,
        value_windows.is_window_90d_complete,
        value_windows.has_repeat_within_90d,
        value_windows.is_window_180d_complete,
        value_windows.has_repeat_within_180d,
        value_windows.is_window_365d_complete,
        value_windows.ltv_365d,
        second_orders.customer_id is not null as has_second_order,
        coalesce(second_orders.discount_depth <= 0, false) as is_second_order_full_price
    from customers
    inner join value_windows
        on customers.customer_id = value_windows.customer_id
    left join second_orders
        on customers.customer_id = second_orders.customer_id

),

bfcm_years as (

    -- the BF/CM comparison needs the year's window in the seed and already started
    select bfcm_windows.year
    from bfcm_windows
    cross join as_of
    where bfcm_windows.window_start <= as_of.as_of_date

),

customers_grouped as (

    select
        customers_enriched.acquisition_year,
        'bfcm' as comparison_type,
        customers_enriched.bfcm_group as group_value,
        customers_enriched.customer_id,
        customers_enriched.is_window_90d_complete,
        customers_enriched.has_repeat_within_90d,
        customers_enriched.is_window_180d_complete,
        customers_enriched.has_repeat_within_180d,
        customers_enriched.is_window_365d_complete,
        customers_enriched.ltv_365d,
        customers_enriched.has_second_order,
        customers_enriched.is_second_order_full_price
    from customers_enriched
    inner join bfcm_years
        on customers_enriched.acquisition_year = bfcm_years.year
    union all
    select
        acquisition_year,
        'discount_band' as comparison_type,
        first_order_discount_band as group_value,
        customer_id,
        is_window_90d_complete,
        has_repeat_within_90d,
        is_window_180d_complete,
        has_repeat_within_180d,
        is_window_365d_complete,
        ltv_365d,
        has_second_order,
        is_second_order_full_price
    from customers_enriched

),

groups_aggregated as (

    select
        acquisition_year,
        comparison_type,
        group_value,
        count(*) as customers,
        {%- for n in windows %}
            sum(case when is_window_{{ n }}d_complete then 1 else 0 end)
                as window_{{ n }}d_complete_customers,
            sum(case when has_repeat_within_{{ n }}d then 1 else 0 end)
                as repeat_customers_{{ n }}d,
        {%- endfor %}
        sum(case when has_second_order then 1 else 0 end) as second_order_customers,
        sum(case when is_second_order_full_price then 1 else 0 end)
            as full_price_second_order_customers,
        sum(case when is_window_365d_complete then 1 else 0 end)
            as window_365d_complete_customers,
        coalesce(sum(ltv_365d), 0) as ltv_365d_net_revenue
    from customers_grouped
    group by acquisition_year, comparison_type, group_value

),

group_catalogue as (

    -- every group of each comparison, so an empty group is a row with 0 customers
    select
        'bfcm' as comparison_type,
        'bfcm' as group_value,
        false as is_baseline
    union all
    select
        'bfcm' as comparison_type,
        'other' as group_value,
        true as is_baseline
    union all
    select
        'discount_band' as comparison_type,
        'none' as group_value,
        true as is_baseline
    union all
    select
        'discount_band' as comparison_type,
        'lt_20' as group_value,
        false as is_baseline
    union all
    select
        'discount_band' as comparison_type,
        '20_to_40' as group_value,
        false as is_baseline
    union all
    select
        'discount_band' as comparison_type,
        'gte_40' as group_value,
        false as is_baseline

),

years as (

    select
        acquisition_year,
        count(*) as year_new_customers
    from customers_enriched
    group by acquisition_year

),

year_groups as (

    select
        years.acquisition_year,
        years.year_new_customers,
        group_catalogue.comparison_type,
        group_catalogue.group_value,
        group_catalogue.is_baseline
    from years
    cross join group_catalogue
    left join bfcm_years
        on years.acquisition_year = bfcm_years.year
    where group_catalogue.comparison_type != 'bfcm' or bfcm_years.year is not null

),

year_groups_counted as (

    select
        year_groups.acquisition_year,
        year_groups.comparison_type,
        year_groups.group_value,
        year_groups.is_baseline,
        year_groups.year_new_customers,
        coalesce(groups_aggregated.customers, 0) as customers,
        {%- for n in windows %}
            coalesce(groups_aggregated.window_{{ n }}d_complete_customers, 0)
                as window_{{ n }}d_complete_customers,
            coalesce(groups_aggregated.repeat_customers_{{ n }}d, 0) as repeat_customers_{{ n }}d,
        {%- endfor %}
        coalesce(groups_aggregated.second_order_customers, 0) as second_order_customers,
        coalesce(groups_aggregated.full_price_second_order_customers, 0)
            as full_price_second_order_customers,
        coalesce(groups_aggregated.window_365d_complete_customers, 0)
            as window_365d_complete_customers,
        coalesce(groups_aggregated.ltv_365d_net_revenue, 0) as ltv_365d_net_revenue
    from year_groups
    left join groups_aggregated
        on
            year_groups.acquisition_year = groups_aggregated.acquisition_year
            and year_groups.comparison_type = groups_aggregated.comparison_type
            and year_groups.group_value = groups_aggregated.group_value

),

final as (

    select
        -- keys
        acquisition_year,
        comparison_type,
        group_value,
        is_baseline,

        -- size
        cast(customers as {{ dbt.type_int() }}) as customers,
        cast(year_new_customers as {{ dbt.type_int() }}) as year_new_customers,
        {{ safe_divide('customers', 'year_new_customers') }} as share_of_year_new_customers,

        -- repeat within N days of the first order (null unless every customer of the row
        -- had the full window)
        {%- for n in windows %}
            cast(window_{{ n }}d_complete_customers as {{ dbt.type_int() }})
                as window_{{ n }}d_complete_customers,
            cast(repeat_customers_{{ n }}d as {{ dbt.type_int() }}) as repeat_customers_{{ n }}d,
            case
                when window_{{ n }}d_complete_customers = customers
                    then {{ safe_divide('repeat_customers_' ~ n ~ 'd', 'customers') }}
            end as repeat_rate_{{ n }}d,
        {%- endfor %}

        -- second order at full price (among customers with a second valid order to date)
        cast(second_order_customers as {{ dbt.type_int() }}) as second_order_customers,
        cast(full_price_second_order_customers as {{ dbt.type_int() }})
            as full_price_second_order_customers,
        {{ safe_divide('full_price_second_order_customers', 'second_order_customers') }}
            as full_price_second_order_share,

        -- LTV 365 (null unless every customer of the row had the full window)
        cast(window_365d_complete_customers as {{ dbt.type_int() }})
            as window_365d_complete_customers,
        cast(ltv_365d_net_revenue as {{ type_money() }}) as ltv_365d_net_revenue,
        case
            when window_365d_complete_customers = customers
                then {{ safe_divide('ltv_365d_net_revenue', 'customers') }}
        end as ltv_365d,
        {{ is_below_min_sample('customers') }} as is_below_min_sample
    from year_groups_counted

)

select * from final
