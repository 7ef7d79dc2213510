"""fct_orders, fct_order_lines and dim_customers against an independent pandas computation.

The reference below is written from the definitions (doc blocks in
models/marts/core/_core__docs.md and the README glossary), straight from the raw fixture
files, row by row where the SQL works set-wise (e.g. refunds are capped by walking each
line's refunds in date order). Every column of fct_orders and dim_customers is compared.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "tests" / "fixtures" / "store_small"
SEEDS = ROOT / "seeds"
TZ = "Europe/Paris"
SHOP_CURRENCY = "EUR"
DEFAULT_TAX_RATE = 0.20
PROMO_THRESHOLD = 0.40


def _blank_to_na(df: pd.DataFrame) -> pd.DataFrame:
    out = df.astype(object)
    for column in out.columns:
        stripped = out[column].map(lambda v: v.strip() if isinstance(v, str) else v)
        out[column] = stripped.map(lambda v: pd.NA if v == "" else v)
    return out


def read_raw(table: str) -> pd.DataFrame:
    return _blank_to_na(pd.read_csv(RAW / f"{table}.csv", dtype=str, keep_default_na=False))


def to_bool(value: object, default: bool) -> bool:
    if pd.isna(value):
        return default
    return str(value).strip().lower() in {"true", "1", "yes", "t", "y"}


def md5_email(value: object) -> str | None:
    if pd.isna(value) or not str(value).strip():
        return None
    return hashlib.md5(str(value).strip().lower().encode()).hexdigest()


def utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True, format="ISO8601")


def local_date(ts_utc: pd.Series) -> pd.Series:
    return ts_utc.dt.tz_convert(TZ).dt.tz_localize(None).dt.normalize()


def channel_of(source: object, medium: object, mapping: pd.DataFrame) -> str:
    src = None if pd.isna(source) else str(source).strip().lower() or None
    med = None if pd.isna(medium) else str(medium).strip().lower() or None
    if src is None and med is None:
        return "direct"
    rules = {(r.utm_source, r.utm_medium): r.channel for r in mapping.itertuples()}
    for key in ((src, med), (src, "*"), ("*", med)):
        if key in rules:
            return rules[key]
    return "unknown"


@pytest.fixture(scope="module")
def reference() -> dict[str, pd.DataFrame]:
    orders = read_raw("orders")
    lines = read_raw("order_lines")
    refunds = read_raw("refunds")
    customers = read_raw("customers")
    products = read_raw("products")
    mapping = pd.read_csv(SEEDS / "channel_mapping.csv", dtype=str)
    bfcm = pd.read_csv(SEEDS / "bfcm_windows.csv", parse_dates=["window_start", "window_end"])

    # --- lines: revenue ladder excl. VAT -------------------------------------------------
    incl_tax = {r.order_id: to_bool(r.prices_include_tax, True) for r in orders.itertuples()}
    lines["quantity"] = lines["quantity"].astype(int)
    lines["unit_price"] = lines["unit_price"].astype(float)
    lines["discount_amount"] = lines["discount_amount"].fillna("0").astype(float)
    lines["tax_rate"] = lines["tax_rate"].fillna(str(DEFAULT_TAX_RATE)).astype(float)
    lines["is_gift"] = [to_bool(v, False) for v in lines["is_gift"]]
    list_amount = lines["unit_price"] * lines["quantity"]
    discount = np.where(
        lines["is_gift"], list_amount, np.minimum(lines["discount_amount"], list_amount)
    )
    divisor = np.where(lines["order_id"].map(incl_tax), 1 + lines["tax_rate"], 1.0)
    lines["paid"] = list_amount - discount
    lines["divisor"] = divisor
    lines["gross_sales"] = list_amount / divisor
    lines["discounts"] = discount / divisor
    lines["gifted_value"] = np.where(lines["is_gift"], list_amount / divisor, 0.0)
    lines["non_gift_gross"] = np.where(lines["is_gift"], 0.0, list_amount / divisor)
    lines["non_gift_discounts"] = np.where(lines["is_gift"], 0.0, discount / divisor)

    # --- refunds: allocate to lines, then cap each line in date order ---------------------
    refunds["amount"] = refunds["amount"].astype(float)
    refunds["refunded_at"] = utc(refunds["refunded_at"])
    pieces = []
    by_order = {k: g for k, g in lines.groupby("order_id")}
    for r in refunds.itertuples():
        if not pd.isna(r.order_line_id):
            pieces.append((r.refund_id, r.order_line_id, r.refunded_at, r.amount))
            continue
        order_lines = by_order.get(r.order_id)
        if order_lines is None:
            continue
        total_paid = order_lines["paid"].sum()
        for line in order_lines.itertuples():
            share = line.paid / total_paid if total_paid > 0 else 1 / len(order_lines)
            pieces.append((r.refund_id, line.order_line_id, r.refunded_at, r.amount * share))
    line_index = lines.set_index("order_line_id")
    returns = dict.fromkeys(lines["order_line_id"], 0.0)
    excess = dict.fromkeys(lines["order_line_id"], 0.0)
    for line_id, group in pd.DataFrame(
        pieces, columns=["refund_id", "line", "at", "amount"]
    ).groupby("line"):
        room = line_index.at[line_id, "paid"]
        div = line_index.at[line_id, "divisor"]
        for piece in group.sort_values(["at", "refund_id"]).itertuples():
            recognised = max(0.0, min(piece.amount, room))
            room -= recognised
            returns[line_id] += recognised / div
            excess[line_id] += (piece.amount - recognised) / div
    lines["returns"] = lines["order_line_id"].map(returns)
    lines["refund_excess"] = lines["order_line_id"].map(excess)
    lines["net_revenue"] = lines["gross_sales"] - lines["discounts"] - lines["returns"]

    # --- orders: identity, validity, sequence ---------------------------------------------
    orders["email_hash"] = orders["customer_email"].map(md5_email)
    owners: dict[str, str] = {}
    for email, cid in list(
        zip(customers["email"].map(md5_email), customers["customer_id"], strict=True)
    ) + [
        (h, c)
        for h, c in zip(orders["email_hash"], orders["customer_id"], strict=True)
        if not pd.isna(h) and not pd.isna(c)
    ]:
        if not pd.isna(email):
            owners[email] = min(owners.get(email, cid), cid)

    def identity(row: pd.Series) -> tuple[object, str]:
        if not pd.isna(row.customer_id):
            return row.customer_id, "customer_id"
        if pd.isna(row.email_hash):
            return None, "none"
        if row.email_hash in owners:
            return owners[row.email_hash], "email_matched"
        return f"guest_{row.email_hash}", "guest_email"

    ident = orders.apply(identity, axis=1, result_type="expand")
    orders["resolved_customer_id"], orders["identity_source"] = ident[0], ident[1]
    orders["ordered_at"] = utc(orders["ordered_at"])
    orders["order_date"] = local_date(orders["ordered_at"])
    orders["status"] = orders["status"].str.lower().fillna("completed")
    orders["currency"] = orders["currency"].str.upper().fillna(SHOP_CURRENCY)
    totals = lines.groupby("order_id")[
        [
            "gross_sales",
            "discounts",
            "gifted_value",
            "returns",
            "net_revenue",
            "refund_excess",
            "non_gift_gross",
            "non_gift_discounts",
            "quantity",
        ]
    ].sum()
    totals["line_count"] = lines.groupby("order_id").size()
    orders = orders.join(totals, on="order_id")
    as_of = orders.loc[orders["status"] == "completed", "order_date"].max()

    def reason(row: pd.Series) -> object:
        if row.status == "cancelled":
            return "cancelled"
        if row.status == "test":
            return "test"
        if row.status != "completed":
            return "unknown_status"
        if pd.isna(row.resolved_customer_id):
            return "no_identity"
        if row.currency != SHOP_CURRENCY:
            return "foreign_currency"
        if row.order_date > as_of:
            return "after_as_of_date"
        if row.gross_sales - row.discounts <= 0:
            return "zero_value"
        return None

    orders["invalid_reason"] = orders.apply(reason, axis=1)
    orders["is_valid_order"] = orders["invalid_reason"].isna()
    valid = orders[orders["is_valid_order"]].sort_values(
        ["resolved_customer_id", "ordered_at", "order_id"]
    )
    orders["order_sequence"] = valid.groupby("resolved_customer_id").cumcount() + 1
    prev = valid.groupby("resolved_customer_id")["order_date"].shift()
    orders["days_since_previous_order"] = (valid["order_date"] - prev).dt.days
    orders["channel"] = [
        channel_of(s, m, mapping)
        for s, m in zip(orders["utm_source"], orders["utm_medium"], strict=True)
    ]
    orders["is_bfcm_order"] = [
        bool(((bfcm.window_start <= d) & (d <= bfcm.window_end)).any())
        for d in orders["order_date"]
    ]
    # depth is defined to 6 decimals, so band boundaries (exactly 20% / 40% off) hold
    orders["discount_depth"] = np.where(
        orders["non_gift_gross"] > 0,
        (orders["non_gift_discounts"] / orders["non_gift_gross"]).round(6),
        0,
    )

    # --- customers: first-order semantics -------------------------------------------------
    valid = orders[orders["is_valid_order"]]
    first = valid[valid["order_sequence"] == 1].set_index("resolved_customer_id")
    second = valid[valid["order_sequence"] == 2].set_index("resolved_customer_id")
    agg = valid.groupby("resolved_customer_id").agg(
        order_count=("order_id", "size"),
        net_revenue=("net_revenue", "sum"),
        gross_sales=("gross_sales", "sum"),
        last_order_date=("order_date", "max"),
    )
    first_lines = lines[lines["order_id"].isin(first["order_id"]) & ~lines["is_gift"]].copy()
    first_lines["value"] = first_lines["gross_sales"] - first_lines["discounts"]
    first_lines = first_lines.sort_values(
        ["order_id", "value", "product_id", "order_line_id"], ascending=[True, False, True, True]
    ).drop_duplicates("order_id")
    first_product = dict(zip(first_lines["order_id"], first_lines["product_id"], strict=True))
    category = dict(zip(products["product_id"], products["category"].str.lower(), strict=True))
    dim = pd.DataFrame(index=first.index)
    dim["first_order_id"] = first["order_id"]
    dim["first_order_date"] = first["order_date"]
    dim["cohort_month"] = first["order_date"].dt.to_period("M").dt.to_timestamp()
    dim["acquisition_channel"] = first["channel"]
    dim["is_bfcm_acquired"] = first["is_bfcm_order"]
    depth = first["discount_depth"]
    dim["first_order_discount_band"] = np.select(
        [depth <= 0, depth < 0.2, depth < 0.4], ["none", "lt_20", "20_to_40"], "gte_40"
    )
    dim["first_order_offer_type"] = np.select(
        [depth >= PROMO_THRESHOLD, depth > 0], ["promo", "discounted"], "full_price"
    )
    dim["first_product_id"] = first["order_id"].map(first_product)
    dim["first_product_category"] = dim["first_product_id"].map(category)
    dim["first_order_net_revenue"] = first["net_revenue"]
    dim = dim.join(agg)
    dim["second_order_date"] = second["order_date"]
    dim["days_to_second_order"] = (dim["second_order_date"] - dim["first_order_date"]).dt.days
    dim["days_since_last_order"] = (as_of - dim["last_order_date"]).dt.days
    return {"orders": orders.set_index("order_id"), "lines": lines, "customers": dim}


def _mart(con, sql: str, index: str) -> pd.DataFrame:
    return con.execute(sql).df().set_index(index)


# Money is DECIMAL(18,4) (type_money): each line amount excl. VAT is rounded to 4 decimals
# once (gross, net before returns; discounts is their difference; returns round the running
# total), so a mart amount may differ from the exact (float) reference by at most 0.0001 per
# order line it sums; float noise stays at 1e-6.
MONEY_ATOL_PER_LINE = 1e-4


def _money_atol(lines: pd.Series) -> pd.Series:
    """Tolerance per row: 1e-6 float noise + 0.0001 per order line summed into the row."""
    return 1e-6 + MONEY_ATOL_PER_LINE * lines.fillna(0).clip(lower=1)


def _assert_close(
    actual: pd.Series, expected: pd.Series, name: str, atol: float | pd.Series = 1e-6
) -> None:
    expected = expected.reindex(actual.index)
    if isinstance(atol, pd.Series):
        atol = atol.reindex(actual.index).fillna(1e-6).to_numpy(float)
    if pd.api.types.is_numeric_dtype(expected) or pd.api.types.is_numeric_dtype(actual):
        a = pd.to_numeric(actual, errors="coerce").astype(float)
        e = pd.to_numeric(expected, errors="coerce").astype(float)
        both_nan = a.isna() & e.isna()
        bad = ~both_nan & ~(np.abs(a - e) <= atol)
    else:
        a, e = actual.astype(object), expected.astype(object)
        both_na = a.isna() & e.isna()
        bad = ~both_na & (a.astype(str) != e.astype(str))
    assert not bad.any(), f"{name}: {int(bad.sum())} differences, e.g.\n" + str(
        pd.DataFrame({"mart": actual[bad], "reference": expected[bad]}).head()
    )


def test_orders_every_row_present(fixture_db, reference):
    mart = _mart(fixture_db, "select order_id from marts.fct_orders", "order_id")
    assert sorted(mart.index) == sorted(reference["orders"].index)


MONEY_COLUMNS = {
    "gross_sales",
    "discounts",
    "gifted_value",
    "returns",
    "net_revenue",
    "refund_excess",
    "first_order_net_revenue",
}


@pytest.mark.parametrize(
    ("column", "ref_column"),
    [
        ("customer_id", "resolved_customer_id"),
        ("identity_source", "identity_source"),
        ("order_date", "order_date"),
        ("is_valid_order", "is_valid_order"),
        ("invalid_reason", "invalid_reason"),
        ("order_sequence", "order_sequence"),
        ("days_since_previous_order", "days_since_previous_order"),
        ("channel", "channel"),
        ("is_bfcm_order", "is_bfcm_order"),
        ("line_count", "line_count"),
        ("units", "quantity"),
        ("gross_sales", "gross_sales"),
        ("discounts", "discounts"),
        ("gifted_value", "gifted_value"),
        ("returns", "returns"),
        ("net_revenue", "net_revenue"),
        ("refund_excess", "refund_excess"),
        ("discount_depth", "discount_depth"),
    ],
)
def test_fct_orders_column_matches_reference(fixture_db, reference, column, ref_column):
    mart = _mart(fixture_db, f"select order_id, {column} from marts.fct_orders", "order_id")
    expected = reference["orders"][ref_column]
    if column in {
        "line_count",
        "units",
        "gross_sales",
        "discounts",
        "gifted_value",
        "returns",
        "net_revenue",
        "refund_excess",
    }:
        expected = expected.fillna(0)
    atol: float | pd.Series = 1e-6
    if column in MONEY_COLUMNS:
        atol = _money_atol(reference["orders"]["line_count"])
    if column == "order_date":
        mart[column] = pd.to_datetime(mart[column])
    _assert_close(mart[column], expected, f"fct_orders.{column}", atol)


def test_fct_order_lines_ladder_matches_reference(fixture_db, reference):
    mart = _mart(
        fixture_db,
        "select order_line_id, gross_sales, discounts, gifted_value, returns, net_revenue "
        "from marts.fct_order_lines",
        "order_line_id",
    )
    expected = reference["lines"].set_index("order_line_id")
    for column in mart.columns:
        _assert_close(
            mart[column], expected[column], f"fct_order_lines.{column}", 1e-6 + MONEY_ATOL_PER_LINE
        )


@pytest.mark.parametrize(
    "column",
    [
        "first_order_id",
        "first_order_date",
        "cohort_month",
        "acquisition_channel",
        "is_bfcm_acquired",
        "first_order_discount_band",
        "first_order_offer_type",
        "first_product_id",
        "first_product_category",
        "first_order_net_revenue",
        "order_count",
        "net_revenue",
        "gross_sales",
        "second_order_date",
        "days_to_second_order",
        "last_order_date",
        "days_since_last_order",
    ],
)
def test_dim_customers_column_matches_reference(fixture_db, reference, column):
    mart = _mart(
        fixture_db, f"select customer_id, {column} from marts.dim_customers", "customer_id"
    )
    expected = reference["customers"][column]
    assert sorted(mart.index) == sorted(expected.index)
    if "date" in column or column == "cohort_month":
        mart[column] = pd.to_datetime(mart[column])
    atol: float | pd.Series = 1e-6
    if column in MONEY_COLUMNS:
        orders = reference["orders"]
        valid = orders[orders["is_valid_order"].astype(bool)]
        first = valid[valid["order_sequence"] == 1]
        lines = (
            first.groupby("resolved_customer_id")["line_count"].sum()
            if column == "first_order_net_revenue"
            else valid.groupby("resolved_customer_id")["line_count"].sum()
        )
        atol = _money_atol(lines)
    _assert_close(mart[column], expected, f"dim_customers.{column}", atol)


def test_fixture_covers_the_edge_cases(reference):
    """The comparison above only means something if the fixture has the hard cases."""
    orders = reference["orders"]
    lines = reference["lines"]
    assert {"cancelled", "test", "zero_value", "no_identity"} <= set(
        orders["invalid_reason"].dropna()
    )
    assert {"email_matched", "guest_email"} <= set(orders["identity_source"])
    assert lines["is_gift"].any()
    assert (lines["refund_excess"] > 0).any()
    assert (orders["channel"] == "unknown").any() and (orders["channel"] == "direct").any()
    valid = orders[orders["is_valid_order"]]
    ties = valid.groupby(["resolved_customer_id", "ordered_at"]).size()
    assert (ties > 1).any(), "no customer with two orders at the same timestamp"
