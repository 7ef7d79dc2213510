"""The benchmark's peer: the core customer outputs the way an analyst writes them in pandas.

This is what the warehouse replaces: a notebook that reads the raw parquet exports and
computes, with vectorised pandas (no SQL, no dbt),

* ``customers``: one row per customer with a valid order: first order date, cohort month,
  valid order count, net revenue to date, LTV 182 / 365 days;
* ``retention``: cohort month x months since first order: cohort size and active customers
  (customers of the cohort with a valid order in calendar month ``cohort_month + k``);
* ``customer_base``: per calendar month, buyers split into new / returning / reactivated.

It applies the project's revenue rules from their written definitions (README glossary,
``docs/performance.md``), not from the models' SQL: VAT backed out per line when prices
include it, line discounts capped at the line, gifts as a 100% discount, refunds attributed
to their line (order-level refunds spread pro rata to what each line paid) and capped per
line in date order, one validity rule (completed, identity resolved, shop currency, dated
on or before ``as_of_date``, gross - discounts > 0), identity by customer id, else the
registered customer owning the normalised email, else a guest identity per email.

Definitions of the two tables the core marts do not hold yet:

* LTV N days = net revenue (gross - discounts - returns, excl. VAT) of the customer's valid
  orders dated in days 0..N-1 after the first valid order date; null unless
  ``as_of_date - first_order_date >= N - 1`` (the window is complete).
* month M buyers = customers with a valid order dated in M (reporting timezone). New: M is
  their cohort month. Returning: not new and they had a valid order in one of the 12
  calendar months M-12..M-1. Reactivated: not new, no valid order in M-12..M-1 (Hillstrom's
  lapsed-buyer rule at a monthly grain; definitions.md). The three partition the buyers.

Run as ``python -m dtc_economics.bench_peer --raw-dir DIR --out DIR``: writes
``customers.parquet``, ``retention.parquet`` and ``customer_base.parquet`` to ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPORTING_TZ = "Europe/Paris"
SHOP_CURRENCY = "EUR"
DEFAULT_TAX_RATE = 0.20
DEFAULT_PRICES_INCLUDE_TAX = True
LTV_WINDOWS = (182, 365)
RETURNING_WINDOW_MONTHS = 12


def _clean(values: pd.Series) -> pd.Series:
    """Trimmed text, empty -> missing (what the exports mean by an empty field)."""
    stripped = values.astype("str").str.strip()
    return stripped.mask(stripped == "")


def _month_index(dates: pd.Series) -> pd.Series:
    """Months since year 0 (so that differences are whole calendar months)."""
    return dates.dt.year * 12 + dates.dt.month - 1


def _read(raw_dir: Path, table: str, columns: list[str]) -> pd.DataFrame:
    path = raw_dir / f"{table}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path}: the peer reads parquet stores (generator --format)")
    return pd.read_parquet(path, columns=columns)


def load_orders(raw_dir: Path) -> pd.DataFrame:
    """Orders with identity, local order date and the normalised status fields."""
    orders = _read(
        raw_dir,
        "orders",
        ["order_id", "customer_id", "customer_email", "ordered_at", "status", "currency",
         "prices_include_tax"],
    )  # fmt: skip
    orders["customer_id"] = _clean(orders["customer_id"])
    orders["email"] = _clean(orders["customer_email"]).str.lower()
    orders["status"] = _clean(orders["status"]).str.lower().fillna("completed")
    orders["currency"] = _clean(orders["currency"]).str.upper().fillna(SHOP_CURRENCY)
    orders["prices_include_tax"] = (
        orders["prices_include_tax"].astype("boolean").fillna(DEFAULT_PRICES_INCLUDE_TAX)
    ).astype(bool)
    local = orders["ordered_at"].dt.tz_localize("UTC").dt.tz_convert(REPORTING_TZ)
    orders["order_date"] = local.dt.tz_localize(None).dt.normalize()

    # identity: id, else the registered customer owning the email, else a guest per email
    customers = _read(raw_dir, "customers", ["customer_id", "email"])
    customers["email"] = _clean(customers["email"]).str.lower()
    known = pd.concat(
        [
            customers.loc[customers["email"].notna(), ["email", "customer_id"]],
            orders.loc[
                orders["email"].notna() & orders["customer_id"].notna(), ["email", "customer_id"]
            ],
        ]
    )
    owners = known.groupby("email")["customer_id"].min()
    guests = orders["customer_id"].isna() & orders["email"].notna()
    owner = orders.loc[guests, "email"].map(owners)
    unowned = owner[owner.isna()].index
    guest_emails = orders.loc[unowned, "email"]
    hashes = {e: "guest_" + hashlib.md5(e.encode()).hexdigest() for e in guest_emails.unique()}
    owner.loc[unowned] = guest_emails.map(hashes)
    orders["person"] = orders["customer_id"]
    orders.loc[owner.index, "person"] = owner
    return orders.drop(columns=["customer_email"])


def price_lines(raw_dir: Path, orders: pd.DataFrame) -> pd.DataFrame:
    """Order lines with paid amount, VAT divisor, gross sales and discounts excl. VAT."""
    lines = _read(
        raw_dir,
        "order_lines",
        ["order_line_id", "order_id", "quantity", "unit_price", "discount_amount", "tax_rate",
         "is_gift"],
    )  # fmt: skip
    lines = lines.merge(orders[["order_id", "prices_include_tax"]], on="order_id")
    is_gift = lines["is_gift"].astype("boolean").fillna(False).astype(bool).to_numpy()
    list_amount = (lines["unit_price"] * lines["quantity"]).to_numpy()
    discount = np.where(
        is_gift, list_amount, np.minimum(lines["discount_amount"].fillna(0.0), list_amount)
    )
    tax_rate = lines["tax_rate"].fillna(DEFAULT_TAX_RATE).to_numpy()
    divisor = np.where(lines["prices_include_tax"].to_numpy(), 1 + tax_rate, 1.0)
    lines["paid"] = list_amount - discount
    lines["divisor"] = divisor
    lines["gross_sales"] = list_amount / divisor
    lines["discounts"] = discount / divisor
    return lines[["order_line_id", "order_id", "paid", "divisor", "gross_sales", "discounts"]]


def order_returns(raw_dir: Path, lines: pd.DataFrame) -> pd.Series:
    """Returns excl. VAT per order: refunds allocated to lines, capped per line in date order."""
    refunds = _read(
        raw_dir, "refunds", ["refund_id", "order_id", "order_line_id", "refunded_at", "amount"]
    )
    refunds["order_line_id"] = _clean(refunds["order_line_id"])
    on_line = refunds[refunds["order_line_id"].notna()]

    # order-level refunds: spread over the order's lines pro rata to what each line paid
    whole = refunds[refunds["order_line_id"].isna()].drop(columns="order_line_id")
    per_order = lines.groupby("order_id")["paid"].agg(order_paid="sum", order_lines="size")
    spread = whole.merge(per_order, on="order_id").merge(
        lines[["order_id", "order_line_id", "paid"]], on="order_id"
    )
    spread["amount"] = np.where(
        spread["order_paid"] > 0,
        spread["amount"] * spread["paid"] / spread["order_paid"],
        spread["amount"] / spread["order_lines"],
    )
    pieces = pd.concat(
        [on_line, spread[["refund_id", "order_id", "order_line_id", "refunded_at", "amount"]]]
    )
    pieces = pieces.merge(lines[["order_line_id", "paid", "divisor"]], on="order_line_id")

    # cap: what was refunded before on the line (date order) eats the room left
    pieces = pieces.sort_values(["order_line_id", "refunded_at", "refund_id"])
    refunded_before = (pieces.groupby("order_line_id")["amount"].cumsum() - pieces["amount"]).clip(
        lower=0
    )
    recognised = np.minimum(pieces["amount"], pieces["paid"] - refunded_before).clip(lower=0)
    pieces["returns"] = recognised / pieces["divisor"]
    return pieces.groupby("order_id")["returns"].sum()


def valid_orders(raw_dir: Path) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Valid orders with person, order date and net revenue; and the as-of date."""
    orders = load_orders(raw_dir)
    lines = price_lines(raw_dir, orders)
    totals = lines.groupby("order_id")[["gross_sales", "discounts"]].sum()
    orders = orders.join(totals, on="order_id")
    orders[["gross_sales", "discounts"]] = orders[["gross_sales", "discounts"]].fillna(0.0)
    orders["returns"] = orders["order_id"].map(order_returns(raw_dir, lines)).fillna(0.0)
    orders["net_revenue"] = orders["gross_sales"] - orders["discounts"] - orders["returns"]

    as_of = orders.loc[orders["status"] == "completed", "order_date"].max()
    valid = (
        (orders["status"] == "completed")
        & orders["person"].notna()
        & (orders["currency"] == SHOP_CURRENCY)
        & (orders["order_date"] <= as_of)
        & (orders["gross_sales"] - orders["discounts"] > 0)
    )
    columns = ["order_id", "person", "ordered_at", "order_date", "net_revenue"]
    return orders.loc[valid, columns].copy(), as_of


def customers_table(valid: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per customer: first order date, cohort, orders, net revenue, LTV 182 / 365."""
    first = valid.sort_values(["person", "ordered_at", "order_id"]).drop_duplicates("person")
    customers = first.set_index("person")[["order_date"]].rename(
        columns={"order_date": "first_order_date"}
    )
    customers["cohort_month"] = customers["first_order_date"].dt.to_period("M").dt.start_time
    per_person = valid.groupby("person")["net_revenue"].agg(order_count="size", net_revenue="sum")
    customers = customers.join(per_person)

    days = (valid["order_date"] - valid["person"].map(customers["first_order_date"])).dt.days
    observed = (as_of - customers["first_order_date"]).dt.days
    for n in LTV_WINDOWS:
        in_window = valid["net_revenue"].where(days < n, 0.0)
        ltv = in_window.groupby(valid["person"]).sum()
        customers[f"ltv_{n}d"] = ltv.where(observed >= n - 1)
    customers.index.name = "customer_id"
    return customers.reset_index()


def retention_triangle(valid: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Cohort month x months since first order: cohort size and active customers."""
    cohort = customers.set_index("customer_id")["cohort_month"]
    activity = pd.DataFrame(
        {
            "person": valid["person"],
            "cohort_month": valid["person"].map(cohort),
            "order_month": valid["order_date"].dt.to_period("M").dt.start_time,
        }
    ).drop_duplicates()
    activity["months_since_first_order"] = _month_index(activity["order_month"]) - _month_index(
        activity["cohort_month"]
    )
    triangle = (
        activity.groupby(["cohort_month", "months_since_first_order"])["person"]
        .nunique()
        .rename("active_customers")
        .reset_index()
    )
    sizes = customers.groupby("cohort_month").size().rename("cohort_size")
    return triangle.join(sizes, on="cohort_month")


def customer_base(valid: pd.DataFrame) -> pd.DataFrame:
    """Per month: buyers, new, returning (bought in M-12..M-1), reactivated."""
    months = pd.DataFrame(
        {
            "person": valid["person"],
            "month": valid["order_date"].dt.to_period("M").dt.start_time,
        }
    ).drop_duplicates()
    months = months.sort_values(["person", "month"])
    index = _month_index(months["month"])
    gap = index - index.groupby(months["person"]).shift()
    months["kind"] = np.select(
        [gap.isna(), gap <= RETURNING_WINDOW_MONTHS],
        ["new_customers", "returning_customers"],
        "reactivated_customers",
    )
    base = months.groupby(["month", "kind"]).size().unstack(fill_value=0)
    for kind in ("new_customers", "returning_customers", "reactivated_customers"):
        if kind not in base:
            base[kind] = 0
    base["buyers"] = base[["new_customers", "returning_customers", "reactivated_customers"]].sum(
        axis=1
    )
    base.columns.name = None
    return base.reset_index()[
        ["month", "buyers", "new_customers", "returning_customers", "reactivated_customers"]
    ]


def compute(raw_dir: Path) -> dict[str, pd.DataFrame]:
    """All three outputs from a raw parquet store."""
    valid, as_of = valid_orders(raw_dir)
    customers = customers_table(valid, as_of)
    return {
        "customers": customers,
        "retention": retention_triangle(valid, customers),
        "customer_base": customer_base(valid),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, required=True, help="raw parquet store")
    parser.add_argument("--out", type=Path, required=True, help="folder for the outputs")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    outputs = compute(args.raw_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in outputs.items():
        frame.to_parquet(args.out / f"{name}.parquet", index=False)
    print(
        f"peer: {len(outputs['customers']):,} customers in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
