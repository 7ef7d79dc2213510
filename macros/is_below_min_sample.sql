{% macro is_below_min_sample(customers) -%}
    {#- The one minimum-sample rule of every segment cell: true when the cell's customer
        count (the sample behind its rates) is below var `first_product_min_customers`
        (default 30), the project's single threshold; null count = no sample = true. -#}
    coalesce({{ customers }} < {{ var('first_product_min_customers') }}, true)
{%- endmacro %}
