-- Reference computation of the core outputs, in plain DuckDB SQL (no dbt, no Jinja).
--
-- What it is for: the floor a dbt build of the same outputs is measured against
-- (`make bench`, docs/performance.md "The reference script"), and an independent
-- check of the marts (tests/test_reference_core.py compares every output with its mart).
-- It applies the definitions of the dbt doc blocks (models/marts/*/_*__docs.md), written
-- again from them, not copied from the models' SQL:
--   - identity: customer id; else the registered customer owning the normalised email
--     (smallest id when several claim it); else guest_<email hash>; else none;
--   - valid order: completed (or refunded: a real sale whose money came back as refunds),
--     attributable, in the shop currency, dated on or before as_of_date (reporting
--     timezone), and net sales before returns > 0;
--   - net revenue excl. VAT: gross sales - discounts - returns, where a gift line is a 100%
--     discount, no discount exceeds its line, prices including VAT are divided by
--     1 + tax_rate, and refunds count as returns per line in date order up to what was paid
--     for the line (order-level refunds spread over the lines pro rata to what was paid);
--   - LTV N days: net revenue of the valid orders in days 0..N-1 after the first order
--     date; null until as_of_date >= first_order_date + N - 1; per cohort, mature when the
--     cohort month's last day + N - 1 <= as_of_date;
--   - cohort retention: share of the cohort with a valid order in calendar month
--     cohort_month + k, for months complete by as_of_date;
--   - CAC: accepted spend of the month and channel / new customers (first valid order in
--     the month, by the first order's channel);
--   - first product: the first order's highest-value paid line (ties: product id, line id);
--     repeat within N days: a second valid order within days 0..N-1, for customers whose
--     window is complete.
--
-- Input: the `raw` schema written by scripts/load_raw.py (which maps platform statuses and
-- hashes emails, salted) and the seed files under seeds/ (paths relative to the project
-- root: run it from there). Output: temporary tables
-- ref_customers, ref_cohort_value, ref_cohort_retention, ref_acquisition and
-- ref_first_products (temporary, so it also runs on a warehouse opened read-only).
-- Settings: the project's defaults (dbt_project.yml vars); set as_of_date to pin the
-- reference date (null: the latest completed or refunded order's date).

set variable shop_currency = 'EUR';
set variable default_tax_rate = 0.20;
set variable default_prices_include_tax = true;
set variable reporting_timezone = 'Europe/Paris';
set variable as_of_date = null::date;

-- text cleaned like every export field: trimmed, empty = missing, spreadsheet formulas
-- (= + - @ first) quoted
create or replace temp macro ref_clean(value) as
    case
        when substr(nullif(trim(value), ''), 1, 1) in ('=', '+', '-', '@')
            then '''' || nullif(trim(value), '')
        else nullif(trim(value), '')
    end;

create or replace temp macro ref_local_date(ts) as
    cast(
        (cast(ts as timestamp) at time zone 'UTC')
        at time zone getvariable('reporting_timezone') as date
    );

-- ---------------------------------------------------------------------------------------
-- orders, identity, validity
-- ---------------------------------------------------------------------------------------

create or replace temp table ref_orders_raw as
select
    cast(order_id as varchar) as order_id,
    cast(customer_id as varchar) as source_customer_id,
    cast(customer_email_hash as varchar) as email_hash,
    cast(ordered_at as timestamp) as ordered_at,
    ref_local_date(ordered_at) as order_date,
    coalesce(lower(ref_clean(status)), 'completed') as order_status,
    coalesce(upper(ref_clean(currency)), getvariable('shop_currency')) as currency,
    coalesce(prices_include_tax, getvariable('default_prices_include_tax')) as prices_include_tax,
    lower(ref_clean(utm_source)) as utm_source,
    lower(ref_clean(utm_medium)) as utm_medium
from raw.orders;

create or replace temp table ref_as_of as
select coalesce(
    getvariable('as_of_date'),
    (
        select max(order_date) from ref_orders_raw
        where order_status in ('completed', 'refunded')
    )
) as as_of_date;

create or replace temp table ref_lines as
with lines as (
    select
        cast(l.order_line_id as varchar) as order_line_id,
        cast(l.order_id as varchar) as order_id,
        cast(l.product_id as varchar) as product_id,
        cast(l.unit_price as double) * cast(l.quantity as integer) as list_amount,
        cast(coalesce(l.discount_amount, 0) as double) as discount_amount,
        coalesce(l.is_gift, false) as is_gift,
        case
            when o.prices_include_tax
                then 1 + cast(coalesce(l.tax_rate, getvariable('default_tax_rate')) as double)
            else 1
        end as vat_divisor
    from raw.order_lines as l
    inner join ref_orders_raw as o on cast(l.order_id as varchar) = o.order_id
)
select
    order_line_id,
    order_id,
    product_id,
    is_gift,
    vat_divisor,
    list_amount,
    case when is_gift then list_amount else least(discount_amount, list_amount) end
        as discount_paid_basis,
    list_amount - discount_paid_basis as paid_amount
from lines;

create or replace temp table ref_email_owners as
select email_hash, min(customer_id) as customer_id
from (
    select cast(email_hash as varchar) as email_hash, cast(customer_id as varchar) as customer_id
    from raw.customers
    union all
    select email_hash, source_customer_id from ref_orders_raw where source_customer_id is not null
)
where email_hash is not null
group by email_hash;

create or replace temp table ref_channels as
with mapping as (
    select utm_source, utm_medium, channel
    from read_csv('seeds/channel_mapping.csv', header = true, all_varchar = true)
),
pairs as (
    select distinct utm_source, utm_medium from ref_orders_raw
    union
    select distinct lower(ref_clean(utm_source)), lower(ref_clean(utm_medium))
    from raw.marketing_spend
)
select
    p.utm_source,
    p.utm_medium,
    case
        when p.utm_source is null and p.utm_medium is null then 'direct'
        else coalesce(
            (select m.channel from mapping as m
             where m.utm_source = p.utm_source and m.utm_medium = p.utm_medium),
            (select m.channel from mapping as m
             where m.utm_source = p.utm_source and m.utm_medium = '*'),
            (select m.channel from mapping as m
             where m.utm_source = '*' and m.utm_medium = p.utm_medium),
            'unknown'
        )
    end as channel
from pairs as p;

create or replace temp table ref_orders as
with line_totals as (
    select
        order_id,
        sum(list_amount / vat_divisor) as gross_sales,
        sum(discount_paid_basis / vat_divisor) as discounts
    from ref_lines
    group by order_id
),
identified as (
    select
        o.*,
        coalesce(
            o.source_customer_id,
            e.customer_id,
            case when o.email_hash is not null then 'guest_' || o.email_hash end
        ) as customer_id,
        coalesce(t.gross_sales, 0) as gross_sales,
        coalesce(t.discounts, 0) as discounts,
        coalesce(c.channel, 'direct') as channel
    from ref_orders_raw as o
    left join ref_email_owners as e
        on o.source_customer_id is null and o.email_hash = e.email_hash
    left join line_totals as t on o.order_id = t.order_id
    left join ref_channels as c
        on coalesce(o.utm_source, '') = coalesce(c.utm_source, '')
        and coalesce(o.utm_medium, '') = coalesce(c.utm_medium, '')
)
select
    i.order_id,
    i.customer_id,
    i.ordered_at,
    i.order_date,
    date_trunc('month', i.order_date)::date as order_month,
    i.channel,
    i.gross_sales,
    i.discounts,
    i.order_status in ('completed', 'refunded')
    and i.customer_id is not null
    and i.currency = getvariable('shop_currency')
    and i.order_date <= a.as_of_date
    and i.gross_sales - i.discounts > 0 as is_valid_order
from identified as i
cross join ref_as_of as a;

-- ---------------------------------------------------------------------------------------
-- refunds -> returns per line, capped at what was paid for the line
-- ---------------------------------------------------------------------------------------

create or replace temp table ref_returns_per_order as
with refunds as (
    select
        cast(r.refund_id as varchar) as refund_id,
        cast(r.order_id as varchar) as order_id,
        cast(r.order_line_id as varchar) as order_line_id,
        cast(r.refunded_at as timestamp) as refunded_at,
        cast(r.amount as double) as amount
    from raw.refunds as r
    inner join ref_orders_raw as o on cast(r.order_id as varchar) = o.order_id
    left join ref_lines as l on cast(r.order_line_id as varchar) = l.order_line_id
    cross join ref_as_of as a
    -- quarantined: a line of another order, before the order, after a pinned as_of_date
    where not coalesce(
        r.order_line_id is not null and l.order_id != o.order_id, false
    )
    and not coalesce(cast(r.refunded_at as timestamp) < o.ordered_at, false)
    and not coalesce(
        getvariable('as_of_date') is not null
        and ref_local_date(r.refunded_at) > a.as_of_date,
        false
    )
),
order_paid as (
    select order_id, sum(paid_amount) as paid, count(*) as lines
    from ref_lines
    group by order_id
),
pieces as (
    select refund_id, order_id, order_line_id, refunded_at, amount
    from refunds
    where order_line_id is not null
    union all
    select
        r.refund_id,
        r.order_id,
        l.order_line_id,
        r.refunded_at,
        case when p.paid > 0 then r.amount * l.paid_amount / p.paid else r.amount / p.lines end
    from refunds as r
    inner join order_paid as p on r.order_id = p.order_id
    inner join ref_lines as l on r.order_id = l.order_id
    where r.order_line_id is null
),
pieces_capped as (
    select
        p.order_id,
        greatest(
            0,
            least(
                p.amount,
                coalesce(l.paid_amount, 0) - coalesce(
                    sum(p.amount) over (
                        partition by p.order_id, p.order_line_id
                        order by p.refunded_at, p.refund_id
                        rows between unbounded preceding and 1 preceding
                    ),
                    0
                )
            )
        ) / coalesce(l.vat_divisor, 1) as returns
    from pieces as p
    left join ref_lines as l on p.order_line_id = l.order_line_id
)
select order_id, sum(returns) as returns
from pieces_capped
group by order_id;

create or replace temp table ref_valid_orders as
select
    o.order_id,
    o.customer_id,
    o.order_date,
    o.order_month,
    o.channel,
    o.gross_sales - o.discounts as net_sales_before_returns,
    o.gross_sales - o.discounts - coalesce(r.returns, 0) as net_revenue,
    row_number() over (partition by o.customer_id order by o.ordered_at, o.order_id)
        as order_sequence
from ref_orders as o
left join ref_returns_per_order as r on o.order_id = r.order_id
where o.is_valid_order;

-- ---------------------------------------------------------------------------------------
-- customers: first valid order, channel, first product, value windows
-- ---------------------------------------------------------------------------------------

create or replace temp table ref_customers as
with firsts as (
    select
        customer_id,
        min(order_date) filter (where order_sequence = 1) as first_order_date,
        any_value(order_id) filter (where order_sequence = 1) as first_order_id,
        any_value(channel) filter (where order_sequence = 1) as acquisition_channel,
        any_value(net_revenue) filter (where order_sequence = 1) as first_order_net_revenue,
        min(order_date) filter (where order_sequence = 2) as second_order_date,
        count(*) as order_count,
        sum(net_revenue) as net_revenue
    from ref_valid_orders
    group by customer_id
),
windows as (
    select
        v.customer_id,
        sum(v.net_revenue) filter (where v.order_date - f.first_order_date < 182) as rev_182d,
        sum(v.net_revenue) filter (where v.order_date - f.first_order_date < 365) as rev_365d
    from ref_valid_orders as v
    inner join firsts as f on v.customer_id = f.customer_id
    group by v.customer_id
),
first_products as (
    select
        f.customer_id,
        arg_min(l.product_id, (-(l.paid_amount / l.vat_divisor), l.product_id, l.order_line_id))
            as first_product_id
    from firsts as f
    inner join ref_lines as l on f.first_order_id = l.order_id
    where not l.is_gift
    group by f.customer_id
)
select
    f.customer_id,
    f.first_order_date,
    date_trunc('month', f.first_order_date)::date as cohort_month,
    f.acquisition_channel,
    f.first_order_net_revenue,
    p.first_product_id,
    f.order_count,
    f.net_revenue,
    f.second_order_date - f.first_order_date as days_to_second_order,
    a.as_of_date - f.first_order_date as days_observed,
    case when a.as_of_date - f.first_order_date >= 181 then w.rev_182d end as ltv_182d,
    case when a.as_of_date - f.first_order_date >= 365 - 1 then w.rev_365d end as ltv_365d
from firsts as f
inner join windows as w on f.customer_id = w.customer_id
left join first_products as p on f.customer_id = p.customer_id
cross join ref_as_of as a;

-- ---------------------------------------------------------------------------------------
-- cohorts: LTV 182 / 365 days and retention
-- ---------------------------------------------------------------------------------------

create or replace temp table ref_cohort_value as
select
    c.cohort_month,
    count(*) as customers,
    last_day(c.cohort_month) + 181 <= any_value(a.as_of_date) as is_window_182d_complete,
    last_day(c.cohort_month) + 364 <= any_value(a.as_of_date) as is_window_365d_complete,
    case
        when last_day(c.cohort_month) + 181 <= any_value(a.as_of_date)
            then sum(c.ltv_182d) / count(*)
    end as ltv_182d,
    case
        when last_day(c.cohort_month) + 364 <= any_value(a.as_of_date)
            then sum(c.ltv_365d) / count(*)
    end as ltv_365d
from ref_customers as c
cross join ref_as_of as a
group by c.cohort_month;

create or replace temp table ref_cohort_retention as
with sizes as (
    select cohort_month, count(*) as cohort_size from ref_customers group by cohort_month
),
cells as (
    select
        s.cohort_month,
        k.months_since_first_order,
        s.cohort_size
    from sizes as s
    cross join ref_as_of as a
    cross join range(0, 1000) as k (months_since_first_order)
    where
        (s.cohort_month + to_months(cast(k.months_since_first_order + 1 as integer)))::date - 1
        <= a.as_of_date
),
active as (
    select
        c.cohort_month,
        datediff('month', c.cohort_month, v.order_month) as months_since_first_order,
        count(distinct v.customer_id) as active_customers
    from ref_valid_orders as v
    inner join ref_customers as c on v.customer_id = c.customer_id
    group by all
)
select
    cells.cohort_month,
    cells.months_since_first_order,
    cells.cohort_size,
    coalesce(active.active_customers, 0) as active_customers,
    coalesce(active.active_customers, 0) / cells.cohort_size as retention_rate
from cells
left join active
    on cells.cohort_month = active.cohort_month
    and cells.months_since_first_order = active.months_since_first_order;

-- ---------------------------------------------------------------------------------------
-- acquisition: spend, new customers and CAC per channel and month
-- ---------------------------------------------------------------------------------------

create or replace temp table ref_acquisition as
with spend as (
    select
        cast(s.spend_date as date) as spend_date,
        date_trunc('month', cast(s.spend_date as date))::date as spend_month,
        nullif(lower(trim(s.channel)), '') as source_channel,
        lower(ref_clean(s.utm_source)) as utm_source,
        lower(ref_clean(s.utm_medium)) as utm_medium,
        cast(s.amount as double) as amount,
        coalesce(upper(ref_clean(s.currency)), getvariable('shop_currency')) as currency
    from raw.marketing_spend as s
),
fx as (
    select month, currency, rate_to_shop_currency
    from read_csv(
        'seeds/fx_rates_monthly.csv',
        header = true,
        columns = {'month': 'date', 'currency': 'varchar', 'rate_to_shop_currency': 'double'}
    )
),
known as (
    select distinct channel
    from read_csv('seeds/channel_mapping.csv', header = true, all_varchar = true)
),
spend_accepted as (
    select
        s.spend_month,
        coalesce(named.channel, utm_known.channel, 'unattributed') as channel,
        s.amount * case
            when s.currency = getvariable('shop_currency') then 1.0 else fx.rate_to_shop_currency
        end as spend
    from spend as s
    cross join ref_as_of as a
    left join fx on s.spend_month = fx.month and s.currency = fx.currency
    left join known as named on s.source_channel = named.channel
    left join ref_channels as utm
        on coalesce(s.utm_source, '') = coalesce(utm.utm_source, '')
        and coalesce(s.utm_medium, '') = coalesce(utm.utm_medium, '')
    left join known as utm_known on utm.channel = utm_known.channel
    where
        (s.currency = getvariable('shop_currency') or fx.rate_to_shop_currency is not null)
        and s.spend_date <= a.as_of_date
),
spend_cells as (
    select spend_month as month, channel, sum(spend) as spend
    from spend_accepted
    group by all
),
new_customers as (
    select cohort_month as month, acquisition_channel as channel, count(*) as new_customers
    from ref_customers
    group by all
),
cells as (
    select
        coalesce(s.month, n.month) as month,
        coalesce(s.channel, n.channel) as channel,
        s.spend,
        coalesce(n.new_customers, 0) as new_customers
    from spend_cells as s
    full join new_customers as n on s.month = n.month and s.channel = n.channel
),
coverage as (
    select min(month) as first_month, max(month) as last_month from spend_cells
)
select
    cells.month,
    cells.channel,
    case
        when cells.month between coverage.first_month and coverage.last_month
            then coalesce(cells.spend, 0)
    end as spend,
    cells.new_customers,
    case
        when cells.new_customers > 0
            and cells.month between coverage.first_month and coverage.last_month
            then coalesce(cells.spend, 0) / cells.new_customers
    end as cac
from cells
cross join coverage;

-- ---------------------------------------------------------------------------------------
-- first products: repeat within 90 / 180 / 365 days
-- ---------------------------------------------------------------------------------------

create or replace temp table ref_first_products as
select
    first_product_id,
    count(*) as customers,
    count(*) filter (where days_observed >= 89) as customers_complete_90d,
    count(*) filter (where days_observed >= 89 and days_to_second_order < 90)
        as repeat_customers_90d,
    count(*) filter (where days_observed >= 179) as customers_complete_180d,
    count(*) filter (where days_observed >= 179 and days_to_second_order < 180)
        as repeat_customers_180d,
    count(*) filter (where days_observed >= 364) as customers_complete_365d,
    count(*) filter (where days_observed >= 364 and days_to_second_order < 365)
        as repeat_customers_365d
from ref_customers
where first_product_id is not null
group by first_product_id;
