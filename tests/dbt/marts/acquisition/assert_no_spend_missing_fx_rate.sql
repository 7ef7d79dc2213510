{{ config(severity='warn') }}
-- Warns (does not fail) when spend is rejected for lack of an exchange rate: add the
-- month's rate to seed fx_rates_monthly, or that spend is missing from CAC and COS.
select
    spend_month,
    currency,
    count(*) as rejected_rows,
    sum(spend_amount) as rejected_amount
from {{ ref('int_marketing_spend_rejected') }}
where reject_reason = 'missing_fx_rate'
group by spend_month, currency
