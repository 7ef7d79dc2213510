-- Buyers of a month are new, returning or reactivated, never two of them; and within a
-- month and segment type the segment values partition the 'all' row (flows and stocks).
-- Returns one row per broken month / segment.
with

base as (

    select
        month,
        segment_type,
        segment_value,
        buyers,
        new_customers,
        returning_customers,
        reactivated_customers,
        customers_to_date,
        active_customers_12m,
        repeat_customers
    from {{ ref('fct_customer_base_monthly') }}

),

split_broken as (

    select
        month,
        segment_type,
        segment_value,
        'new + returning + reactivated != buyers' as check_name
    from base
    where new_customers + returning_customers + reactivated_customers != buyers

),

segments_summed as (

    select
        month,
        segment_type,
        sum(buyers) as buyers,
        sum(new_customers) as new_customers,
        sum(returning_customers) as returning_customers,
        sum(reactivated_customers) as reactivated_customers,
        sum(customers_to_date) as customers_to_date,
        sum(active_customers_12m) as active_customers_12m,
        sum(repeat_customers) as repeat_customers
    from base
    where segment_type != 'all'
    group by month, segment_type

),

all_rows as (

    select
        month,
        buyers,
        new_customers,
        returning_customers,
        reactivated_customers,
        customers_to_date,
        active_customers_12m,
        repeat_customers
    from base
    where segment_type = 'all'

),

partition_broken as (

    select
        segments_summed.month,
        segments_summed.segment_type,
        'all' as segment_value,
        'segment values do not add up to the all row' as check_name
    from segments_summed
    inner join all_rows
        on segments_summed.month = all_rows.month
    where
        segments_summed.buyers != all_rows.buyers
        or segments_summed.new_customers != all_rows.new_customers
        or segments_summed.returning_customers != all_rows.returning_customers
        or segments_summed.reactivated_customers != all_rows.reactivated_customers
        or segments_summed.customers_to_date != all_rows.customers_to_date
        or segments_summed.active_customers_12m != all_rows.active_customers_12m
        or segments_summed.repeat_customers != all_rows.repeat_customers

)

select * from split_broken
union all
select * from partition_broken
