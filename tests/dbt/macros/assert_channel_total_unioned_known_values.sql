-- channel_total_unioned against hand-written rows: two months, January with two channels
-- (3 and 4 customers, 10.5 and 20 of revenue) and February with one (1 customer, null
-- revenue). The channel rows are kept as they are; January gets an 'all' row of 7 and 30.5,
-- February one of 1 and null (the sum of nulls). Returns one row per expected row not
-- produced, or produced row not expected.
with

inputs as (

    select
        '2024-01' as month,
        'paid_social' as channel,
        3 as customers,
        cast(10.5 as {{ type_money() }}) as revenue
    union all
    select '2024-01', 'organic', 4, cast(20 as {{ type_money() }})
    union all
    select '2024-02', 'organic', 1, cast(null as {{ type_money() }})

),

unioned as (

    {{ channel_total_unioned('inputs', ['month'], ['customers', 'revenue']) }}

),

expected as (

    select
        '2024-01' as month,
        'paid_social' as channel,
        3 as customers,
        cast(10.5 as {{ type_money() }}) as revenue
    union all
    select '2024-01', 'organic', 4, cast(20 as {{ type_money() }})
    union all
    select '2024-01', 'all', 7, cast(30.5 as {{ type_money() }})
    union all
    select '2024-02', 'organic', 1, cast(null as {{ type_money() }})
    union all
    select '2024-02', 'all', 1, cast(null as {{ type_money() }})

),

missing as (

    select
        month,
        channel,
        customers,
        revenue
    from expected
    except
    select
        month,
        channel,
        customers,
        revenue
    from unioned

),

unexpected as (

    select
        month,
        channel,
        customers,
        revenue
    from unioned
    except
    select
        month,
        channel,
        customers,
        revenue
    from expected

),

failures as (

    select
        month,
        channel,
        customers,
        revenue
    from missing
    union all
    select
        month,
        channel,
        customers,
        revenue
    from unexpected

)

select * from failures
