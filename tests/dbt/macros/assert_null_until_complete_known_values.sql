-- null_until_complete against hand-computed cases: a complete period keeps its value (7,
-- and 0 stays 0, not null), an incomplete one is null, an unknown completeness (null) is
-- null, and a data_type casts the kept value (7 as a double, halved = 3.5). Returns one row
-- per failing case.
with

cases as (

    select
        1 as case_id,
        true as is_complete,
        cast(7 as {{ dbt.type_int() }}) as measure,
        cast(7 as {{ dbt.type_int() }}) as expected,
        cast(3.5 as {{ type_double() }}) as expected_halved
    union all
    select 2, true, 0, 0, 0.0
    union all
    select 3, false, 7, null, null
    union all
    select 4, null, 7, null, null

),

masked as (

    select
        case_id,
        expected,
        expected_halved,
        {{ null_until_complete('measure') }} as actual,
        {{ null_until_complete('measure', type_double()) }} / 2 as actual_halved
    from cases

)

select * from masked
where
    (actual is null) != (expected is null)
    or actual != expected
    or (actual_halved is null) != (expected_halved is null)
    or actual_halved != expected_halved
