-- dim_customers' value-window and lifecycle columns agree with the customer's orders:
-- 365-day value >= 182-day value, "new" customers have one order, fast / slow only for
-- customers with a second order (not_yet / one_time only without), and the expected next
-- order comes after the last one. Returns the offending customers.
select
    customer_id,
    order_count,
    days_to_second_order,
    ltv_182d,
    ltv_365d,
    lifecycle_status,
    activation_speed,
    last_order_date,
    expected_next_order_date
from {{ ref('dim_customers') }}
where
    ltv_365d < ltv_182d - 0.000001
    or (ltv_365d is not null and ltv_182d is null)
    or (lifecycle_status = 'new' and order_count > 1)
    or (activation_speed in ('fast', 'slow') and days_to_second_order is null)
    or (activation_speed in ('not_yet', 'one_time') and days_to_second_order is not null)
    or expected_next_order_date < last_order_date
