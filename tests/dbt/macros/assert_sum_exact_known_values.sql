-- sum_exact against hand-computed values: 0.1 + 0.2 + 0.3 as doubles is 0.6 exactly
-- whichever way the rows are grouped ((0.1 + 0.2) + 0.3 and 0.1 + (0.2 + 0.3) differ as
-- doubles: 0.6000000000000001 vs 0.6); 1/3 keeps 12 decimals; all-null rows sum to null.
-- Returns one row per failing case.
with

values_added as (

    select
        cast(1 as {{ dbt.type_int() }}) as case_id,
        cast(0.1 as {{ type_double() }}) as value,
        cast(1 as {{ dbt.type_int() }}) as part
    union all
    select 1, cast(0.2 as {{ type_double() }}), 1
    union all
    select 1, cast(0.3 as {{ type_double() }}), 2
    union all
    select 2, cast(1 as {{ type_double() }}) / 3, 1
    union all
    select 3, cast(null as {{ type_double() }}), 1

),

parts_summed as (

    -- the first two values summed apart, then the parts: a second summation order
    select
        case_id,
        part,
        {{ sum_exact('value') }} as part_sum
    from values_added
    group by case_id, part

),

one_pass_summed as (

    select
        case_id,
        {{ sum_exact('value') }} as one_pass
    from values_added
    group by case_id

),

two_pass_summed as (

    -- the parts' exact sums added again: still exact
    select
        case_id,
        sum(part_sum) as two_pass
    from parts_summed
    group by case_id

),

expected as (

    select
        cast(1 as {{ dbt.type_int() }}) as case_id,
        cast('0.6' as decimal(38, 12)) as expected_sum
    union all
    select 2, cast('0.333333333333' as decimal(38, 12))
    union all
    select 3, cast(null as decimal(38, 12))

),

failures as (

    select
        expected.case_id,
        expected.expected_sum,
        one_pass_summed.one_pass,
        two_pass_summed.two_pass
    from expected
    left join one_pass_summed
        on expected.case_id = one_pass_summed.case_id
    left join two_pass_summed
        on expected.case_id = two_pass_summed.case_id
    where
        one_pass_summed.case_id is null
        or two_pass_summed.case_id is null
        or not (
            (
                one_pass_summed.one_pass = expected.expected_sum
                and two_pass_summed.two_pass = expected.expected_sum
            )
            or (
                expected.expected_sum is null
                and one_pass_summed.one_pass is null
                and two_pass_summed.two_pass is null
            )
        )

)

select * from failures
