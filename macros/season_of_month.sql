{% macro season_of_month(month_expression) -%}
    {#- Meteorological season ('winter', 'spring', 'summer', 'autumn') of a month number
        (1-12): Dec-Feb = winter in var season_hemisphere 'north', summer in 'south'. -#}
    {%- set hemisphere = var('season_hemisphere', 'north') -%}
    {%- if hemisphere not in ('north', 'south') -%}
        {{ exceptions.raise_compiler_error(
            "var season_hemisphere must be 'north' or 'south', got " ~ hemisphere
        ) }}
    {%- endif -%}
    {%- set seasons = ['winter', 'spring', 'summer', 'autumn'] if hemisphere == 'north'
        else ['summer', 'autumn', 'winter', 'spring'] -%}
    case
        when {{ month_expression }} in (12, 1, 2) then '{{ seasons[0] }}'
        when {{ month_expression }} in (3, 4, 5) then '{{ seasons[1] }}'
        when {{ month_expression }} in (6, 7, 8) then '{{ seasons[2] }}'
        when {{ month_expression }} in (9, 10, 11) then '{{ seasons[3] }}'
    end
{%- endmacro %}
