{% macro kaplan_meier_quantiles(relation, group_columns, duration_column, event_column) -%}
    {#- A query (use it as a CTE body) returning one row per group of `relation` with the
        Kaplan-Meier quartiles of `duration_column` (right-censored where `event_column`
        is false): km_p25, km_median, km_p75 (smallest event time t with S(t) <= 0.75,
        0.5, 0.25; null when the curve never gets there), subjects, events, censored.
        S(t) = product over event times t_i <= t of (1 - d_i / n_i), with n_i the subjects
        whose duration is >= t_i (censored subjects are at risk at their own time) and d_i
        the events at t_i; computed as exp(sum(ln(...))), and 0 once some d_i = n_i. -#}
    {%- set groups = group_columns | join(', ') %}
    {%- set tolerance = 1e-9 %}
    select
        {{ groups }},
        cast(sum(subjects_at_time) as {{ dbt.type_int() }}) as subjects,
        cast(sum(events_at_time) as {{ dbt.type_int() }}) as events,
        cast(sum(subjects_at_time - events_at_time) as {{ dbt.type_int() }}) as censored,
        min(case when survival <= 0.75 + {{ tolerance }} then km_duration end) as km_p25,
        min(case when survival <= 0.5 + {{ tolerance }} then km_duration end) as km_median,
        min(case when survival <= 0.25 + {{ tolerance }} then km_duration end) as km_p75
    from (
        select
            {{ groups }},
            km_duration,
            subjects_at_time,
            events_at_time,
            case
                when sum(is_exhausted) over (
                    partition by {{ groups }}
                    order by km_duration
                    rows between unbounded preceding and current row
                ) > 0 then 0.0
                else exp(sum(log_factor) over (
                    partition by {{ groups }}
                    order by km_duration
                    rows between unbounded preceding and current row
                ))
            end as survival
        from (
            select
                {{ groups }},
                km_duration,
                subjects_at_time,
                events_at_time,
                case
                    when events_at_time < at_risk
                        then ln(1 - cast(events_at_time as {{ type_double() }}) / at_risk)
                    else 0
                end as log_factor,
                case when events_at_time > 0 and events_at_time = at_risk then 1 else 0 end
                    as is_exhausted
            from (
                select
                    {{ groups }},
                    km_duration,
                    subjects_at_time,
                    events_at_time,
                    sum(subjects_at_time) over (
                        partition by {{ groups }}
                        order by km_duration desc
                        rows between unbounded preceding and current row
                    ) as at_risk
                from (
                    select
                        {{ groups }},
                        {{ duration_column }} as km_duration,
                        count(*) as subjects_at_time,
                        sum(case when {{ event_column }} then 1 else 0 end) as events_at_time
                    from {{ relation }}
                    where {{ duration_column }} is not null
                    group by {{ groups }}, {{ duration_column }}
                ) as subjects_per_time
            ) as subjects_at_risk
        ) as survival_factors
    ) as survival_curve
    group by {{ groups }}
{%- endmacro %}
