-- No fct_kpis_monthly row has a null KPI without its reason, and no reason is given for a
-- KPI that has a value. Returns one row per month x KPI that breaks this.
{%- set kpis = [
    'blended_cac', 'cos', 'roas', 'median_days_to_second_order',
    'km_median_days_to_second_order', 'km_p25_days_to_second_order', 'ltv_182d', 'ltv_365d',
    'churn_6m', 'churn_12m', 'inactive_rate_6m', 'inactive_rate_12m',
] %}
with

kpis as (

    select
        {%- for kpi in kpis %}
            {{ kpi }},
            {{ kpi }}_null_reason,
        {%- endfor %}
        month
    from {{ ref('fct_kpis_monthly') }}

),

broken as (

    {%- for kpi in kpis %}
        select
            month,
            '{{ kpi }}' as kpi,
            {{ kpi }}_null_reason as null_reason
        from kpis
        where ({{ kpi }} is null) != ({{ kpi }}_null_reason is not null)
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

)

select * from broken
