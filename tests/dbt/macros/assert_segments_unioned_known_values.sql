-- segments_unioned against hand-written rows: two input rows x two segment types give four
-- rows; the 'all' type gives segment_value 'all', the 'colour' type gives the colour, or
-- '(missing)' when it is null; the carried column keeps its value. Returns one row per
-- expected row not produced, or produced row not expected.
with

inputs as (

    select
        1 as row_id,
        'red' as colour
    union all
    select
        2 as row_id,
        null as colour

),

unioned as (

    {{ segments_unioned('inputs', [('all', "'all'"), ('colour', 'colour')], ['row_id']) }}

),

expected as (

    select
        'all' as segment_type,
        'all' as segment_value,
        1 as row_id
    union all
    select 'all', 'all', 2
    union all
    select 'colour', 'red', 1
    union all
    select 'colour', '(missing)', 2

),

missing as (

    select
        segment_type,
        segment_value,
        row_id
    from expected
    except
    select
        segment_type,
        segment_value,
        row_id
    from unioned

),

unexpected as (

    select
        segment_type,
        segment_value,
        row_id
    from unioned
    except
    select
        segment_type,
        segment_value,
        row_id
    from expected

),

failures as (

    select
        segment_type,
        segment_value,
        row_id
    from missing
    union all
    select
        segment_type,
        segment_value,
        row_id
    from unexpected

)

select * from failures
