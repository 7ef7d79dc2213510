-- grain: one row per customer x audience, as of as_of_date: who to contact, who to leave
-- alone, and why (reason), with the figure the rule tested and its threshold. Definitions:
-- _audiences__docs.md. Every audience but cooldown_do_not_contact leaves out customers in
-- cooldown. Adding an audience = one CTE below (same columns as the others) + its name in
-- `audiences`; thresholds come from vars or the store's own delays.
{%- set audiences = [
    'cooldown_do_not_contact',
    'slow_activators_to_nudge',
    'at_risk_high_value',
    'lapsed_reactivation',
    'bfcm_one_timers',
    'predicted_high_value_new',
    'never_repays_cac',
] %}
with

customers as (

    select
        customer_id,
        email_hash,
        as_of_date,
        first_order_date,
        order_count,
        net_revenue,
        days_since_last_order,
        lifecycle_status,
        activation_speed,
        is_in_cooldown,
        is_bfcm_acquired,
        acquisition_cac,
        has_repaid_cac,
        cac_repayment_ratio,
        cast(
            {{ dbt.datediff('first_order_date', 'as_of_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_first_order
    from {{ ref('int_customers_enriched') }}

),

thresholds as (

    select
        cooldown_days,
        median_days_to_second_order,
        lapsed_days
    from {{ ref('int_purchase_delay_thresholds') }}

),

predictions as (

    select
        customer_id,
        predicted_value_365d
    from {{ ref('fct_customer_predictions') }}
    where prediction_status = 'predicted'

),

high_value_cutoff as (

    -- the store's own cut-off: a quantile of net revenue to date over all customers
    select
        {{ percentile_continuous('net_revenue', var('audience_high_value_quantile')) }}
            as net_revenue_cutoff
    from customers

),

customers_with_thresholds as (

    -- every customer beside the store's thresholds, so each audience below reads one row
    select
        customers.customer_id,
        customers.first_order_date,
        customers.order_count,
        customers.net_revenue,
        customers.days_since_first_order,
        customers.days_since_last_order,
        customers.lifecycle_status,
        customers.activation_speed,
        customers.is_in_cooldown,
        customers.is_bfcm_acquired,
        customers.acquisition_cac,
        customers.has_repaid_cac,
        customers.cac_repayment_ratio,
        thresholds.cooldown_days,
        thresholds.median_days_to_second_order,
        thresholds.lapsed_days,
        high_value_cutoff.net_revenue_cutoff
    from customers
    cross join thresholds
    cross join high_value_cutoff

),

contactable_customers as (

    -- a customer in cooldown is left alone by every contact audience
    select *
    from customers_with_thresholds
    where not is_in_cooldown

),

-- each audience: customer_id, audience, reason, and the figure its rule tested
-- (rule_metric, rule_value, rule_threshold; cast to double once, in audiences_unioned)
cooldown_do_not_contact as (

    select
        customer_id,
        'cooldown_do_not_contact' as audience,
        {{ dbt.concat([
            "'bought ' ",
            "cast(days_since_last_order as " ~ dbt.type_string() ~ ")",
            "' days ago, within the cooldown of '",
            "cast(cast(cooldown_days as " ~ dbt.type_int() ~ ") as " ~ dbt.type_string() ~ ")",
            "' days: do not contact'",
        ]) }} as reason,
        'days_since_last_order' as rule_metric,
        days_since_last_order as rule_value,
        cooldown_days as rule_threshold
    from customers_with_thresholds
    where is_in_cooldown

),

slow_activators_to_nudge as (

    -- one order, past the store's median delay to a second order, still inside the
    -- activation window (activation_speed not_yet): a second order is still likely
    select
        customer_id,
        'slow_activators_to_nudge' as audience,
        {{ dbt.concat([
            "'one order, ' ",
            "cast(days_since_first_order as " ~ dbt.type_string() ~ ")",
            "' days ago: past the store median delay to a second order ('",
            decimal_text('median_days_to_second_order', 1),
            "' days), inside the activation window'",
        ]) }} as reason,
        'days_since_first_order' as rule_metric,
        days_since_first_order as rule_value,
        median_days_to_second_order as rule_threshold
    from contactable_customers
    where
        order_count = 1
        and activation_speed = 'not_yet'
        and days_since_first_order > median_days_to_second_order

),

at_risk_high_value as (

    select
        customer_id,
        'at_risk_high_value' as audience,
        {{ dbt.concat([
            "'at risk (no order for '",
            "cast(days_since_last_order as " ~ dbt.type_string() ~ ")",
            "' days) with net revenue '",
            decimal_text('net_revenue', 2),
            "' at or above the store cut-off '",
            decimal_text('net_revenue_cutoff', 2),
        ]) }} as reason,
        'net_revenue' as rule_metric,
        net_revenue as rule_value,
        net_revenue_cutoff as rule_threshold
    from contactable_customers
    where lifecycle_status = 'at_risk' and net_revenue >= net_revenue_cutoff

),

lapsed_reactivation as (

    select
        customer_id,
        'lapsed_reactivation' as audience,
        {{ dbt.concat([
            "'lapsed: no order for '",
            "cast(days_since_last_order as " ~ dbt.type_string() ~ ")",
            "' days, past the at-risk horizon, not yet lost (after '",
            "cast(cast(floor(lapsed_days) as " ~ dbt.type_int() ~ ") as "
                ~ dbt.type_string() ~ ")",
            "' days)'",
        ]) }} as reason,
        'days_since_last_order' as rule_metric,
        days_since_last_order as rule_value,
        lapsed_days as rule_threshold
    from contactable_customers
    where lifecycle_status = 'lapsed'

),

bfcm_one_timers as (

    select
        customer_id,
        'bfcm_one_timers' as audience,
        {{ dbt.concat([
            "'acquired in Black Friday / Cyber Monday on '",
            "cast(first_order_date as " ~ dbt.type_string() ~ ")",
            "', never ordered again'",
        ]) }} as reason,
        'order_count' as rule_metric,
        order_count as rule_value,
        1 as rule_threshold
    from contactable_customers
    where is_bfcm_acquired and order_count = 1

),

new_customers_ranked as (

    -- new customers with a prediction, best predicted 12-month value first (ties: id)
    select
        contactable_customers.customer_id,
        contactable_customers.days_since_first_order,
        predictions.predicted_value_365d,
        row_number() over (
            order by predictions.predicted_value_365d desc, contactable_customers.customer_id asc
        ) as value_rank,
        count(*) over () as new_customers_predicted
    from contactable_customers
    inner join predictions
        on contactable_customers.customer_id = predictions.customer_id
    where contactable_customers.days_since_first_order < {{ var('audience_new_customer_days') }}

),

new_customers_top as (

    select
        customer_id,
        days_since_first_order,
        predicted_value_365d,
        min(predicted_value_365d) over () as predicted_value_cutoff
    from new_customers_ranked
    where value_rank <= ceiling(new_customers_predicted * {{ var('audience_predicted_top_share') }})

),

predicted_high_value_new as (

    select
        customer_id,
        'predicted_high_value_new' as audience,
        {{ dbt.concat([
            "'new customer ('",
            "cast(days_since_first_order as " ~ dbt.type_string() ~ ")",
            "' days) with a predicted 12-month value of '",
            decimal_text('predicted_value_365d', 2),
            "', in the top share of new customers (cut-off '",
            decimal_text('predicted_value_cutoff', 2),
            "')'",
        ]) }} as reason,
        'predicted_value_365d' as rule_metric,
        predicted_value_365d as rule_value,
        predicted_value_cutoff as rule_threshold
    from new_customers_top

),

never_repays_cac as (

    -- acquired long enough ago (a full year of orders by default) and its contribution
    -- margin to date still does not cover its fully loaded CAC: stop paying to retarget it
    select
        customer_id,
        'never_repays_cac' as audience,
        {{ dbt.concat([
            "'acquired '",
            "cast(days_since_first_order as " ~ dbt.type_string() ~ ")",
            "' days ago, contribution margin to date repays '",
            decimal_text('cac_repayment_ratio * 100', 0),
            "'% of its fully loaded CAC of '",
            decimal_text('acquisition_cac', 2),
            "': exclude from paid retargeting'",
        ]) }} as reason,
        'cac_repayment_ratio' as rule_metric,
        cac_repayment_ratio as rule_value,
        1 as rule_threshold
    from contactable_customers
    where
        acquisition_cac > 0
        and not has_repaid_cac
        and days_since_first_order >= {{ var('audience_never_repays_min_days') }}

),

audiences_unioned as (

    {%- for audience in audiences %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select
            customer_id,
            audience,
            reason,
            rule_metric,
            cast(rule_value as {{ type_double() }}) as rule_value,
            cast(rule_threshold as {{ type_double() }}) as rule_threshold
        from {{ audience }}
    {%- endfor %}

),

final as (

    select
        -- keys
        audiences_unioned.customer_id,
        cast(audiences_unioned.audience as {{ dbt.type_string() }}) as audience,
        cast(audiences_unioned.reason as {{ dbt.type_string() }}) as reason,
        customers.as_of_date,
        customers.email_hash,

        -- the figure the rule tested and its threshold
        cast(audiences_unioned.rule_metric as {{ dbt.type_string() }}) as rule_metric,
        audiences_unioned.rule_value,
        audiences_unioned.rule_threshold,

        -- the customer as of as_of_date
        customers.order_count,
        customers.days_since_first_order,
        customers.days_since_last_order,
        customers.net_revenue,
        customers.lifecycle_status,
        customers.is_in_cooldown,
        predictions.predicted_value_365d
    from audiences_unioned
    inner join customers
        on audiences_unioned.customer_id = customers.customer_id
    left join predictions
        on audiences_unioned.customer_id = predictions.customer_id

)

select * from final
