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

``convert_export`` writes the same store as Shopify's admin orders export instead
(``orders_export.csv``, one row per line item, order-level columns on each order's first row;
docs/sources/shopify_export.md): ``--shape export``.

Usage: ``scripts/contract_to_shopify.py --raw-dir STORE --out DIR [--shape connector|export]``.
"""

from __future__ import annotations

import argparse
import csv
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


EXPORT_COLUMNS = (
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Lineitem taxable",
    "Cancelled at",
    "Payment Method",
    "Refunded Amount",
    "Id",
    "Tags",
    "Source",
    "Lineitem discount",
    "Tax 1 Name",
    "Tax 1 Value",
    "Tax 2 Name",
    "Tax 2 Value",
)
# repeated on every line of an order (as Shopify does); the others only on the first line
EXPORT_EVERY_LINE = ("Name", "Email")
EXPORT_LINE_COLUMNS = (
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Lineitem taxable",
    "Lineitem discount",
)


def _money(value: float) -> str:
    return f"{round(value + 0.0, 2):.2f}"


def _shopify_time(value: object) -> str:
    # Shopify writes '2024-01-05 10:00:00 +0100'; the loader keeps UTC
    return f"{value:%Y-%m-%d %H:%M:%S} +0000"


def _export_rows(
    con: duckdb.DuckDBPyConnection,
    shop_currency: str,
    default_taxes_included: bool,
    default_tax_rate: float,
) -> list[dict[str, str]]:
    orders = con.execute(
        """
        select order_id, customer_email, ordered_at,
            coalesce(nullif(lower(trim(status)), ''), 'completed'), currency,
            prices_include_tax, coalesce(shipping_amount, 0), discount_code, purchase_type
        from raw.orders order by ordered_at, order_id
        """
    ).fetchall()
    lines: dict[str, list[tuple]] = {}
    for row in con.execute(
        """
        select l.order_id, l.product_id, coalesce(p.product_name, l.product_id), l.quantity,
            l.unit_price, coalesce(l.discount_amount, 0), l.tax_rate
        from raw.order_lines as l left join raw.products as p on l.product_id = p.product_id
        order by l.order_id, l.order_line_id
        """
    ).fetchall():
        lines.setdefault(row[0], []).append(row[1:])
    refunded = dict(
        con.execute("select order_id, sum(amount) from raw.refunds group by order_id").fetchall()
    )
    out = []
    for n, (oid, email, at, status, currency, incl, shipping, code, ptype) in enumerate(orders):
        included = default_taxes_included if incl is None else incl
        tax_by_rate: dict[float, float] = {}
        subtotal = discount_total = 0.0
        rows = []
        for pid, pname, qty, price, discount, rate in lines.get(oid, []):
            rate = default_tax_rate if rate is None else rate
            net = price * qty - discount
            subtotal += net
            discount_total += discount
            if rate > 0:
                tax = net * rate / (1 + rate) if included else net * rate
                tax_by_rate[rate] = tax_by_rate.get(rate, 0.0) + tax
            rows.append(
                {
                    "Lineitem quantity": str(qty),
                    "Lineitem name": pname,
                    "Lineitem price": repr(price),
                    "Lineitem sku": pid,
                    "Lineitem taxable": "true" if rate > 0 else "false",
                    "Lineitem discount": repr(discount),
                }
            )
        taxes = {rate: round(tax, 2) for rate, tax in sorted(tax_by_rate.items(), reverse=True)}
        tax_total = round(sum(taxes.values()), 2)
        untaxed = round(subtotal, 2) + round(shipping, 2)
        total = untaxed if included else untaxed + tax_total
        money_back = refunded.get(oid) or 0.0
        if money_back and not included and untaxed > 0:
            money_back = money_back * total / untaxed
        first = {
            "Name": f"#{1001 + n}",
            "Email": email or "",
            "Financial Status": {
                "pending": "pending",
                "refunded": "refunded",
                "cancelled": "voided",
            }.get(status, "partially_refunded" if money_back else "paid"),
            "Paid at": "" if status == "pending" else _shopify_time(at),
            "Fulfillment Status": "fulfilled",
            "Currency": (currency or "").strip().upper() or shop_currency,
            "Subtotal": _money(subtotal),
            "Shipping": _money(shipping),
            "Taxes": _money(tax_total),
            "Total": _money(total),
            "Discount Code": code or "",
            "Discount Amount": _money(discount_total),
            "Created at": _shopify_time(at),
            "Cancelled at": _shopify_time(at) if status == "cancelled" else "",
            "Payment Method": "bogus" if status == "test" else "Shopify Payments",
            "Refunded Amount": _money(money_back),
            "Id": oid,
            "Tags": "",
            "Source": "subscription_contract"
            if (ptype or "").strip().lower() == "subscription"
            else "web",
        }
        for i, (rate, tax) in enumerate(taxes.items(), start=1):
            first[f"Tax {i} Name"] = f"VAT {rate * 100:g}%"
            first[f"Tax {i} Value"] = _money(tax)
        for i, line in enumerate(rows):
            row = dict.fromkeys(EXPORT_COLUMNS, "")
            row.update(first if i == 0 else {c: first[c] for c in EXPORT_EVERY_LINE})
            row.update(line)
            out.append(row)
    return out


def convert_export(
    raw_dir: Path,
    out_dir: Path,
    *,
    shop_currency: str = "EUR",
    default_taxes_included: bool = True,
    default_tax_rate: float = 0.20,
) -> dict[str, int]:
    """Write the store in raw_dir as Shopify's orders_export.csv to out_dir; rows written.

    An order with taxes on several rates writes one Tax N Name ('VAT 20%') and Value per rate,
    at most two (the demo store's rates); a line without a rate is taxed at default_tax_rate,
    the contract build's default.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dtc_convert_") as tmp:
        db = Path(tmp) / "store.duckdb"
        loader.load_raw(raw_dir, db, "raw")
        con = duckdb.connect(str(db))
        con.execute("set TimeZone = 'UTC'")
        rows = _export_rows(con, shop_currency, default_taxes_included, default_tax_rate)
        con.close()
    with (out_dir / "orders_export.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    for suffix in (".csv", ".parquet"):
        spend = raw_dir / f"marketing_spend{suffix}"
        if spend.is_file():
            shutil.copy(spend, out_dir / spend.name)
    return {"orders_export": len(rows)}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="contract_to_shopify.py",
        description="Convert a raw-contract store into Shopify connector tables (one CSV each) "
        "or Shopify's admin orders export (orders_export.csv).",
    )
    p.add_argument(
        "--shape",
        choices=("connector", "export"),
        default="connector",
        help="connector tables (default) or the admin orders export",
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
        convert_shape = convert_export if args.shape == "export" else convert
        counts = convert_shape(
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
