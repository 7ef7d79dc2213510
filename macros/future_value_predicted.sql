{% macro future_value_predicted(with_orders_per_customer=false) -%}
    {#- Columns of a future-value mart's final select, from its per-segment sums: the
        customer counts and the predicted columns (one definition of each rate) -#}
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(customers_predicted as {{ dbt.type_bigint() }}) as customers_predicted,
        cast(customers_value_predicted as {{ dbt.type_bigint() }})
            as customers_value_predicted,
        -- predicted (sums are null when nobody is predicted)
        cast(predicted_value_365d as {{ type_double() }}) as predicted_value_365d,
        {{ safe_divide('predicted_value_365d', 'customers_value_predicted') }}
            as predicted_value_365d_per_customer,
        cast(expected_orders_365d as {{ type_double() }}) as expected_orders_365d,
        {%- if with_orders_per_customer %}
        {{ safe_divide('expected_orders_365d', 'customers_predicted') }}
            as expected_orders_365d_per_customer,
        {%- endif %}
        cast(expected_repurchasers_365d as {{ type_double() }}) as expected_repurchasers_365d,
        {{ safe_divide('expected_repurchasers_365d', 'customers_predicted') }}
            as p_repurchase_365d
{%- endmacro %}
