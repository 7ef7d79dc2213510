{% macro grant_bi_read_access() -%}
    {{ return(adapter.dispatch('grant_bi_read_access', 'dtc_economics')()) }}
{%- endmacro %}

{% macro default__grant_bi_read_access() -%}
    {#- No roles on DuckDB: BI tools read the serving copy (scripts/publish.py) read-only. -#}
    select 1 as no_grants_on_this_adapter
{%- endmacro %}

{% macro postgres__grant_bi_read_access() -%}
    {#- var bi_read_role may read the marts schema and nothing else (created by
        scripts/ci_services.sh or README "Serving the marts"'s SQL); no role, no grants. -#}
    {%- set role = var('bi_read_role') -%}
    {%- set schema = generate_schema_name('marts', none) -%}
    {%- if role %}
    do $grant$
    begin
        if not exists (select from pg_roles where rolname = '{{ role }}') then
            raise notice 'grant_bi_read_access: role % does not exist; no grants', '{{ role }}';
        elsif exists (select from pg_namespace where nspname = '{{ schema }}') then
            execute format('grant usage on schema %I to %I', '{{ schema }}', '{{ role }}');
            execute format(
                'grant select on all tables in schema %I to %I', '{{ schema }}', '{{ role }}'
            );
            execute format(
                'alter default privileges in schema %I grant select on tables to %I',
                '{{ schema }}',
                '{{ role }}'
            );
        end if;
    end
    $grant$
    {%- else %}
    select 1 as no_bi_read_role
    {%- endif %}
{%- endmacro %}
