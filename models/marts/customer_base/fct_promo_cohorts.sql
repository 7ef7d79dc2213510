-- grain: one row per acquisition year x comparison_type x group_value: first-time buyers
-- acquired in the year's Black Friday / Cyber Monday window vs the year's other new
-- customers ('bfcm'), and by first-order discount band vs full price ('discount_band').
{%- set windows = [90, 180] %}
{#- comparison_type, group_value, is_baseline of every group #}
{%- set comparison_groups = [
    ('bfcm', 'bfcm', 'false'),
    ('bfcm', 'other', 'true'),
    ('discount_band', 'none', 'true'),
    ('discount_band', 'lt_20', 'false'),
    ('discount_band', '20_to_40', 'false'),
    ('discount_band', 'gte_40', 'false'),
] %}
{#- customers counted per row: output column -> the customer flag it counts #}
{%- set counted = {} %}
{%- for n in windows %}
    {%- do counted.update({
        'window_' ~ n ~ 'd_complete_customers': 'is_window_' ~ n ~ 'd_complete',
        'repeat_customers_' ~ n ~ 'd': 'has_repeat_within_' ~ n ~ 'd',
    }) %}
{%- endfor %}
{%- do counted.update({
    'second_order_customers': 'has_second_order',
    'full_price_second_order_customers': 'is_second_order_full_price',
    'window_365d_complete_customers': 'is_window_365d_complete',
}) %}
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

    -- each customer's group in each comparison (BF/CM only in years with a started window)
    select
        customers_enriched.customer_id,
        'bfcm' as comparison_type,
        customers_enriched.bfcm_group as group_value
    from customers_enriched
    inner join bfcm_years
        on customers_enriched.acquisition_year = bfcm_years.year
    union all
    select
        customer_id,
        'discount_band' as comparison_type,
        first_order_discount_band as group_value
    from customers_enriched

),

groups_aggregated as (

    select
        customers_enriched.acquisition_year,
        customers_grouped.comparison_type,
        customers_grouped.group_value,
        count(*) as customers,
        {%- for column, flag in counted.items() %}
            sum(case when customers_enriched.{{ flag }} then 1 else 0 end) as {{ column }},
        {%- endfor %}
        coalesce(sum(customers_enriched.ltv_365d), 0) as ltv_365d_net_revenue
    from customers_grouped
    inner join customers_enriched
        on customers_grouped.customer_id = customers_enriched.customer_id
    group by
        customers_enriched.acquisition_year,
        customers_grouped.comparison_type,
        customers_grouped.group_value

),

group_catalogue as (

    -- every group of each comparison, so an empty group is a row with 0 customers
    {%- for comparison_type, group_value, is_baseline in comparison_groups %}
        select
            '{{ comparison_type }}' as comparison_type,
            '{{ group_value }}' as group_value,
            {{ is_baseline }} as is_baseline
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

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
        {%- for column in ['customers'] + counted.keys() | list %}
            coalesce(groups_aggregated.{{ column }}, 0) as {{ column }},
        {%- endfor %}
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
