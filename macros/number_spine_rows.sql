{% macro number_spine_rows(column_name) -%}
    {#- Body of a CTE: one row per integer 0 .. 999 in column_name, from three cross-joined
        digit lists (portable: no generate_series, no recursion). -#}
    {%- set digits -%}
        select 0 as digit
        {%- for digit in range(1, 10) %}
            union all
            select {{ digit }} as digit
        {%- endfor %}
    {%- endset %}
    select hundreds.digit * 100 + tens.digit * 10 + units.digit as {{ column_name }}
    from ({{ digits }}) as hundreds
    cross join ({{ digits }}) as tens
    cross join ({{ digits }}) as units
{%- endmacro %}
