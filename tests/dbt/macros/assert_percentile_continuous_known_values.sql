-- percentile_continuous against hand-computed quantiles (linear interpolation at position
-- (n - 1) x fraction of the sorted values, as pandas' default): {1, 2, 3, 4}: median 2.5,
-- p25 = 1 + 0.75 x (2 - 1) = 1.75, p90 = 3 + 0.7 x (4 - 3) = 3.7; {5, 1, 9} (unsorted,
-- odd count): median 5, p25 = 1 + 0.5 x (5 - 1) = 3, p90 = 5 + 0.8 x (9 - 5) = 8.2; {7}:
-- 7 for every fraction; {10, null, 20}: nulls ignored, median 15; {null}: null. Returns
-- one row per failing group.
with

observations as (

    select
        1 as group_id,
        cast(1 as {{ dbt.type_int() }}) as observed_value
    union all
    select 1, 2
    union all
    select 1, 3
    union all
    select 1, 4
    union all
    select 2, 5
    union all
    select 2, 1
    union all
    select 2, 9
    union all
    select 3, 7
    union all
    select 4, 10
    union all
    select 4, null
    union all
    select 4, 20
    union all
    select 5, null

),

expected as (

    select
        1 as group_id,
        cast(1.75 as {{ type_double() }}) as expected_p25,
        cast(2.5 as {{ type_double() }}) as expected_median,
        cast(3.7 as {{ type_double() }}) as expected_p90
    union all
    select 2, 3.0, 5.0, 8.2
    union all
    select 3, 7.0, 7.0, 7.0
    union all
    select 4, 12.5, 15.0, 19.0
    union all
    select 5, null, null, null

),

computed as (

    select
        group_id,
        {{ percentile_continuous('observed_value', 0.25) }} as actual_p25,
        {{ percentile_continuous('observed_value', 0.5) }} as actual_median,
        {{ percentile_continuous('observed_value', 0.9) }} as actual_p90
    from observations
    group by group_id

),

compared as (

    select
        expected.group_id,
        expected.expected_p25,
        computed.actual_p25,
        expected.expected_median,
        computed.actual_median,
        expected.expected_p90,
        computed.actual_p90
    from expected
    left join computed
        on expected.group_id = computed.group_id

),

failures as (

    select * from compared
    where
        {{ differs_from_expected('actual_p25', 'expected_p25', '1e-9') }}
        or {{ differs_from_expected('actual_median', 'expected_median', '1e-9') }}
        or {{ differs_from_expected('actual_p90', 'expected_p90', '1e-9') }}

)

select * from failures
