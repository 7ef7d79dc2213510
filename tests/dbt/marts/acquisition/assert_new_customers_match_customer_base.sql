-- New customers per month agree between the acquisition mart (all-channels row) and the
-- customer base mart (all-customers row): one definition of "new", two marts.
with

acquisition as (

    select
        month,
        new_customers
    from {{ ref('fct_acquisition_monthly') }}
    where channel = 'all'

),

customer_base as (

    select
        month,
        new_customers
    from {{ ref('fct_customer_base_monthly') }}
    where segment_type = 'all'

)

select
    acquisition.new_customers as acquisition_new_customers,
    customer_base.new_customers as customer_base_new_customers,
    coalesce(acquisition.month, customer_base.month) as month
from acquisition
full outer join customer_base
    on acquisition.month = customer_base.month
where coalesce(acquisition.new_customers, 0) != coalesce(customer_base.new_customers, 0)
