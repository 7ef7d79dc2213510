-- Every dim_customers customer has exactly one row in fct_customer_predictions and vice
-- versa, and no customer lacks history (no_history is only a safety net).
{{ config(enabled=target.type == 'duckdb') }}
with

customers as (

    select customer_id
    from {{ ref('dim_customers') }}

),

predictions as (

    select
        customer_id,
        prediction_status
    from {{ ref('fct_customer_predictions') }}

),

mismatches as (

    select
        coalesce(customers.customer_id, predictions.customer_id) as customer_id,
        case
            when predictions.customer_id is null then 'missing_prediction'
            when customers.customer_id is null then 'not_in_dim_customers'
            else 'no_history'
        end as problem
    from customers
    full outer join predictions
        on customers.customer_id = predictions.customer_id
    where
        predictions.customer_id is null
        or customers.customer_id is null
        or predictions.prediction_status = 'no_history'

)

select * from mismatches
