{% macro month_spine_rows(bounds, first_month, last_month, spine) -%}
    {{ return(adapter.dispatch('month_spine_rows', 'dtc_economics')(
        bounds, first_month, last_month, spine
    )) }}
{%- endmacro %}

{% macro default__month_spine_rows(bounds, first_month, last_month, spine) -%}
    {#- Body of the recursive CTE `spine` (the model starts `with recursive`): one row
        (month, a date) per month from first_month to last_month, columns of `bounds`. -#}
    select cast({{ first_month }} as date) as month
    from {{ bounds }}
    where {{ first_month }} is not null
    union all
    select cast({{ dbt.dateadd('month', 1, spine ~ '.month') }} as date) as month
    from {{ spine }}
    inner join {{ bounds }}
        on {{ spine }}.month < {{ bounds }}.{{ last_month }}
{%- endmacro %}

{% macro spark__month_spine_rows(bounds, first_month, last_month, spine) -%}
    {#- Spark 4.0 cannot plan recursive CTEs: explode a month sequence instead (first_month
        alone when last_month is earlier, as the recursive version). -#}
    select
        explode(sequence(
            cast({{ first_month }} as date),
            greatest(cast({{ first_month }} as date), cast({{ last_month }} as date)),
            interval 1 month
        )) as month
    from {{ bounds }}
    where {{ first_month }} is not null
{%- endmacro %}
