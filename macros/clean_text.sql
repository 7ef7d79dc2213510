{#-
    The one cleaning rule for free text read from an export (codes, names, reasons): trim
    it, fold its case when it is a code (`lower` / `upper`), read an empty string as missing
    (null), fall back to `default` when one is given, and escape it for spreadsheets
    (escape_formula_text). Tested in tests/dbt/macros/assert_clean_text_known_values.sql.
-#}
{% macro clean_text(column, case=none, default=none) -%}
    {%- set text = "trim(" ~ column ~ ")" -%}
    {%- if case in ("lower", "upper") -%}
        {%- set text = case ~ "(" ~ text ~ ")" -%}
    {%- elif case is not none -%}
        {{ exceptions.raise_compiler_error(
            "clean_text: case = '" ~ case ~ "' is not one of: lower, upper (or none)"
        ) }}
    {%- endif -%}
    {%- set text = "nullif(" ~ text ~ ", '')" -%}
    {%- if default is not none -%}
        {%- set text = "coalesce(" ~ text ~ ", " ~ dbt.string_literal(default) ~ ")" -%}
    {%- endif -%}
    {{ escape_formula_text(text) }}
{%- endmacro %}
