-- CRM question: who do we contact today, who do we leave alone, and what are they worth?
-- Grain: one row per audience of fct_audiences (as of as_of_date). Members, their share of
-- all customers, how many can be matched by email hash, and their net revenue to date and
-- predicted 12-month value (when predictions exist). Audiences overlap (a customer can be in
-- several), except that no contact audience holds a customer in cooldown.
-- DuckDB only, like fct_audiences (it ranks the predictions).
{{ config(enabled=target.type == 'duckdb') }}
with members as (
    select
        audience,
        customer_id,
        email_hash,
        net_revenue,
        predicted_value_365d,
        as_of_date
    from {{ ref('fct_audiences') }}
),

customers as (
    select count(*) as all_customers
    from {{ ref('dim_customers') }}
),

final as (
    select
        members.audience,
        max(members.as_of_date) as as_of_date,
        count(*) as customers,
        cast(count(*) as double) / max(customers.all_customers) as share_of_customers,
        count(members.email_hash) as customers_with_email_hash,
        sum(members.net_revenue) as net_revenue_to_date,
        avg(members.net_revenue) as net_revenue_per_customer,
        sum(members.predicted_value_365d) as predicted_value_365d
    from members
    cross join customers
    group by members.audience
)

select * from final
order by customers desc, audience asc
