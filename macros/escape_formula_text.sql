{% macro escape_formula_text(column) -%}
    {#- Prefix text that a spreadsheet would run as a formula (= + - @) with a quote. -#}
    case
        when substr({{ column }}, 1, 1) in ('=', '+', '-', '@')
            {#- a quote literal: '''' on DuckDB / Postgres, '\'' on Spark -#}
            then {{ dbt.concat([dbt.string_literal(dbt.escape_single_quotes("'")), column]) }}
        else {{ column }}
    end
{%- endmacro %}
