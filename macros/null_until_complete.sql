{% macro null_until_complete(expression, data_type=none, is_complete='is_complete') -%}
    {#- The one masking rule of the cohort marts and their hubs: a measure of a period or window that has
        not fully elapsed by as_of_date is null, not a partial number. `is_complete` is the
        boolean SQL expression saying the period is complete (null counts as not complete);
        `data_type`, when given, is the type the result is cast to. -#}
    {%- if data_type -%}
        cast(case when {{ is_complete }} then {{ expression }} end as {{ data_type }})
    {%- else -%}
        case when {{ is_complete }} then {{ expression }} end
    {%- endif %}
{%- endmacro %}
