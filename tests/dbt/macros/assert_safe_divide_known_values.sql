-- safe_divide against hand-computed values: 1 / 4 = 0.25 (integers, no integer division),
-- 10.0000 / 4 = 2.5 and 7.5000 / 2.5000 = 3 (DECIMAL money), null for a zero, negative or
-- null denominator, 0 for a zero numerator. Returns one row per failing case.
with

cases as (

    select
        1 as case_id,
        cast(1 as {{ dbt.type_int() }}) as int_numerator,
        cast(4 as {{ dbt.type_int() }}) as int_denominator,
        cast(null as {{ type_money() }}) as money_numerator,
        cast(null as {{ type_money() }}) as money_denominator,
        0.25 as expected
    union all
    select 2, null, null, cast(10 as {{ type_money() }}), cast(4 as {{ type_money() }}), 2.5
    union all
    select 3, null, null, cast(7.5 as {{ type_money() }}), cast(2.5 as {{ type_money() }}), 3.0
    union all
    select 4, 5, 0, null, null, null
    union all
    select 5, 5, -2, null, null, null
    union all
    select 6, 5, null, null, null, null
    union all
    select 7, 0, 3, null, null, 0.0

),

divided as (

    select
        case_id,
        expected,
        case
            when money_numerator is not null
                then {{ safe_divide('money_numerator', 'money_denominator') }}
            else {{ safe_divide('int_numerator', 'int_denominator') }}
        end as actual
    from cases

),

failures as (

    select
        case_id,
        expected,
        actual
    from divided
    where {{ differs_from_expected('actual', 'expected', '1e-12') }}

)

select * from failures
