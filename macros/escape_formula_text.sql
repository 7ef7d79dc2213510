{% macro escape_formula_text(column) -%}
    {#- Prefix text that a spreadsheet would run as a formula (= + - @) with a quote. -#}
    case
        when substr({{ column }}, 1, 1) in ('=', '+', '-', '@')
            then {{ dbt.concat(["''''", column]) }}
        else {{ column }}
    end
{%- endmacro %}
