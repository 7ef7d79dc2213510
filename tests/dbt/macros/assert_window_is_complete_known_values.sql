-- window_is_complete / month_window_is_complete against hand-computed boundaries: a window
-- of N days from start ends on start + N - 1, so as_of = start + N - 2 is incomplete and
-- start + N - 1, start + N are complete. Per customer: 2024-01-10 + 89 days = 2024-04-08
-- (through 29 Feb); 2024-01-01 + 364 = 2024-12-30 (leap year) but 2023-01-01 + 364 =
-- 2023-12-31; N = 2 from 28 Feb ends 29 Feb in 2024, 1 Mar in 2023. Per cohort month
-- (from the month's last day): Feb 2024 ends 29 Feb, + 181 = 2024-08-28; Feb 2023 ends
-- 28 Feb, + 364 = 2024-02-27; N = 1 is the month itself (Dec 2024 complete on 31 Dec, not
-- on 30 Dec). N given as a SQL expression behaves like the number; a null as_of gives null.
-- Returns one row per failing case.
with

cases as (

    select
        1 as case_id,
        'customer' as kind,
        cast('2024-01-10' as date) as start_date,
        90 as days,
        cast('2024-04-07' as date) as as_of_date,
        false as expected
    union all
    select 2, 'customer', cast('2024-01-10' as date), 90, cast('2024-04-08' as date), true
    union all
    select 3, 'customer', cast('2024-01-10' as date), 90, cast('2024-04-09' as date), true
    union all
    select 4, 'customer', cast('2024-01-01' as date), 365, cast('2024-12-29' as date), false
    union all
    select 5, 'customer', cast('2024-01-01' as date), 365, cast('2024-12-30' as date), true
    union all
    select 6, 'customer', cast('2023-01-01' as date), 365, cast('2023-12-30' as date), false
    union all
    select 7, 'customer', cast('2023-01-01' as date), 365, cast('2023-12-31' as date), true
    union all
    select 8, 'customer', cast('2024-02-28' as date), 2, cast('2024-02-28' as date), false
    union all
    select 9, 'customer', cast('2024-02-28' as date), 2, cast('2024-02-29' as date), true
    union all
    select 10, 'customer', cast('2023-02-28' as date), 2, cast('2023-02-28' as date), false
    union all
    select 11, 'customer', cast('2023-02-28' as date), 2, cast('2023-03-01' as date), true
    union all
    select 12, 'customer', cast('2024-03-05' as date), 1, cast('2024-03-04' as date), false
    union all
    select 13, 'customer', cast('2024-03-05' as date), 1, cast('2024-03-05' as date), true
    union all
    select 14, 'customer', cast('2024-01-10' as date), 90, cast(null as date), null
    union all
    select 15, 'month', cast('2024-02-01' as date), 182, cast('2024-08-27' as date), false
    union all
    select 16, 'month', cast('2024-02-01' as date), 182, cast('2024-08-28' as date), true
    union all
    select 17, 'month', cast('2024-02-01' as date), 182, cast('2024-08-29' as date), true
    union all
    select 18, 'month', cast('2023-02-01' as date), 365, cast('2024-02-26' as date), false
    union all
    select 19, 'month', cast('2023-02-01' as date), 365, cast('2024-02-27' as date), true
    union all
    select 20, 'month', cast('2024-12-01' as date), 1, cast('2024-12-30' as date), false
    union all
    select 21, 'month', cast('2024-12-01' as date), 1, cast('2024-12-31' as date), true
    union all
    select 22, 'month', cast('2024-12-01' as date), 1, cast('2025-01-01' as date), true

),

flagged as (

    select
        case_id,
        expected,
        case
            {%- for kind, days in [
                ('customer', 90), ('customer', 365), ('customer', 2), ('customer', 1),
                ('month', 182), ('month', 365), ('month', 1)
            ] %}
                when kind = '{{ kind }}' and days = {{ days }}
                    then {{ window_is_complete('start_date', days, 'as_of_date')
                        if kind == 'customer'
                        else month_window_is_complete('start_date', days, 'as_of_date') }}
            {%- endfor %}
        end as actual,
        -- the window length as a SQL expression (a column) instead of a number
        case
            when kind = 'customer'
                then {{ window_is_complete('start_date', 'days', 'as_of_date') }}
            else {{ month_window_is_complete('start_date', 'days', 'as_of_date') }}
        end as actual_from_column
    from cases

),

failures as (

    select * from flagged
    where
        (expected is null and (actual is not null or actual_from_column is not null))
        or (
            expected is not null
            and (
                actual is null
                or actual_from_column is null
                or actual != expected
                or actual_from_column != expected
            )
        )

)

select * from failures
