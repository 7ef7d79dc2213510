{% macro check_as_of_date_not_after_load() -%}
    {#- on-run-start: a pinned as_of_date may not lie after the data's own load (issue 14: a
        reference date in the future makes every customer "lost" and grows the cohort spines
        to that date). The limit is the latest export / load time in raw._load_manifest (the
        loader's record, as a date in reporting_timezone) when the warehouse has one, else the
        build's own start date. Refused with one sentence before anything runs. -#}
    {%- if execute and flags.WHICH in ('build', 'run') and var('as_of_date') -%}
        {%- set requested = var('as_of_date') | string -%}
        {%- set limit_date = run_started_at.strftime('%Y-%m-%d') -%}
        {%- set limit_label = 'the build date' -%}
        {%- if target.type == 'duckdb' -%}
            {%- set manifest = adapter.get_relation(
                database=target.database, schema='raw', identifier='_load_manifest') -%}
            {%- if manifest is not none -%}
                {%- set loaded = run_query(
                    "select strftime(cast(timezone('" ~ var('reporting_timezone') ~ "', "
                    ~ "max(coalesce(exported_at, loaded_at) at time zone 'UTC')) as date), "
                    ~ "'%Y-%m-%d') from " ~ manifest) -%}
                {%- if loaded and loaded.columns[0].values()[0] -%}
                    {%- set limit_date = loaded.columns[0].values()[0] -%}
                    {%- set limit_label = 'the load date (raw._load_manifest)' -%}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
        {%- if requested[:10] > limit_date -%}
            {{ exceptions.raise_compiler_error(
                "as_of_date " ~ requested ~ " is after " ~ limit_label ~ " " ~ limit_date
                ~ ": metrics cannot be measured as of a day the data has not reached; set an "
                ~ "as_of_date on or before " ~ limit_date ~ " (nothing was built)."
            ) }}
        {%- endif -%}
    {%- endif -%}
    select 1 as as_of_date_checked
{%- endmacro %}
