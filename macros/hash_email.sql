{% macro hash_email(column) -%}
    {#- Normalised (trimmed, lower-cased) email hashed with md5, salted with env var
        DTC_PII_SALT when set (md5 of salt:email); null when empty. -#}
    {%- set salt = env_var('DTC_PII_SALT', '') -%}
    {%- set normalised = "lower(trim(" ~ column ~ "))" -%}
    {%- if salt -%}
        {%- set normalised = "'" ~ salt | replace("'", "''") ~ ":' || " ~ normalised -%}
    {%- endif %}
    case
        when nullif(trim({{ column }}), '') is not null
            then {{ dbt.hash(normalised) }}
    end
{%- endmacro %}
