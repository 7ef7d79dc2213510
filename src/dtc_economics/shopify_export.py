"""Load a Shopify admin orders export (``orders_export.csv``) (docs/sources/shopify_export.md).

Shopify's admin "Export orders" CSV has one row per line item; the order-level columns
(Financial Status, Created at, Subtotal, Shipping, Taxes, Total, Refunded Amount, ...) are
filled on the first row of each order only, and every row repeats the order's ``Name``.
This module normalises the export into the raw contract (docs/raw_contract.md) and loads it
with the contract's own loader (``loader.load_raw``), so every contract rule, the load
manifest and the quarantine apply unchanged and dbt reads the ``shop`` source as for the
contract (var ``source_system: shopify_export``).

What the export cannot carry is handled by the documented rules in ``RULES`` (no customer id,
no line id, no refund date or refunded line, no product category, no UTM, no cost, one tax
total per order); nothing is guessed silently: the load prints how many rows each rule
touched. A malformed export is refused before anything is written, with the file, row,
column and rule named.

Usage: ``scripts/load_shopify_export.py --raw-dir DIR --database PATH`` (exit 0 loaded,
2 refused).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import duckdb

from dtc_economics import loader

EXPORT_FILE = "orders_export.csv"
SPEND_FILES = ("marketing_spend.csv", "marketing_spend.csv.gz", "marketing_spend.parquet")
MAX_SHOWN = 5
# half a cent: the export's totals are sums of amounts rounded to the cent
MONEY_TOLERANCE = 0.005
MAX_TAXES = 5

# Headers read (Shopify's documented names, matched trimmed and case-insensitively)
# the order's money columns: on its first row only, decimal numbers
ORDER_TOTALS = ("Subtotal", "Shipping", "Taxes", "Total")
REQUIRED = (
    "Name",
    "Email",
    "Financial Status",
    "Created at",
    "Cancelled at",
    "Currency",
    *ORDER_TOTALS,
    "Discount Code",
    "Refunded Amount",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Lineitem discount",
)
OPTIONAL = (
    "Id",
    "Lineitem taxable",
    "Payment Method",
    "Source",
    *(f"Tax {n} {part}" for n in range(1, MAX_TAXES + 1) for part in ("Name", "Value")),
)
# filled on the first row of an order only; a later row of the same order must leave them
# empty or repeat the same value
ORDER_LEVEL = (
    "Financial Status",
    "Created at",
    "Cancelled at",
    "Currency",
    *ORDER_TOTALS,
    "Refunded Amount",
)
TIMESTAMPS = ("Created at", "Cancelled at")
NUMBERS = (
    *ORDER_TOTALS,
    "Refunded Amount",
    "Lineitem price",
    "Lineitem discount",
    *(f"Tax {n} Value" for n in range(1, MAX_TAXES + 1)),
)
INTEGERS = ("Lineitem quantity",)
# test orders are paid through Shopify's test gateway, "Bogus Gateway" (payment method bogus)
TEST_PAYMENT_METHOD = "bogus"
SUBSCRIPTION_SOURCE = "subscription_contract"
_RATE_IN_NAME = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*$")

# The rules for what the export cannot carry (docs/sources/shopify_export.md); the load
# prints how many rows each touched.
RULES = {
    "no_customer_id": "the export has no customer id: orders keep customer_id empty and are "
    "identified by their email (a registered customer's other emails are separate people)",
    "line_id": "the export has no line id: order_line_id is '<order id>-<n>', n the line's "
    "position among its order's rows in the file",
    "refund_order_level": "Refunded Amount is one order-level total: one refund per order, no "
    "line and no quantity, allocated pro rata by the marts like any order-level refund",
    "refund_dated_at_order": "the export has no refund date: a refund is dated at the order's "
    "Created at",
    "tax_rate_blended": "an order with several tax rates (or a tax name without a rate): each "
    "taxable line gets the order's effective rate, Taxes / taxable net amount",
    "prices_include_tax": "the export has no taxes-included flag: Total = Subtotal + Shipping "
    "means taxes included, Total = Subtotal + Shipping + Taxes excluded; no tax, or neither "
    "sum matches: var default_prices_include_tax",
    "gift_is_full_discount": "the export has no gift flag: a line discounted to nothing is a gift",
    "test_order": "the export has no test flag: Payment Method 'bogus' (Shopify's test gateway) "
    "is a test order",
}


class ExportRefused(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Normalised:
    """The export as raw-contract rows, plus how many rows each rule touched."""

    orders: list[dict[str, str]] = field(default_factory=list)
    order_lines: list[dict[str, str]] = field(default_factory=list)
    refunds: list[dict[str, str]] = field(default_factory=list)
    products: list[dict[str, str]] = field(default_factory=list)
    touched: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RULES, 0))
    # per table, the export row each normalised row comes from (an order's first row), so
    # that the contract loader's refusals name the user's rows (_in_export)
    export_rows: dict[str, list[str]] = field(default_factory=dict)


def _num(text: str) -> float:
    return float(text) if text.strip() else 0.0


def parse_timestamp(text: str) -> str:
    """Shopify's '2024-01-05 10:00:00 +0100' (or ISO-8601) as ISO-8601; ValueError if neither."""
    text = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z"):
        try:
            return datetime.strptime(text, fmt).isoformat()
        except ValueError:
            pass
    return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()


def tax_rate_from_name(name: str) -> float | None:
    """'VAT 20%' -> 0.2; None when the name carries no rate."""
    match = _RATE_IN_NAME.search(name.strip())
    return round(float(match.group(1)) / 100, 6) if match else None


def _fmt(value: float) -> str:
    return repr(round(value, 6))


def _refuse_if_not_utf8(path: Path) -> None:
    """ExportRefused naming the row of the first byte that is not UTF-8 (Excel's "CSV" on
    Windows re-saves the export in Windows-1252)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        row = data[: err.start].count(b"\n") + 1
        raise ExportRefused(
            [
                f"{path.name} row {row}: breaks rule 'well-formed file': not UTF-8 text (byte "
                f"0x{data[err.start]:02x}); use the file as Shopify exported it, or save it "
                "from the spreadsheet as 'CSV UTF-8'"
            ]
        ) from None


def _read(path: Path) -> tuple[list[str], list[dict[str, str]], dict[str, str]]:
    """Header, rows keyed by the documented names, documented name -> header as found."""
    _refuse_if_not_utf8(path)
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            raise ExportRefused(
                [f"{path.name}: breaks rule 'header row': the file is empty"]
            ) from None
        lowered = {h.strip().lower(): h for h in header}
        problems = []
        for name in REQUIRED:
            if name.lower() not in lowered:
                close = difflib.get_close_matches(name.lower(), list(lowered), n=1)
                hint = f"; did you rename {lowered[close[0]]!r}?" if close else ""
                problems.append(
                    f"{path.name}: breaks rule 'required column': column {name!r} is missing "
                    f"(Shopify's export header){hint}"
                )
        if problems:
            raise ExportRefused(problems)
        index = {h.strip().lower(): i for i, h in enumerate(header)}
        rows = []
        for line_no, values in enumerate(reader, start=2):
            if len(values) != len(header):
                raise ExportRefused(
                    [
                        f"{path.name} row {line_no}: breaks rule 'well-formed file': "
                        f"{len(values)} fields, the header has {len(header)}"
                    ]
                )
            row = {
                name: values[index[name.lower()]].strip() if name.lower() in index else ""
                for name in REQUIRED + OPTIONAL
            }
            row["_row"] = str(line_no)
            rows.append(row)
    return header, rows, {n: lowered[n.lower()] for n in REQUIRED if n.lower() in lowered}


class _Problems:
    """Offending rows per (column, rule), shown as 'row N value'."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.found: dict[tuple[str, str], list[str]] = {}

    def add(self, column: str, rule: str, row: dict[str, str], detail: str) -> None:
        self.found.setdefault((column, rule), []).append(f"row {row['_row']} {detail}")

    def messages(self) -> list[str]:
        out = []
        for (column, rule), shown in self.found.items():
            more = ", ..." if len(shown) > MAX_SHOWN else ""
            out.append(
                f"{self.file}: column {column!r} breaks rule {rule!r} in {len(shown)} row(s): "
                + ", ".join(shown[:MAX_SHOWN])
                + more
            )
        return out


def _check_values(rows: list[dict[str, str]], problems: _Problems) -> None:
    parsed: tuple[tuple[tuple[str, ...], Callable[[str], object], str], ...] = (
        (TIMESTAMPS, parse_timestamp, "timestamp"),
        (NUMBERS, float, "decimal number"),
    )
    for row in rows:
        for columns, parse, rule in parsed:
            for col in columns:
                if row[col]:
                    try:
                        parse(row[col])
                    except ValueError:
                        problems.add(col, rule, row, repr(row[col]))
        for col in INTEGERS:
            try:
                if int(row[col]) <= 0:
                    problems.add(col, "greater than 0", row, repr(row[col]))
            except ValueError:
                problems.add(col, "integer", row, repr(row[col]))
        if not row["Name"]:
            problems.add("Name", "order name not empty", row, "''")


def _orders(rows: list[dict[str, str]], problems: _Problems) -> dict[str, list[dict[str, str]]]:
    """Rows grouped by Name (file order); the first row of each order carries its columns."""
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row["Name"], []).append(row)
    ids: dict[str, str] = {}
    for name, group in groups.items():
        first = group[0]
        if not first["Created at"]:
            problems.add(
                "Created at",
                "order columns on the first line of each order",
                first,
                f"(order {name!r}: its first line has no Created at; a line of no order?)",
            )
        for row in group[1:]:
            for col in (*ORDER_LEVEL, "Id"):
                if row[col] and row[col] != first[col]:
                    problems.add(
                        col,
                        "one value per order",
                        row,
                        f"{row[col]!r} (order {name!r}, first line {first['_row']}: "
                        f"{first[col]!r})",
                    )
        order_id = first["Id"] or name
        if order_id in ids and ids[order_id] != name:
            problems.add(
                "Id", "unique order id", first, f"{order_id!r} (also order {ids[order_id]!r})"
            )
        ids[order_id] = name
        if _num(first["Refunded Amount"]) < 0:
            problems.add("Refunded Amount", "not negative", first, repr(first["Refunded Amount"]))
    return groups


def _taxes_included(first: dict[str, str]) -> str:
    taxes = _num(first["Taxes"])
    if taxes == 0:
        return ""
    base = _num(first["Subtotal"]) + _num(first["Shipping"])
    total = _num(first["Total"])
    excluded_gap, included_gap = abs(base + taxes - total), abs(base - total)
    if min(excluded_gap, included_gap) > MONEY_TOLERANCE:
        return ""
    return "false" if excluded_gap < included_gap else "true"


def _status(first: dict[str, str]) -> str:
    if first["Payment Method"].strip().lower() == TEST_PAYMENT_METHOD:
        return "test"
    if first["Cancelled at"]:
        return "cancelled"
    # Shopify's financial statuses are in seeds/order_status_vocabulary.csv
    return first["Financial Status"].lower()


def _line_rates(
    first: dict[str, str], lines: list[dict[str, str]], included: bool
) -> tuple[list[str], bool]:
    """Tax rate per line (text) and whether the blended rule was used."""
    taxable = [row["Lineitem taxable"].lower() not in ("false", "f", "0", "no") for row in lines]
    names = [
        (first[f"Tax {n} Name"], _num(first[f"Tax {n} Value"]))
        for n in range(1, MAX_TAXES + 1)
        if first[f"Tax {n} Name"]
    ]
    rates = {tax_rate_from_name(name) for name, _ in names}
    taxes = _num(first["Taxes"])
    blended = False
    if not names and taxes == 0:
        rate: float | None = 0.0
    elif len(rates) == 1 and None not in rates:
        rate = rates.pop()
    else:
        blended = True
        net = sum(
            int(row["Lineitem quantity"]) * _num(row["Lineitem price"])
            - _num(row["Lineitem discount"])
            for row, is_taxable in zip(lines, taxable, strict=True)
            if is_taxable
        )
        base = net - taxes if included else net
        rate = round(taxes / base, 6) if base > 0 else None
    out = [
        "0" if not is_taxable else ("" if rate is None else _fmt(rate)) for is_taxable in taxable
    ]
    return out, blended


def normalise(
    rows: list[dict[str, str]], file: str = EXPORT_FILE, *, default_included: bool = True
) -> Normalised:
    """The export's rows as raw-contract rows; ExportRefused names every offending row."""
    problems = _Problems(file)
    _check_values(rows, problems)
    if problems.found:
        raise ExportRefused(problems.messages())
    groups = _orders(rows, problems)
    if problems.found:
        raise ExportRefused(problems.messages())
    out = Normalised()
    products: dict[str, str] = {}
    product_rows: dict[str, str] = {}
    rows_of = out.export_rows
    for table in ("orders", "order_lines", "refunds", "products"):
        rows_of[table] = []
    for name, lines in groups.items():
        first = lines[0]
        order_id = first["Id"] or name
        included = _taxes_included(first)
        created = parse_timestamp(first["Created at"])
        status = _status(first)
        out.touched["no_customer_id"] += 1
        out.touched["test_order"] += status == "test"
        out.touched["prices_include_tax"] += included == ""
        rows_of["orders"].append(first["_row"])
        out.orders.append(
            {
                "order_id": order_id,
                "customer_id": "",
                "customer_email": first["Email"] or lines[-1]["Email"],
                "ordered_at": created,
                "status": status,
                "currency": first["Currency"],
                "prices_include_tax": included,
                "shipping_amount": first["Shipping"],
                "utm_source": "",
                "utm_medium": "",
                "utm_campaign": "",
                "discount_code": first["Discount Code"].split(",")[0].strip(),
                "purchase_type": "subscription"
                if first["Source"].strip().lower() == SUBSCRIPTION_SOURCE
                else "one_time",
                "shipping_cost": "",
            }
        )
        is_included = included == "true" or (included == "" and default_included)
        rates, blended = _line_rates(first, lines, is_included)
        out.touched["tax_rate_blended"] += len(lines) if blended else 0
        for n, (row, rate) in enumerate(zip(lines, rates, strict=True), start=1):
            product_id = row["Lineitem sku"] or row["Lineitem name"]
            products.setdefault(product_id, row["Lineitem name"])
            product_rows.setdefault(product_id, row["_row"])
            quantity = int(row["Lineitem quantity"])
            price = _num(row["Lineitem price"])
            discount = _num(row["Lineitem discount"])
            gift = discount >= price * quantity
            out.touched["line_id"] += 1
            out.touched["gift_is_full_discount"] += gift
            rows_of["order_lines"].append(row["_row"])
            out.order_lines.append(
                {
                    "order_line_id": f"{order_id}-{n}",
                    "order_id": order_id,
                    "product_id": product_id,
                    "quantity": str(quantity),
                    "unit_price": row["Lineitem price"],
                    "discount_amount": row["Lineitem discount"] or "0",
                    "tax_rate": rate,
                    "is_gift": "true" if gift else "false",
                    "unit_cost": "",
                }
            )
        refunded = _num(first["Refunded Amount"])
        if refunded > 0:
            if not is_included:
                # money back includes tax; the contract's refund is in the order's tax basis
                total = _num(first["Total"])
                untaxed = _num(first["Subtotal"]) + _num(first["Shipping"])
                refunded = round(refunded * untaxed / total, 2) if total > 0 else refunded
            out.touched["refund_order_level"] += 1
            out.touched["refund_dated_at_order"] += 1
            rows_of["refunds"].append(first["_row"])
            out.refunds.append(
                {
                    "refund_id": f"{order_id}-refund",
                    "order_id": order_id,
                    "order_line_id": "",
                    "refunded_at": created,
                    "amount": _fmt(refunded),
                    "quantity": "",
                    "reason": "Refunded Amount (orders export)",
                }
            )
    out.products = [
        {"product_id": pid, "product_name": pname, "category": "", "unit_cost": ""}
        for pid, pname in products.items()
    ]
    rows_of["products"] = list(product_rows.values())
    return out


def _write(path: Path, rows: Iterable[dict[str, str]], columns: list[str]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_contract(norm: Normalised, out_dir: Path) -> None:
    """Write the normalised export as raw-contract CSVs (orders, order_lines, refunds, products)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in (
        ("orders", norm.orders),
        ("order_lines", norm.order_lines),
        ("refunds", norm.refunds),
        ("products", norm.products),
    ):
        columns = list(rows[0]) if rows else _columns(name)
        _write(out_dir / f"{name}.csv", rows, columns)


def _columns(table: str) -> list[str]:
    from dtc_economics import contract

    return [c.name for c in next(t for t in contract.TABLES if t.name == table).columns]


def load_export(
    raw_dir: Path,
    database: Path,
    *,
    default_included: bool = True,
    options: loader.LoadOptions | None = None,
) -> tuple[loader.LoadResult, Normalised]:
    """Validate, normalise and load raw_dir/orders_export.csv (+ marketing_spend) into raw.*."""
    if not raw_dir.is_dir():
        raise ExportRefused([f"{raw_dir}: breaks rule 'raw folder exists'"])
    path = raw_dir / EXPORT_FILE
    if not path.is_file():
        found = ", ".join(sorted(p.name for p in raw_dir.iterdir() if p.is_file())) or "none"
        raise ExportRefused(
            [
                f"{EXPORT_FILE}: breaks rule 'required table': no {EXPORT_FILE} in {raw_dir} "
                f"(Shopify admin > Orders > Export, 'CSV for Excel, Numbers, or other "
                f"spreadsheet programs'; files found: {found})"
            ]
        )
    _, rows, _ = _read(path)
    norm = normalise(rows, path.name, default_included=default_included)
    with tempfile.TemporaryDirectory(prefix="dtc_shopify_export_") as tmp:
        contract_dir = Path(tmp)
        write_contract(norm, contract_dir)
        for spend in SPEND_FILES:
            if (raw_dir / spend).is_file():
                shutil.copy(raw_dir / spend, contract_dir / spend)
        try:
            result = loader.load_raw(contract_dir, database, "raw", options=options)
            _record_sources(database, contract_dir, raw_dir, path)
        except loader.LoadRefused as refused:
            raise ExportRefused(
                [_in_export(v, norm, path, contract_dir) for v in refused.violations]
            ) from None
    return result, norm


_LINE = re.compile(r"\bline (\d+)\b")


def _in_export(v: loader.Violation, norm: Normalised, export: Path, contract_dir: Path) -> str:
    """A contract loader refusal of a normalised file, named by the export's rows: the
    normalised file's line N is the export row its record came from."""
    rows = norm.export_rows.get(v.table)
    if rows is None or v.file != f"{v.table}.csv":  # marketing_spend: the user's own file
        return f"{export.name} (normalised into the raw contract): " + v.message.replace(
            str(contract_dir), str(export.parent)
        )
    starts = _record_start_lines(contract_dir / v.file)

    def row(match: re.Match[str]) -> str:
        index = starts.get(int(match.group(1)))
        return f"row {rows[index]}" if index is not None else match.group(0)

    moved = replace(
        v,
        where=f"{export.name} (normalised into {v.table})",
        samples=[(_LINE.sub(row, label), value) for label, value in v.samples],
        detail=_LINE.sub(row, v.detail),
    )
    return moved.message


def _record_start_lines(path: Path) -> dict[int, int]:
    """File line where each data record of a CSV starts -> the record's index."""
    with path.open(newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        starts, end = {}, reader.line_num
        for index, _ in enumerate(reader):
            starts[end + 1] = index
            end = reader.line_num
    return starts


def _record_sources(database: Path, contract_dir: Path, raw_dir: Path, export: Path) -> None:
    """raw._load_manifest names the user's files, not the temporary normalised ones."""
    con = duckdb.connect(str(database))
    try:
        con.execute(
            "update raw._load_manifest set source_file = case when table_name = "
            "'marketing_spend' then replace(source_file, ?, ?) else ? || ' (normalised into ' "
            "|| table_name || ')' end where source_file is not null",
            [str(contract_dir), str(raw_dir), str(export)],
        )
    finally:
        con.close()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="load_shopify_export.py",
        description="Validate a Shopify admin orders export (orders_export.csv), normalise it "
        "into the raw contract and load it (exit 0 loaded, 2 refused).",
    )
    p.add_argument("--raw-dir", required=True, type=Path, help=f"folder with {EXPORT_FILE}")
    p.add_argument("--database", required=True, type=Path, help="DuckDB warehouse file")
    p.add_argument(
        "--default-prices-include-tax",
        choices=("true", "false"),
        default="true",
        help="tax basis of orders whose totals do not tell (var default_prices_include_tax)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options = loader.LoadOptions(pii_salt=os.environ.get("DTC_PII_SALT", ""))
    try:
        result, norm = load_export(
            args.raw_dir,
            args.database,
            default_included=args.default_prices_include_tax == "true",
            options=options,
        )
    except ExportRefused as refused:
        print(
            f"load_shopify_export: refused {args.raw_dir}: {len(refused.problems)} problem(s); "
            f"{args.database} was not changed.",
            file=sys.stderr,
        )
        for problem in refused.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except (loader.WarehouseLocked, loader.WarehouseNotWritable) as problem:
        print(f"load_shopify_export: {problem}", file=sys.stderr)
        return 2
    print(
        f"{EXPORT_FILE}: {len(norm.orders):,} orders, {len(norm.order_lines):,} lines, "
        f"{len(norm.refunds):,} order-level refunds, {len(norm.products):,} products"
    )
    for rule, n in norm.touched.items():
        if n:
            print(f"rule {rule}: {n:,} row(s): {RULES[rule]}")
    for table, file, line, reason, _ in result.quarantined:
        print(f"quarantined: {table} {file} {line}: {reason} (raw._load_quarantine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
