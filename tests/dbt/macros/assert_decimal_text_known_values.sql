-- decimal_text against hand-computed values. Scale 2 (money): 12.5 -> '12.50' (two
-- decimals always), 0 -> '0.00', -3.2 -> '-3.20', 2.005 -> '2.01' (decimal rounding, half
-- away from zero), 1234567.891 -> '1234567.89' (no thousands separator), null -> null.
-- Scale 1: 40.25 -> '40.3'. Scale 0: 87.5 -> '88', 12.4 -> '12'. One row per failure.
with

cases as (

    select
        1 as case_id,
        2 as scale,
        cast(12.5 as decimal(38, 6)) as amount,
        cast('12.50' as {{ dbt.type_string() }}) as expected
    union all
    select 2, 2, 0, '0.00'
    union all
    select 3, 2, -3.2, '-3.20'
    union all
    select 4, 2, 2.005, '2.01'
    union all
    select 5, 2, 1234567.891, '1234567.89'
    union all
    select 6, 2, null, null
    union all
    select 7, 1, 40.25, '40.3'
    union all
    select 8, 0, 87.5, '88'
    union all
    select 9, 0, 12.4, '12'

),

formatted as (

    select
        case_id,
        expected,
        case scale
            when 0 then {{ decimal_text('amount', 0) }}
            when 1 then {{ decimal_text('amount', 1) }}
            else {{ decimal_text('amount', 2) }}
        end as actual
    from cases

),

failures as (

    select
        case_id,
        expected,
        actual
    from formatted
    where {{ differs_from_expected('actual', 'expected') }}

)

select * from failures
