{% macro round_half_up(expression, digits) -%}
    {#- Rounds a double to `digits` decimals, halves away from zero, the same on every
        engine: first to 6 decimals as a decimal (absorbs the 1e-12 noise of summing in
        another order), then to `digits`. A bare round() of a double differs: DuckDB rounds
        the binary value (7.425 -> 7.42), Spark its decimal form (7.43), and PostgreSQL has
        no round(double precision, integer). -#}
    cast(
        round(cast({{ expression }} as decimal(38, 6)), {{ digits }}) as {{ type_double() }}
    )
{%- endmacro %}
