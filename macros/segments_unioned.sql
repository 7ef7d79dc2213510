{% macro segments_unioned(relation, segments, columns) -%}
    {#- Body of a CTE: relation's rows once per (segment_type, segment_expression) of
        segments, unioned, as segment_type, segment_value ('(missing)' when the expression
        is null), then columns. -#}
    {%- for segment_type, segment_expression in segments %}
        select
            '{{ segment_type }}' as segment_type,
            coalesce({{ segment_expression }}, '(missing)') as segment_value,
            {%- for column in columns %}
                {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ relation }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
