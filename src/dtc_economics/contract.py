"""The raw data contract: the tables a store exports and the columns each one carries.

One source of truth for the loader (validation and typing), the demo generator (what it
writes), the tests and docs/raw_contract.md. A column is ``required`` when the file must carry it,
and ``not_empty`` when every row must hold a value (the models cannot read the row without
it); optional columns missing from a file are added as typed NULLs, and missing optional
tables load as empty tables, so the project builds on an orders-only store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Logical types used by the contract; the loader maps them to DuckDB types.
VARCHAR = "varchar"
TIMESTAMP = "timestamp"  # ISO-8601; UTC unless an offset is given; stored as UTC
DATE = "date"
DOUBLE = "double"
INTEGER = "integer"
BOOLEAN = "boolean"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    description: str = ""
    # identifiers are normalised by the loader (trimmed, refused with invisible characters,
    # integral floats from typed files written as integers): docs/loader.md
    identifier: bool = False
    # every row holds a value: an empty field is refused (keys have their own rule)
    not_empty: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    primary_key: str | None
    columns: tuple[Column, ...]
    description: str = ""
    # (column, parent table, parent column): every non-null value must exist in the parent
    references: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


ORDERS = Table(
    name="orders",
    required=True,
    primary_key="order_id",
    description="One row per order (header).",
    columns=(
        Column(
            "order_id", VARCHAR, True, "Unique order identifier.", identifier=True, not_empty=True
        ),
        Column(
            "customer_id",
            VARCHAR,
            True,
            "Store customer id; empty for guest checkouts.",
            identifier=True,
        ),
        Column("customer_email", VARCHAR, False, "Email; identity fallback for guests."),
        Column(
            "ordered_at",
            TIMESTAMP,
            True,
            "ISO-8601 timestamp; UTC unless an offset is given.",
            not_empty=True,
        ),
        Column(
            "status",
            VARCHAR,
            False,
            "Platform status (Shopify, WooCommerce, Magento, PrestaShop or completed / "
            "cancelled / refunded / test / pending), mapped by the loader; default completed.",
        ),
        Column("currency", VARCHAR, False, "ISO currency code; default var shop_currency."),
        Column("prices_include_tax", BOOLEAN, False, "Line prices include VAT; default var."),
        Column("shipping_amount", DOUBLE, False, "Shipping charged (not revenue), >= 0."),
        Column("utm_source", VARCHAR, False, "UTM source of the order's session."),
        Column("utm_medium", VARCHAR, False, "UTM medium of the order's session."),
        Column("utm_campaign", VARCHAR, False, "UTM campaign."),
        Column("discount_code", VARCHAR, False, "Discount code used, if any."),
        Column("purchase_type", VARCHAR, False, "one_time / subscription; default one_time."),
        Column(
            "shipping_cost",
            DOUBLE,
            False,
            "Shipping paid to carriers for the order, excl. VAT, shop currency, >= 0 (a cost; "
            "not the shipping charged).",
        ),
    ),
)

ORDER_LINES = Table(
    name="order_lines",
    required=True,
    primary_key="order_line_id",
    description="One row per order line.",
    references=(("order_id", "orders", "order_id"),),
    columns=(
        Column(
            "order_line_id",
            VARCHAR,
            True,
            "Unique line identifier.",
            identifier=True,
            not_empty=True,
        ),
        Column(
            "order_id", VARCHAR, True, "Order the line belongs to.", identifier=True, not_empty=True
        ),
        Column("product_id", VARCHAR, True, "Product sold.", identifier=True, not_empty=True),
        Column("quantity", INTEGER, True, "Units, > 0.", not_empty=True),
        Column(
            "unit_price",
            DOUBLE,
            True,
            "List price per unit, >= 0, in the order's tax basis.",
            not_empty=True,
        ),
        Column("discount_amount", DOUBLE, False, "Line discount total, >= 0."),
        Column("tax_rate", DOUBLE, False, "VAT rate, e.g. 0.20; default var default_tax_rate."),
        Column("is_gift", BOOLEAN, False, "A free product given away."),
        Column(
            "unit_cost",
            DOUBLE,
            False,
            "Cost per unit at the time of sale (COGS), excl. VAT, shop currency, >= 0; "
            "at most var max_unit_cost_to_price x unit_price. Wins over products.unit_cost.",
        ),
    ),
)

REFUNDS = Table(
    name="refunds",
    required=False,
    primary_key="refund_id",
    description="One row per refund transaction.",
    references=(
        ("order_id", "orders", "order_id"),
        ("order_line_id", "order_lines", "order_line_id"),
    ),
    columns=(
        Column(
            "refund_id", VARCHAR, True, "Unique refund identifier.", identifier=True, not_empty=True
        ),
        Column("order_id", VARCHAR, True, "Refunded order.", identifier=True, not_empty=True),
        Column(
            "order_line_id",
            VARCHAR,
            False,
            "Refunded line; empty for order-level refunds.",
            identifier=True,
        ),
        Column("refunded_at", TIMESTAMP, True, "When the refund was issued.", not_empty=True),
        Column(
            "amount",
            DOUBLE,
            True,
            "Amount refunded, >= 0, in the order's tax basis.",
            not_empty=True,
        ),
        Column(
            "quantity", INTEGER, False, "Units returned, >= 0; a line's refunds, at most its units."
        ),
        Column("reason", VARCHAR, False, "Free-text reason."),
    ),
)

CUSTOMERS = Table(
    name="customers",
    required=False,
    primary_key="customer_id",
    description="One row per registered customer.",
    columns=(
        Column("customer_id", VARCHAR, True, "Store customer id.", identifier=True, not_empty=True),
        Column("created_at", TIMESTAMP, False, "Account creation time."),
        Column("email", VARCHAR, False, "Email (hashed by the loader)."),
        Column("country", VARCHAR, False, "Country code."),
    ),
)

PRODUCTS = Table(
    name="products",
    required=False,
    primary_key="product_id",
    description="One row per product.",
    columns=(
        Column("product_id", VARCHAR, True, "Product identifier.", identifier=True, not_empty=True),
        Column("product_name", VARCHAR, False, "Name."),
        Column("category", VARCHAR, False, "Category (initial use case)."),
        Column(
            "unit_cost",
            DOUBLE,
            False,
            "Current cost per unit (COGS), excl. VAT, shop currency, >= 0; used for lines "
            "without their own unit_cost.",
        ),
    ),
)

MARKETING_SPEND = Table(
    name="marketing_spend",
    required=False,
    primary_key=None,
    description="Marketing spend, one row per day x channel (or utm source/medium) x campaign.",
    columns=(
        Column("spend_date", DATE, True, "Day of the spend (reporting timezone).", not_empty=True),
        Column("channel", VARCHAR, False, "Channel, when the export names it."),
        Column("utm_source", VARCHAR, False, "UTM source, when the export uses UTMs."),
        Column("utm_medium", VARCHAR, False, "UTM medium."),
        Column("campaign", VARCHAR, False, "Campaign."),
        Column("amount", DOUBLE, True, "Spend excl. VAT, >= 0.", not_empty=True),
        Column("currency", VARCHAR, False, "ISO currency; default the shop currency."),
    ),
)

TABLES: tuple[Table, ...] = (ORDERS, ORDER_LINES, REFUNDS, CUSTOMERS, PRODUCTS, MARKETING_SPEND)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def markdown() -> str:
    """The contract as Markdown (tests/test_readme.py keeps docs/raw_contract.md in sync)."""
    parts: list[str] = []
    for table in TABLES:
        need = "required" if table.required else "optional"
        key = f"key `{table.primary_key}`" if table.primary_key else "no key"
        parts.append(f"**`{table.name}`** ({need} table; {key}). {table.description}\n")
        parts.append("| column | type | required | meaning |")
        parts.append("|---|---|---|---|")
        for c in table.columns:
            need = "yes, never empty" if c.not_empty else "yes" if c.required else ""
            parts.append(f"| `{c.name}` | {c.type} | {need} | {c.description} |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"
