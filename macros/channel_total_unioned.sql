{% macro channel_total_unioned(relation, keys, measures) -%}
    {#- Body of a CTE: the rows of relation (keys, channel, measures), then one row per
        value of keys with channel 'all' whose measures are the sums of its channel rows.
        The one rule for the channel 'all' row of the acquisition models. -#}
    select
        {%- for key in keys %}
            {{ key }},
        {%- endfor %}
        channel,
        {%- for measure in measures %}
            {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    union all
    select
        {%- for key in keys %}
            {{ key }},
        {%- endfor %}
        'all' as channel,
        {%- for measure in measures %}
            sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    group by {{ keys | join(', ') }}
{%- endmacro %}
