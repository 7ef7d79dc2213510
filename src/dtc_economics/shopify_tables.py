"""The Shopify connector tables this project reads (docs/sources/shopify.md).

Names follow the Fivetran Shopify connector schema (the one ``fivetran/dbt_shopify`` reads);
only the columns our staging models read are listed. ``load_shopify`` checks a folder against
this list and ``shopify_convert`` writes it; ``models/staging/shopify/_shopify__sources.yml``
declares the same tables and columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ShopifyTable:
    name: str
    required: bool
    # columns the staging models read; a file without one of them is refused
    columns: tuple[str, ...]
    # read when present, added as NULL when absent
    optional_columns: tuple[str, ...] = ()
    timestamps: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    key: str | None = None
    # column -> (parent table, parent column); a non-empty value must exist in the parent
    references: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def all_columns(self) -> tuple[str, ...]:
        return self.columns + self.optional_columns


TABLES: tuple[ShopifyTable, ...] = (
    ShopifyTable(
        "order",
        True,
        (
            "id",
            "email",
            "customer_id",
            "created_at",
            "cancelled_at",
            "test",
            "currency",
            "taxes_included",
        ),
        ("source_name", "_fivetran_deleted"),
        timestamps=("created_at", "cancelled_at"),
        key="id",
    ),
    ShopifyTable(
        "order_line",
        True,
        ("id", "order_id", "product_id", "quantity", "price", "total_discount"),
        ("taxable", "variant_id"),
        numbers=("quantity", "price", "total_discount"),
        key="id",
        references={"order_id": ("order", "id")},
    ),
    ShopifyTable(
        "tax_line",
        False,
        ("order_line_id", "rate"),
        ("index",),
        numbers=("rate",),
        references={"order_line_id": ("order_line", "id")},
    ),
    ShopifyTable(
        "order_shipping_line",
        False,
        ("order_id", "price"),
        ("id", "discounted_price"),
        numbers=("price", "discounted_price"),
        references={"order_id": ("order", "id")},
    ),
    ShopifyTable(
        "order_discount_code",
        False,
        ("order_id", "code"),
        ("index", "amount"),
        numbers=("amount",),
        references={"order_id": ("order", "id")},
    ),
    ShopifyTable(
        "order_url_tag",
        False,
        ("order_id", "key", "value"),
        references={"order_id": ("order", "id")},
    ),
    ShopifyTable(
        "refund",
        False,
        ("id", "order_id", "created_at"),
        ("note",),
        timestamps=("created_at",),
        key="id",
        references={"order_id": ("order", "id")},
    ),
    ShopifyTable(
        "order_line_refund",
        False,
        ("id", "refund_id", "order_line_id", "quantity", "subtotal"),
        ("total_tax", "restock_type"),
        numbers=("quantity", "subtotal", "total_tax"),
        key="id",
        references={"refund_id": ("refund", "id"), "order_line_id": ("order_line", "id")},
    ),
    ShopifyTable(
        "order_adjustment",
        False,
        ("id", "order_id", "refund_id", "amount"),
        ("tax_amount", "kind", "reason"),
        numbers=("amount", "tax_amount"),
        key="id",
        references={"refund_id": ("refund", "id"), "order_id": ("order", "id")},
    ),
    ShopifyTable(
        "customer",
        False,
        ("id", "email", "created_at"),
        ("_fivetran_deleted",),
        timestamps=("created_at",),
        key="id",
    ),
    ShopifyTable(
        "customer_address",
        False,
        ("customer_id", "country_code"),
        ("id", "is_default"),
    ),
    ShopifyTable(
        "product",
        False,
        ("id", "title"),
        ("product_type", "_fivetran_deleted"),
        key="id",
    ),
    # unit cost: variant -> inventory_item.cost (current cost per unit, issue 15)
    ShopifyTable(
        "product_variant",
        False,
        ("id", "product_id"),
        ("inventory_item_id", "sku", "price", "_fivetran_deleted"),
        numbers=("price",),
    ),
    ShopifyTable("inventory_item", False, ("id",), ("cost",), numbers=("cost",), key="id"),
    # loaded when present, not read by the marts today (docs/sources/shopify.md)
    ShopifyTable(
        "transaction",
        False,
        ("id", "order_id"),
        ("refund_id", "kind", "status", "amount", "currency", "created_at"),
        timestamps=("created_at",),
    ),
)

BY_NAME: dict[str, ShopifyTable] = {t.name: t for t in TABLES}
