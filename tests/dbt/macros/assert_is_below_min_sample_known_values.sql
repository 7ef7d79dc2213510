-- is_below_min_sample against hand-computed cases around the threshold t (var
-- first_product_min_customers, 30 by default): t - 1 (29) is below, t (30) and t + 1 (31)
-- are not, 0 is below and a null count (no sample) is below. Returns one row per failing
-- case.
{%- set t = var('first_product_min_customers') | int %}
with

cases as (

    select
        1 as case_id,
        cast({{ t - 1 }} as {{ dbt.type_int() }}) as customers,
        true as expected
    union all
    select 2, {{ t }}, false
    union all
    select 3, {{ t + 1 }}, false
    union all
    select 4, 0, true
    union all
    select 5, null, true

),

flagged as (

    select
        case_id,
        expected,
        {{ is_below_min_sample('customers') }} as actual
    from cases

)

select * from flagged
where actual != expected
