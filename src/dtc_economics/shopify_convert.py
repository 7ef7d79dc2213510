"""Convert a raw-contract store into Shopify connector tables (docs/sources/shopify.md).

Reads a store folder in the raw contract (``tests/fixtures/store_small``, the demo store),
validated and typed by the contract's own loader, and writes one CSV per Shopify connector
table, named as the connector names them (``order.csv``, ``order_line.csv``, ...), plus the
store's ``marketing_spend`` file unchanged. Used by the equivalence tests and to try the
``shopify_connector`` source on demo data. Deterministic: same store, same bytes.

What the connector shape cannot carry is written the Shopify way, and the docs list it: a gift
is a line discounted to nothing (no gift flag), an order status other than completed /
cancelled / test becomes an open (completed) order, a cancelled order's cancellation time is
its order time.

Usage: ``scripts/contract_to_shopify.py --raw-dir STORE --out DIR``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

from dtc_economics import loader

TS = "strftime({col}, '%Y-%m-%d %H:%M:%S.%f')"


def _ts(col: str) -> str:
    return TS.format(col=col)


def _queries(shop_currency: str, default_taxes_included: bool) -> dict[str, str]:
    status = "coalesce(nullif(lower(trim(o.status)), ''), 'completed')"
    taxes_included = f"coalesce(o.prices_include_tax, {str(default_taxes_included).lower()})"
    return {
        "order": f"""
            select
                o.order_id as id,
                '#' || cast(1000 + row_number() over (order by o.ordered_at, o.order_id)
                    as varchar) as name,
                o.customer_email as email,
                o.customer_id,
                {_ts("o.ordered_at")} as created_at,
                {_ts("o.ordered_at")} as processed_at,
                case when {status} = 'cancelled' then {_ts("o.ordered_at")} end
                    as cancelled_at,
                {status} = 'test' as test,
                coalesce(nullif(upper(trim(o.currency)), ''), '{shop_currency}') as currency,
                coalesce(nullif(upper(trim(o.currency)), ''), '{shop_currency}')
                    as presentment_currency,
                {taxes_included} as taxes_included,
                case when lower(trim(o.purchase_type)) = 'subscription'
                    then 'subscription_contract' else 'web' end as source_name,
                false as _fivetran_deleted
            from raw.orders as o
            order by o.order_id
        """,
        "order_line": """
            select
                l.order_line_id as id,
                l.order_id,
                l.product_id,
                l.product_id as variant_id,
                l.product_id as sku,
                p.product_name as title,
                l.quantity,
                l.unit_price as price,
                coalesce(l.discount_amount, 0) as total_discount,
                coalesce(l.tax_rate, 1) > 0 as taxable,
                false as gift_card,
                row_number() over (partition by l.order_id order by l.order_line_id) as index
            from raw.order_lines as l
            left join raw.products as p on l.product_id = p.product_id
            order by l.order_line_id
        """,
        "tax_line": f"""
            select
                l.order_line_id,
                1 as index,
                l.tax_rate as rate,
                'VAT' as title,
                round(
                    case when {taxes_included}
                        then (l.unit_price * l.quantity - coalesce(l.discount_amount, 0))
                            * l.tax_rate / (1 + l.tax_rate)
                        else (l.unit_price * l.quantity - coalesce(l.discount_amount, 0))
                            * l.tax_rate
                    end, 2
                ) as price
            from raw.order_lines as l
            inner join raw.orders as o on l.order_id = o.order_id
            where l.tax_rate > 0
            order by l.order_line_id
        """,
        "order_shipping_line": """
            select
                order_id as id,
                order_id,
                'Standard' as title,
                shipping_amount as price,
                shipping_amount as discounted_price
            from raw.orders
            where shipping_amount is not null
            order by order_id
        """,
        "order_discount_code": """
            select
                o.order_id,
                1 as index,
                o.discount_code as code,
                coalesce(sum(l.discount_amount), 0) as amount,
                'fixed_amount' as type
            from raw.orders as o
            left join raw.order_lines as l on o.order_id = l.order_id
            where o.discount_code is not null
            group by o.order_id, o.discount_code
            order by o.order_id
        """,
        "order_url_tag": """
            select order_id, "key", "value"
            from (
                select order_id, 'utm_source' as "key", utm_source as "value" from raw.orders
                union all
                select order_id, 'utm_medium', utm_medium from raw.orders
                union all
                select order_id, 'utm_campaign', utm_campaign from raw.orders
            ) as tags
            where "value" is not null
            order by order_id, "key"
        """,
        "refund": f"""
            select
                r.refund_id as id,
                r.order_id,
                {_ts("r.refunded_at")} as created_at,
                {_ts("r.refunded_at")} as processed_at,
                r.reason as note,
                coalesce(r.quantity, 0) > 0 as restock
            from raw.refunds as r
            order by r.refund_id
        """,
        "order_line_refund": f"""
            select
                r.refund_id as id,
                r.refund_id,
                r.order_line_id,
                r.quantity,
                r.amount as subtotal,
                round(
                    case when {taxes_included}
                        then r.amount * coalesce(l.tax_rate, 0) / (1 + coalesce(l.tax_rate, 0))
                        else r.amount * coalesce(l.tax_rate, 0)
                    end, 2
                ) as total_tax,
                case when coalesce(r.quantity, 0) > 0 then 'return' else 'no_restock' end
                    as restock_type
            from raw.refunds as r
            inner join raw.orders as o on r.order_id = o.order_id
            left join raw.order_lines as l on r.order_line_id = l.order_line_id
            where r.order_line_id is not null
            order by r.refund_id
        """,
        "order_adjustment": """
            select
                refund_id as id,
                order_id,
                refund_id,
                -1 * amount as amount,
                0.0 as tax_amount,
                'refund_discrepancy' as kind,
                'Refund discrepancy' as reason
            from raw.refunds
            where order_line_id is null
            order by refund_id
        """,
        "customer": f"""
            select
                customer_id as id,
                email,
                {_ts("created_at")} as created_at,
                false as _fivetran_deleted
            from raw.customers
            order by customer_id
        """,
        "customer_address": """
            select
                customer_id as id,
                customer_id,
                country as country_code,
                true as is_default
            from raw.customers
            where country is not null
            order by customer_id
        """,
        "product": """
            select
                product_id as id,
                product_name as title,
                category as product_type,
                'active' as status,
                false as _fivetran_deleted
            from raw.products
            order by product_id
        """,
        "product_variant": """
            select
                product_id as id,
                product_id,
                product_id as inventory_item_id,
                product_id as sku,
                false as _fivetran_deleted
            from raw.products
            order by product_id
        """,
        "inventory_item": """
            select product_id as id, unit_cost as cost
            from raw.products
            order by product_id
        """,
        "transaction": f"""
            select id, order_id, refund_id, kind, status, amount, currency, created_at
            from (
                select
                    'S' || o.order_id as id,
                    o.order_id,
                    cast(null as varchar) as refund_id,
                    'sale' as kind,
                    'success' as status,
                    round(
                        coalesce(sum(l.unit_price * l.quantity - coalesce(l.discount_amount, 0)), 0)
                        + coalesce(max(o.shipping_amount), 0), 2
                    ) as amount,
                    coalesce(nullif(upper(trim(max(o.currency))), ''), '{shop_currency}')
                        as currency,
                    {_ts("max(o.ordered_at)")} as created_at
                from raw.orders as o
                left join raw.order_lines as l on o.order_id = l.order_id
                group by o.order_id
                union all
                select
                    'R' || r.refund_id,
                    r.order_id,
                    r.refund_id,
                    'refund',
                    'success',
                    r.amount,
                    '{shop_currency}',
                    {_ts("r.refunded_at")}
                from raw.refunds as r
            ) as t
            order by id
        """,
    }


def convert(
    raw_dir: Path,
    out_dir: Path,
    *,
    shop_currency: str = "EUR",
    default_taxes_included: bool = True,
) -> dict[str, int]:
    """Write the connector tables of the store in raw_dir to out_dir; rows per table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="dtc_convert_") as tmp:
        db = Path(tmp) / "store.duckdb"
        loader.load_raw(raw_dir, db, "raw")
        con = duckdb.connect(str(db))
        con.execute("set TimeZone = 'UTC'")
        for name, sql in _queries(shop_currency, default_taxes_included).items():
            target = out_dir / f"{name}.csv"
            con.execute(f"copy ({sql}) to '{target}' (header, delimiter ',')")
            counts[name] = con.execute(f"select count(*) from ({sql})").fetchone()[0]  # type: ignore[index]
        con.close()
    for suffix in (".csv", ".parquet"):
        spend = raw_dir / f"marketing_spend{suffix}"
        if spend.is_file():
            shutil.copy(spend, out_dir / spend.name)
    return counts


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="contract_to_shopify.py",
        description="Convert a raw-contract store into Shopify connector tables (one CSV each).",
    )
    p.add_argument("--raw-dir", required=True, type=Path, help="store in the raw contract")
    p.add_argument("--out", required=True, type=Path, help="folder for the connector tables")
    p.add_argument("--shop-currency", default="EUR", help="currency of orders without one")
    p.add_argument(
        "--default-taxes-included",
        choices=("true", "false"),
        default="true",
        help="taxes_included of orders without prices_include_tax (var default_prices_include_tax)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        counts = convert(
            args.raw_dir,
            args.out,
            shop_currency=args.shop_currency,
            default_taxes_included=args.default_taxes_included == "true",
        )
    except loader.LoadRefused as refused:
        print(f"contract_to_shopify: {args.raw_dir} is not a valid store:", file=sys.stderr)
        for v in refused.violations:
            print(f"  {v.message}", file=sys.stderr)
        return 2
    for name, n in counts.items():
        print(f"{name:<20} {n:>10,} rows -> {args.out / (name + '.csv')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
