{% macro differs_from_expected(actual, expected, tolerance=none) -%}
    {#- The comparison of the known-values tests (tests/dbt/macros): true when `actual` is not
        `expected`, a null being a value (null vs null is equal, null vs a value differs).
        `tolerance`, when given, is the largest absolute difference still equal (doubles). -#}
    (
        ({{ expected }} is null and {{ actual }} is not null)
        or (
            {{ expected }} is not null
            and (
                {{ actual }} is null
                {%- if tolerance is none %}
                    or {{ actual }} <> {{ expected }}
                {%- else %}
                    or abs({{ actual }} - {{ expected }}) > {{ tolerance }}
                {%- endif %}
            )
        )
    )
{%- endmacro %}
