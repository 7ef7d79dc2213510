-- differs_from_expected against hand-computed cases: equal text, a null on one side only
-- (either side), null on both, different text; with a tolerance of 0.001, 1.0 vs 1.0005
-- is equal and 1.0 vs 1.002 differs. Returns one row per failing case.
with

cases as (

    select
        1 as case_id,
        cast('a' as {{ dbt.type_string() }}) as actual_text,
        cast('a' as {{ dbt.type_string() }}) as expected_text,
        cast(null as {{ type_double() }}) as actual_number,
        cast(null as {{ type_double() }}) as expected_number,
        false as should_differ
    union all
    select 2, null, 'a', null, null, true
    union all
    select 3, 'a', null, null, null, true
    union all
    select 4, null, null, null, null, false
    union all
    select 5, 'a', 'b', null, null, true
    union all
    select 6, null, null, 1.0005, 1.0, false
    union all
    select 7, null, null, 1.002, 1.0, true
    union all
    select 8, null, null, null, 1.0, true

),

compared as (

    select
        case_id,
        should_differ,
        case
            when case_id <= 5 then {{ differs_from_expected('actual_text', 'expected_text') }}
            else {{ differs_from_expected('actual_number', 'expected_number', '0.001') }}
        end as differs
    from cases

),

failures as (

    select
        case_id,
        should_differ,
        differs
    from compared
    where differs <> should_differ

)

select * from failures
