{% macro hash_email(column) -%}
    {#- Normalised (trimmed, lower-cased) email hashed with md5; null when empty. -#}
    case
        when nullif(trim({{ column }}), '') is not null
            then {{ dbt.hash("lower(trim(" ~ column ~ "))") }}
    end
{%- endmacro %}
