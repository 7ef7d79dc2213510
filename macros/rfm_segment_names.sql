{% macro rfm_segment_names() -%}
    {#- The RFM segments of int_customers_rfm_scored, best to worst (for spines and pivots). -#}
    {{ return([
        'champions',
        'loyal',
        'promising',
        'new',
        'needs_attention',
        'at_risk',
        'hibernating',
        'lost',
    ]) }}
{%- endmacro %}
