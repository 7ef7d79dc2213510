{% macro publish_serving_copy(results) -%}
    {{ return(adapter.dispatch('publish_serving_copy', 'dtc_economics')(results)) }}
{%- endmacro %}

{% macro default__publish_serving_copy(results) -%}
    {#- PostgreSQL / Spark: the marts schema is the serving layer; nothing to copy. -#}
    select 1 as no_serving_copy_on_this_adapter
{%- endmacro %}

{% macro duckdb__publish_serving_copy(results) -%}
    {#- After `dbt build` / `dbt run`: copy marts + seeds into the serving file
        (env DTC_SERVING_PATH, default warehouse/serving.duckdb) through the dtc_publish
        function of dtc_economics.dbt_plugin; skipped when any node failed, and when the var
        publish_serving_copy is false (`make bench` times `scripts/publish.py` on its own).
        The views' primary keys are recorded first (record_view_primary_keys), for this copy
        and for a later `make publish`. -#}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- do record_view_primary_keys() -%}
        {%- set out = env_var('DTC_SERVING_PATH', 'warehouse/serving.duckdb') -%}
        {%- set enabled = var('publish_serving_copy', true) -%}
        {%- if enabled is string -%}
            {%- set enabled = enabled | lower not in ('false', '0', 'no', 'off', '') -%}
        {%- endif -%}
        {%- set failed = [] -%}
        {%- for result in results -%}
            {%- if result.status in ('error', 'fail', 'runtime error', 'skipped') -%}
                {%- do failed.append(result.node.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not enabled -%}
            {{ print("publish: skipped, var publish_serving_copy is false; the serving copy "
                ~ out ~ " is unchanged: run `make publish`") }}
        {%- elif failed -%}
            {{ print("publish: skipped, " ~ failed | length ~ " node(s) failed or were skipped (first: "
                ~ failed[0] ~ "); the serving copy " ~ out ~ " is unchanged") }}
        {%- elif run_query(
            "select count(*) from duckdb_functions() where function_name = 'dtc_publish'"
        ).columns[0].values()[0] == 0 -%}
            {#- a profile without the plugin (profiles.yml: plugins) -#}
            {{ print("publish: skipped, this profile does not load the dbt-duckdb plugin "
                ~ "dtc_economics.dbt_plugin (profiles.yml `plugins`); the serving copy " ~ out
                ~ " is unchanged: run `make publish`") }}
        {%- else -%}
            {%- set sql -%}
                select dtc_publish(
                    '{{ target.database | replace("'", "''") }}',
                    '{{ out | replace("'", "''") }}'
                ) as outcome
            {%- endset -%}
            {%- set outcome = run_query(sql).columns[0].values()[0] -%}
            {%- if outcome.startswith('ok: ') -%}
                {{ print(outcome[4:]) }}
            {%- else -%}
                {{ exceptions.raise_compiler_error("publish: " ~ outcome[7:]) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    select 1 as serving_copy_published_or_skipped
{%- endmacro %}
