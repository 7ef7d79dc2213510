{% macro window_is_complete(start_date, days, as_of) -%}
    {#- The one window-maturity rule: a window of `days` days that starts on `start_date`
        (day 1 = start_date, so it ends on start_date + days - 1) is complete when its last
        day is on or before `as_of`. Per customer the start is first_order_date; per
        cohort month see month_window_is_complete. `days` is a number or a SQL expression;
        null start or as_of gives null. -#}
    {%- if days is number %}
        {%- set offset = days - 1 %}
    {%- else %}
        {%- set offset = '(' ~ days ~ ') - 1' %}
    {%- endif %}
    {%- if offset == 0 -%}
        {{ start_date }} <= {{ as_of }}
    {%- else -%}
        {{ dbt.dateadd('day', offset, start_date) }} <= {{ as_of }}
    {%- endif %}
{%- endmacro %}

{% macro month_window_is_complete(month, days, as_of) -%}
    {#- window_is_complete for a cohort month: the window must be complete for every
        customer the month can hold, so it starts on the month's last day (last day +
        days - 1 <= as_of). days = 1: the month itself has ended on or before as_of. -#}
    {{ window_is_complete(dbt.last_day(month, 'month'), days, as_of) }}
{%- endmacro %}
