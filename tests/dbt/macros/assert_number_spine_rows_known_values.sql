-- number_spine_rows against hand-computed facts: 1,000 rows, 1,000 distinct values, smallest
-- 0, largest 999, and their sum 999 * 1000 / 2 = 499500. Returns one row when any differs.
with

spine as (

    {{ number_spine_rows('n') }}

),

summarised as (

    select
        count(*) as row_count,
        count(distinct n) as distinct_count,
        min(n) as smallest,
        max(n) as largest,
        sum(n) as total
    from spine

),

failures as (

    select
        row_count,
        distinct_count,
        smallest,
        largest,
        total
    from summarised
    where
        row_count != 1000
        or distinct_count != 1000
        or smallest != 0
        or largest != 999
        or total != 499500

)

select * from failures
