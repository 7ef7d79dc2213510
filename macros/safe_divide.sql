{% macro safe_divide(numerator, denominator) -%}
    {#- numerator / denominator as a double; null when the denominator is not positive
        (no customers, no orders, no spend, no revenue). The numerator is cast to double
        first, so integer counts and DECIMAL money divide the same way on every engine
        (PostgreSQL and Spark would otherwise return numeric / decimal). -#}
    case
        when {{ denominator }} > 0
            then cast({{ numerator }} as {{ type_double() }}) / {{ denominator }}
    end
{%- endmacro %}
