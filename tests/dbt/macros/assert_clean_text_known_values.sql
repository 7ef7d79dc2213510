-- clean_text against hand-computed values: '  Google ' lower -> 'google'; ' dE ' upper ->
-- 'DE'; 'Black Friday ' as is -> 'Black Friday' (case kept); blanks and '' -> null, or the
-- default when one is given ('EUR', 'completed'); ' eur ' upper with default -> 'EUR'; a
-- formula (' =SUM(A1) ', ' -5 ') -> trimmed and prefixed with a quote. One row per failure.
with

cases as (

    select
        1 as case_id,
        'lower' as variant,
        cast('  Google ' as {{ dbt.type_string() }}) as raw_text,
        cast('google' as {{ dbt.type_string() }}) as expected
    union all
    select 2, 'upper', ' dE ', 'DE'
    union all
    select 3, 'as_is', 'Black Friday ', 'Black Friday'
    union all
    select 4, 'lower', '   ', null
    union all
    select 5, 'as_is', '', null
    union all
    select 6, 'upper_default', '', 'EUR'
    union all
    select 7, 'upper_default', ' eur ', 'EUR'
    union all
    select 8, 'lower_default', null, 'completed'
    union all
    select 9, 'as_is', ' =SUM(A1) ', {{ dbt.concat(["chr(39)", "'=SUM(A1)'"]) }}
    union all
    select 10, 'lower_default', ' -5 ', {{ dbt.concat(["chr(39)", "'-5'"]) }}

),

cleaned as (

    select
        case_id,
        expected,
        case variant
            when 'lower' then {{ clean_text('raw_text', 'lower') }}
            when 'upper' then {{ clean_text('raw_text', 'upper') }}
            when 'upper_default' then {{ clean_text('raw_text', 'upper', 'EUR') }}
            when 'lower_default' then {{ clean_text('raw_text', 'lower', 'completed') }}
            else {{ clean_text('raw_text') }}
        end as actual
    from cases

),

failures as (

    select
        case_id,
        expected,
        actual
    from cleaned
    where {{ differs_from_expected('actual', 'expected') }}

)

select * from failures
