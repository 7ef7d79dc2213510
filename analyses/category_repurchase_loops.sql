-- Growth question: which initial use cases (first product categories) keep customers in the
-- same category at their second order (a refill loop), and where do the others go?
-- Grain: one row per first product category with repeaters: the share of its repeaters whose
-- second order's main product is in the same category (with its Wilson interval) and the most
-- common other category (ties: the lower category name). Categories below the minimum sample
-- of repeaters are listed with no rank.
with journeys as (
    select
        first_product_category,
        second_product_category,
        is_same_category,
        customers,
        first_category_repeaters,
        share_of_repeaters,
        share_of_repeaters_ci_low,
        share_of_repeaters_ci_high,
        is_below_min_sample
    from {{ ref('fct_product_category_journeys') }}
),

categories as (
    select
        first_product_category,
        max(first_category_repeaters) as repeaters,
        max(case when is_below_min_sample then 1 else 0 end) = 1 as is_below_min_sample
    from journeys
    group by first_product_category
),

same_category as (
    select
        first_product_category,
        customers as same_category_customers,
        share_of_repeaters as same_category_share,
        share_of_repeaters_ci_low as same_category_share_ci_low,
        share_of_repeaters_ci_high as same_category_share_ci_high
    from journeys
    where is_same_category
),

other_categories_ranked as (
    select
        first_product_category,
        second_product_category,
        customers,
        share_of_repeaters,
        row_number() over (
            partition by first_product_category
            order by customers desc, second_product_category asc
        ) as other_rank
    from journeys
    where not is_same_category
),

final as (
    select
        categories.first_product_category,
        categories.repeaters,
        categories.is_below_min_sample,
        other_categories_ranked.second_product_category as top_other_category,
        coalesce(same_category.same_category_customers, 0) as same_category_customers,
        coalesce(same_category.same_category_share, 0) as same_category_share,
        same_category.same_category_share_ci_low,
        same_category.same_category_share_ci_high,
        other_categories_ranked.customers as top_other_category_customers,
        other_categories_ranked.share_of_repeaters as top_other_category_share,
        case
            when not categories.is_below_min_sample
                then rank() over (
                        partition by categories.is_below_min_sample
                        order by coalesce(same_category.same_category_share, 0) desc
                    )
        end as loop_rank
    from categories
    left join same_category
        on categories.first_product_category = same_category.first_product_category
    left join other_categories_ranked
        on
            categories.first_product_category = other_categories_ranked.first_product_category
            and other_categories_ranked.other_rank = 1
)

select * from final
order by loop_rank asc nulls last, repeaters desc, first_product_category asc
