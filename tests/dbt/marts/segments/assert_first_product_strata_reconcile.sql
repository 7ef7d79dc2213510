-- Within every stratum type, the strata of a first product (or category) add up to its
-- 'all' row; the products of a category add up to the category in every stratum; the
-- products' 'all' rows add up to the customers of dim_customers with a first product.
-- Returns one row per broken total.
{%- set additive = [
    'customers',
    'customers_complete_90d', 'repeat_customers_90d',
    'customers_complete_180d', 'repeat_customers_180d',
    'customers_complete_365d', 'repeat_customers_365d',
    'repeat_customers', 'repeat_orders', 'repeat_orders_with_first_product',
] %}
with

products as (

    select
        first_product_id,
        first_product_category,
        stratum_type,
        stratum_value,
        {{ additive | join(', ') }},
        repeat_net_revenue_365d
    from {{ ref('fct_first_product_performance') }}

),

categories as (

    select
        first_product_category,
        stratum_type,
        stratum_value,
        {{ additive | join(', ') }},
        repeat_net_revenue_365d
    from {{ ref('fct_first_product_category_performance') }}

),

customers as (

    select count(*) as customers
    from {{ ref('dim_customers') }}
    where first_product_id is not null

),

product_strata_summed as (

    select
        first_product_id,
        stratum_type,
        {%- for column in additive %}
            sum({{ column }}) as {{ column }},
        {%- endfor %}
        sum(repeat_net_revenue_365d) as repeat_net_revenue_365d
    from products
    group by
        first_product_id,
        stratum_type

),

category_products_summed as (

    select
        first_product_category,
        stratum_type,
        stratum_value,
        {%- for column in additive %}
            sum({{ column }}) as {{ column }},
        {%- endfor %}
        sum(repeat_net_revenue_365d) as repeat_net_revenue_365d
    from products
    group by
        first_product_category,
        stratum_type,
        stratum_value

),

category_strata_summed as (

    select
        first_product_category,
        stratum_type,
        {%- for column in additive %}
            sum({{ column }}) as {{ column }},
        {%- endfor %}
        sum(repeat_net_revenue_365d) as repeat_net_revenue_365d
    from categories
    group by
        first_product_category,
        stratum_type

),

broken_product_strata as (

    select
        'product strata vs all: ' || strata.first_product_id || ' / ' || strata.stratum_type
            as check_name
    from product_strata_summed as strata
    inner join product_strata_summed as headline
        on
            strata.first_product_id = headline.first_product_id
            and headline.stratum_type = 'all'
    where
        {%- for column in additive %}
            strata.{{ column }} != headline.{{ column }} or
        {%- endfor %}
        abs(strata.repeat_net_revenue_365d - headline.repeat_net_revenue_365d) > 0.01

),

broken_category_strata as (

    select
        'category strata vs all: ' || strata.first_product_category || ' / '
        || strata.stratum_type as check_name
    from category_strata_summed as strata
    inner join category_strata_summed as headline
        on
            strata.first_product_category = headline.first_product_category
            and headline.stratum_type = 'all'
    where
        {%- for column in additive %}
            strata.{{ column }} != headline.{{ column }} or
        {%- endfor %}
        abs(strata.repeat_net_revenue_365d - headline.repeat_net_revenue_365d) > 0.01

),

broken_categories as (

    select
        'products vs category: ' || categories.first_product_category || ' / '
        || categories.stratum_type || ' = ' || categories.stratum_value as check_name
    from categories
    left join category_products_summed
        on
            categories.first_product_category = category_products_summed.first_product_category
            and categories.stratum_type = category_products_summed.stratum_type
            and categories.stratum_value = category_products_summed.stratum_value
    where
        category_products_summed.first_product_category is null
        or
        {%- for column in additive %}
            categories.{{ column }} != category_products_summed.{{ column }} or
        {%- endfor %}
        abs(
            categories.repeat_net_revenue_365d - category_products_summed.repeat_net_revenue_365d
        ) > 0.01

),

headline_customers as (

    select sum(customers) as customers
    from products
    where stratum_type = 'all'

),

broken_customers as (

    select 'first product customers vs dim_customers' as check_name
    from customers
    cross join headline_customers
    where
        headline_customers.customers is null
        or headline_customers.customers != customers.customers

),

checks as (

    select check_name from broken_product_strata
    union all
    select check_name from broken_category_strata
    union all
    select check_name from broken_categories
    union all
    select check_name from broken_customers

)

select check_name
from checks
