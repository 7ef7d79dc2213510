-- grain: one row per calendar month (reporting timezone) from the month of the first valid
-- order to the month of as_of_date, with or without orders: the one month spine of the
-- monthly and cohort models (as_of_date carried on every row for their completeness rules).
with recursive

orders as (

    select order_month
    from {{ ref('int_orders_netted') }}
    where is_valid_order

),

as_of as (

    select as_of_date
    from {{ ref('int_as_of_date') }}

),

bounds as (

    select
        min(orders.order_month) as first_month,
        {{ month_start('as_of.as_of_date') }} as last_month
    from orders
    cross join as_of
    group by as_of.as_of_date

),

months as (

    -- recursive on DuckDB and PostgreSQL, a generated sequence on Spark (macro)
    {{ month_spine_rows('bounds', 'first_month', 'last_month', 'months') }}

),

months_ended as (

    select
        months.month,
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'months.month')) }} as date
        ) as month_end_date,
        as_of.as_of_date
    from months
    cross join as_of

),

final as (

    select
        month,
        month_end_date,
        as_of_date,
        -- stocks of the current (incomplete) month are as of as_of_date
        case
            when {{ month_window_is_complete('month', 1, 'as_of_date') }} then month_end_date
            else as_of_date
        end as snapshot_date,
        {{ month_window_is_complete('month', 1, 'as_of_date') }} as is_complete
    from months_ended

)

select * from final
