{% macro future_value_segments() %}
    {#- (segment_type, SQL expression of segment_value) of the future-value marts; the
        expressions read int_customers_enriched's first-order columns -#}
    {{ return([
        ('all', "'all'"),
        ('acquisition_channel', 'acquisition_channel'),
        ('first_order_offer_type', 'first_order_offer_type'),
        ('first_product_id', 'first_product_id'),
        ('first_product_category', 'first_product_category'),
        ('cohort_month', 'cast(cohort_month as ' ~ dbt.type_string() ~ ')'),
    ]) }}
{% endmacro %}
