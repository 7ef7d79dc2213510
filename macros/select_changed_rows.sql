{% macro select_changed_rows(hub, columns) -%}
    {#- The hub's rows to write in an incremental copy (fct_orders, fct_order_lines): every
    row on a full refresh; on an incremental run only the new or changed rows (set difference
    over every column, nulls compare equal) for delete+insert on the unique key. -#}
    select
        {{ columns | join(',\n        ') }}
    from {{ hub }}
    {%- if is_incremental() %}
        except
        select
            {{ columns | join(',\n            ') }}
        from {{ this }}
    {%- endif %}
{%- endmacro %}
