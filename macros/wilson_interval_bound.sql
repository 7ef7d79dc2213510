{% macro wilson_interval_bound(successes, trials, z, bound) -%}
    {#- One bound of the Wilson score interval of a proportion successes / trials:
        (p + z^2/2n -/+ z * sqrt(p(1 - p)/n + z^2/4n^2)) / (1 + z^2/n).
        bound is 'low' or 'high'; null when trials is 0 or null. At 0% the low bound is
        exactly 0 and at 100% the high bound is exactly 1 (no floating-point residue). -#}
    {%- if bound not in ('low', 'high') -%}
        {{ exceptions.raise_compiler_error(
            "wilson_interval_bound: bound must be 'low' or 'high', got " ~ bound
        ) }}
    {%- endif -%}
    {%- set n = "cast(" ~ trials ~ " as " ~ type_double() ~ ")" -%}
    {%- set p = "(cast(" ~ successes ~ " as " ~ type_double() ~ ") / " ~ n ~ ")" -%}
    {%- set zz = "(cast(" ~ z ~ " as " ~ type_double() ~ ") * cast(" ~ z ~ " as "
        ~ type_double() ~ "))" -%}
    case
        when {{ trials }} is null or {{ trials }} = 0 then null
        {% if bound == 'low' -%}
        when {{ successes }} <= 0 then cast(0 as {{ type_double() }})
        {%- else -%}
        when {{ successes }} >= {{ trials }} then cast(1 as {{ type_double() }})
        {%- endif %}
        else (
            {{ p }} + {{ zz }} / (2 * {{ n }})
            {{ '-' if bound == 'low' else '+' }} cast({{ z }} as {{ type_double() }}) * sqrt(
                {{ p }} * (1 - {{ p }}) / {{ n }} + {{ zz }} / (4 * {{ n }} * {{ n }})
            )
        ) / (1 + {{ zz }} / {{ n }})
    end
{%- endmacro %}
