{% macro spark__assert_not_null(function, arg) -%}
    {#- dbt-spark's version, `coalesce(f(arg), nvl2(f(arg), assert_true(f(arg) is not null),
        null))`, equals f(arg) for every input (the assert_true runs only when f(arg) is not
        null, so it never fails) but writes arg three times. dbt.dateadd and dbt.datediff call
        it on each argument, and dbt.last_day nests two dateadds: the nesting wrote
        month_window_is_complete's argument hundreds of times (int_kpi_months_sourced
        compiled to 342 kB on Spark, 20 kB on DuckDB) and Spark took seconds to plan it. -#}
    {{ function }}({{ arg }})
{%- endmacro %}
