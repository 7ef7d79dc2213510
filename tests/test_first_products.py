"""First-product performance and RFM: marts against an independent pandas computation.

On the small fixture store, the first-product table (customers, repeat rates within 90 /
180 / 365 days with Wilson intervals, LTV 365 days excl. the first order, observed median
days to second order and its Kaplan-Meier quartiles, same-product repeat share, discount
depth, min-sample flag, by product and category within every stratum) and the RFM scores,
segments and segment movements are recomputed from the order-level marts (fct_orders,
fct_order_lines) with pandas, from the definitions in the README glossary, and compared
with the marts. On the generated demo store, the planted high-repeat consumables (category
'refill') must rank above the one-shot gadgets, also within every first-order offer type.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from test_cohorts import kaplan_meier_quantiles

ROOT = Path(__file__).resolve().parents[1]
VARS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
Z = float(VARS["wilson_z"])
MIN_CUSTOMERS = int(VARS["first_product_min_customers"])
PROMO_THRESHOLD = float(VARS["promo_discount_threshold"])
SNAPSHOT_MONTHS = int(VARS["rfm_snapshot_months"])
WINDOWS = (90, 180, 365)
SEGMENTS = (
    "champions",
    "loyal",
    "promising",
    "new",
    "needs_attention",
    "at_risk",
    "hibernating",
    "lost",
)
TOL = 1e-9


# --------------------------------------------------------------------------------------
# Independent computations
# --------------------------------------------------------------------------------------


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    """The first column of the first row of a query."""
    rows = con.execute(sql).fetchall()
    assert rows
    return rows[0][0]


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """Wilson score interval as the two roots of |p_hat - p| = z sqrt(p (1 - p) / n).

    Squared: (1 + z^2/n) p^2 - (2 p_hat + z^2/n) p + p_hat^2 = 0, solved with numpy (a
    different route from the closed form the SQL macro uses).
    """
    if trials == 0:
        return (math.nan, math.nan)
    p_hat, zz = successes / trials, Z * Z / trials
    roots = np.roots([1 + zz, -(2 * p_hat + zz), p_hat * p_hat]).real
    return (float(max(roots.min(), 0.0)), float(min(roots.max(), 1.0)))


def valid_orders(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Valid orders with their sequence recomputed (ordered_at, then order_id)."""
    orders = con.sql(
        """
        select order_id, customer_id, ordered_at, order_date, channel, discount_depth,
            net_revenue, order_sequence, purchase_type
        from marts.fct_orders
        where is_valid_order
        """
    ).df()
    orders = orders.sort_values(["customer_id", "ordered_at", "order_id"])
    orders["sequence"] = orders.groupby("customer_id").cumcount() + 1
    assert (orders["sequence"] == orders["order_sequence"]).all()
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    return orders


def customer_table(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per customer: first product and first-order segments, windows, repeat."""
    as_of = pd.Timestamp(scalar(con, "select as_of_date from intermediate.int_as_of_date"))
    orders = valid_orders(con)
    lines = con.sql(
        """
        select order_line_id, order_id, product_id, is_gift, net_sales_before_returns
        from marts.fct_order_lines
        where is_valid_order
        """
    ).df()
    categories = con.sql("select product_id, product_category from staging.stg_shop__products").df()

    first = orders[orders["sequence"] == 1].set_index("customer_id")
    # first product: the first order's highest-value paid line, ties by product id, line id
    paid_first_lines = lines[~lines["is_gift"] & lines["order_id"].isin(first["order_id"])]
    paid_first_lines = paid_first_lines.sort_values(
        ["order_id", "net_sales_before_returns", "product_id", "order_line_id"],
        ascending=[True, False, True, True],
    )
    first_product = paid_first_lines.groupby("order_id")["product_id"].first()

    customers = pd.DataFrame(index=first.index)
    customers["first_product_id"] = first["order_id"].map(first_product)
    customers = customers.join(
        categories.set_index("product_id")["product_category"], on="first_product_id"
    )
    customers["first_product_category"] = customers["product_category"].fillna("uncategorised")
    depth = first["discount_depth"]
    customers["offer_type"] = np.where(
        depth >= PROMO_THRESHOLD, "promo", np.where(depth > 0, "discounted", "full_price")
    )
    customers["acquisition_channel"] = first["channel"]
    customers["cohort_year"] = first["order_date"].dt.year.astype(str)
    customers["discount_depth"] = depth
    # plan-type axis: any valid subscription order as of as_of_date ('true' / 'false')
    subscribers = set(orders.loc[orders["purchase_type"] == "subscription", "customer_id"])
    customers["is_subscriber"] = np.where(customers.index.isin(subscribers), "true", "false")

    orders = orders.join(first["order_date"].rename("first_order_date"), on="customer_id")
    orders["day"] = (orders["order_date"] - orders["first_order_date"]).dt.days
    second = orders[orders["sequence"] == 2].set_index("customer_id")["day"]
    customers["days_to_second_order"] = second.reindex(customers.index)
    observed = (as_of - first["order_date"]).dt.days
    customers["days_observed"] = observed
    for n in WINDOWS:
        complete = observed >= n - 1
        customers[f"complete_{n}d"] = complete
        customers[f"repeat_{n}d"] = complete & (customers["days_to_second_order"] < n)
    repeat_in_365 = orders[(orders["sequence"] > 1) & (orders["day"] < 365)]
    customers["repeat_revenue_365d"] = (
        repeat_in_365.groupby("customer_id")["net_revenue"].sum().reindex(customers.index)
    ).fillna(0.0)

    repeat_orders = orders[orders["sequence"] > 1][["order_id", "customer_id"]]
    customers["repeat_orders"] = (
        repeat_orders.groupby("customer_id").size().reindex(customers.index).fillna(0)
    )
    repeat_lines = lines[~lines["is_gift"]].merge(repeat_orders, on="order_id")
    repeat_lines = repeat_lines.join(customers["first_product_id"], on="customer_id")
    same = repeat_lines[repeat_lines["product_id"] == repeat_lines["first_product_id"]]
    customers["repeat_orders_same"] = (
        same.groupby("customer_id")["order_id"].nunique().reindex(customers.index).fillna(0)
    )
    return customers[customers["first_product_id"].notna()]


def cell_metrics(cell: pd.DataFrame) -> dict[str, object]:
    """The mart's metrics for one cell of customers, from the definitions."""
    row: dict[str, object] = {"customers": len(cell)}
    row["is_below_min_sample"] = len(cell) < MIN_CUSTOMERS
    for n in WINDOWS:
        trials = int(cell[f"complete_{n}d"].sum())
        successes = int(cell[f"repeat_{n}d"].sum())
        low, high = wilson(successes, trials)
        row[f"customers_complete_{n}d"] = trials
        row[f"repeat_customers_{n}d"] = successes
        row[f"repeat_rate_{n}d"] = successes / trials if trials else math.nan
        row[f"repeat_rate_{n}d_ci_low"] = low
        row[f"repeat_rate_{n}d_ci_high"] = high
    complete = cell[cell["complete_365d"]]
    row["repeat_net_revenue_365d"] = complete["repeat_revenue_365d"].sum()
    row["ltv_365d_excl_first_order"] = (
        complete["repeat_revenue_365d"].mean() if len(complete) else math.nan
    )
    delays = cell["days_to_second_order"].dropna()
    row["repeat_customers"] = len(delays)
    row["median_days_to_second_order"] = float(np.median(delays)) if len(delays) else math.nan
    # Kaplan-Meier: no second order = right-censored at days_observed (as_of_date)
    events = cell["days_to_second_order"].notna().to_numpy()
    durations = cell["days_to_second_order"].fillna(cell["days_observed"]).to_numpy(dtype=float)
    km = kaplan_meier_quantiles(durations, events)
    for name in ("p25", "median", "p75"):
        row[f"km_{name}_days_to_second_order"] = km[f"km_{name}"]
    repeat_orders = cell["repeat_orders"].sum()
    row["repeat_orders"] = repeat_orders
    row["repeat_orders_with_first_product"] = cell["repeat_orders_same"].sum()
    row["same_product_repeat_order_share"] = (
        cell["repeat_orders_same"].sum() / repeat_orders if repeat_orders else math.nan
    )
    row["avg_first_order_discount_depth"] = cell["discount_depth"].mean()
    return row


def first_product_table(customers: pd.DataFrame, key: str) -> pd.DataFrame:
    """Cells by key (first_product_id or first_product_category) within every stratum."""
    strata = {
        "all": pd.Series("all", index=customers.index),
        "offer_type": customers["offer_type"],
        "acquisition_channel": customers["acquisition_channel"],
        "cohort_year": customers["cohort_year"],
        "is_subscriber": customers["is_subscriber"],
    }
    rows = []
    for stratum_type, values in strata.items():
        for (key_value, stratum_value), cell in customers.groupby([customers[key], values]):
            metrics = cell_metrics(cell)
            rows.append({key: key_value, "stratum_type": stratum_type} | metrics)
            rows[-1]["stratum_value"] = stratum_value
    return pd.DataFrame(rows).set_index([key, "stratum_type", "stratum_value"]).sort_index()


def to_cents(value: float) -> float:
    """To the cent, half a cent away from zero (7.425 -> 7.43), whatever the float noise of
    the sum (1e-12): the rounding every engine must agree on (docs/spark.md)."""
    exact = Decimal(str(round(value, 6)))
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def rfm_scores(orders: pd.DataFrame, snapshot: pd.Timestamp) -> pd.DataFrame:
    """RFM scores and segments of every customer with a valid order by the snapshot date."""
    seen = orders[orders["order_date"] <= snapshot]
    per_customer = seen.groupby("customer_id").agg(
        last=("order_date", "max"), frequency=("order_id", "size"), monetary=("net_revenue", "sum")
    )
    per_customer["monetary"] = per_customer["monetary"].map(to_cents)
    per_customer["recency_days"] = (snapshot - per_customer["last"]).dt.days
    n = len(per_customer)

    def score(values: pd.Series, higher_is_better: bool) -> pd.Series:
        # quintile of the rank, equal values sharing the lowest rank
        ranks = values.rank(method="min", ascending=higher_is_better)
        return (1 + np.floor(5 * (ranks - 1) / n)).astype(int)

    per_customer["recency_score"] = score(per_customer["recency_days"], higher_is_better=False)
    per_customer["frequency_score"] = score(per_customer["frequency"], higher_is_better=True)
    per_customer["monetary_score"] = score(per_customer["monetary"], higher_is_better=True)
    per_customer["rfm_segment"] = [
        segment(r, f, m)
        for r, f, m in per_customer[
            ["recency_score", "frequency_score", "monetary_score"]
        ].itertuples(index=False)
    ]
    return per_customer


def segment(r: int, f: int, m: int) -> str:
    """The documented grid, as the region of (R, F, M) scores each segment covers."""
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if r >= 3 and f >= 3:
        return "loyal"
    if f >= 3:
        return "at_risk"  # r <= 2
    if r == 5 and f == 1:
        return "new"
    return {5: "promising", 4: "promising", 3: "needs_attention", 2: "hibernating", 1: "lost"}[r]


def month_end_before(day: pd.Timestamp) -> pd.Timestamp:
    """Last day of the month before the month of day."""
    return day.replace(day=1) - pd.Timedelta(days=1)


def assert_frames_match(mart: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same index, same columns; numbers within TOL, NaN where NaN."""
    assert sorted(mart.index) == sorted(expected.index)
    mart = mart.loc[expected.index]
    for column in expected.columns:
        left = mart[column].astype(float).to_numpy()
        right = expected[column].astype(float).to_numpy()
        assert np.allclose(left, right, rtol=0, atol=TOL, equal_nan=True), column


# --------------------------------------------------------------------------------------
# Fixture store: marts equal the independent computation
# --------------------------------------------------------------------------------------


@pytest.fixture()
def fixture_customers(fixture_db: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return customer_table(fixture_db)


def test_wilson_roots_match_textbook_values() -> None:
    # Newcombe (1998), table I, method 3 (z = 1.96): the reference the SQL test also uses
    assert Z == 1.96
    for (successes, trials), (low, high) in {
        (81, 263): (0.2553, 0.3662),
        (15, 148): (0.0624, 0.1605),
        (0, 20): (0.0, 0.1611),
        (1, 29): (0.0061, 0.1718),
    }.items():
        got = wilson(successes, trials)
        assert abs(got[0] - low) < 5e-5 and abs(got[1] - high) < 5e-5


def test_first_products_equal_dim_customers(
    fixture_db: duckdb.DuckDBPyConnection, fixture_customers: pd.DataFrame
) -> None:
    dim = fixture_db.sql(
        "select customer_id, first_product_id, first_product_category from marts.dim_customers"
    ).df()
    dim = dim.set_index("customer_id").loc[fixture_customers.index]
    assert (dim["first_product_id"] == fixture_customers["first_product_id"]).all()
    assert (dim["first_product_category"] == fixture_customers["first_product_category"]).all()
    # the fixture has multi-product first orders, so the rule is exercised
    multi = scalar(
        fixture_db,
        """
        select count(*) from (
            select order_id from marts.fct_order_lines
            where is_valid_order and order_sequence = 1 and not is_gift
            group by order_id having count(distinct product_id) > 1
        )
        """,
    )
    assert multi > 20


@pytest.mark.parametrize(
    ("mart", "key"),
    [
        ("fct_first_product_performance", "first_product_id"),
        ("fct_first_product_category_performance", "first_product_category"),
    ],
)
def test_first_product_marts_equal_pandas(
    fixture_db: duckdb.DuckDBPyConnection, fixture_customers: pd.DataFrame, mart: str, key: str
) -> None:
    expected = first_product_table(fixture_customers, key)
    got = fixture_db.sql(f"select * from marts.{mart}").df()
    got = got.set_index([key, "stratum_type", "stratum_value"])
    assert_frames_match(got[expected.columns], expected)
    # the comparison covers the interesting cases, so it can fail
    headline = expected.xs("all", level="stratum_type")
    assert headline["is_below_min_sample"].any()
    assert (expected["repeat_rate_365d"] == 0).any()  # Wilson low bound exactly 0
    assert expected["repeat_rate_365d"].isna().any()  # immature cells (recent cohort years)
    assert expected["median_days_to_second_order"].notna().sum() > 10
    # KM: readable and null medians, and censoring moving the median off the observed one
    assert expected["km_median_days_to_second_order"].notna().sum() > 10
    assert (
        expected["km_median_days_to_second_order"].isna()
        & expected["median_days_to_second_order"].notna()
    ).any()
    assert expected["km_p25_days_to_second_order"].notna().sum() > (
        expected["km_median_days_to_second_order"].notna().sum()
    )


def test_rfm_scores_equal_pandas(fixture_db: duckdb.DuckDBPyConnection) -> None:
    as_of = pd.Timestamp(scalar(fixture_db, "select as_of_date from intermediate.int_as_of_date"))
    expected = rfm_scores(valid_orders(fixture_db), as_of)
    dim = fixture_db.sql(
        """
        select customer_id, recency_score, frequency_score, monetary_score, rfm_segment,
            days_since_last_order, order_count
        from marts.dim_customers
        """
    ).df()
    dim = dim.set_index("customer_id").loc[expected.index]
    for column in ("recency_score", "frequency_score", "monetary_score", "rfm_segment"):
        assert (dim[column] == expected[column]).all(), column
    assert (dim["days_since_last_order"] == expected["recency_days"]).all()
    # ties are frequent (one-order customers): equal values always share a score
    for value_column, score_column in [
        ("frequency", "frequency_score"),
        ("monetary", "monetary_score"),
        ("recency_days", "recency_score"),
    ]:
        assert (expected.groupby(value_column)[score_column].nunique() == 1).all()
    assert expected["frequency"].value_counts().max() > len(expected) / 5


def test_rfm_segments_and_movements_equal_pandas(fixture_db: duckdb.DuckDBPyConnection) -> None:
    as_of = pd.Timestamp(scalar(fixture_db, "select as_of_date from intermediate.int_as_of_date"))
    orders = valid_orders(fixture_db)
    latest = rfm_scores(orders, as_of)
    previous_date = month_end_before(as_of)
    previous = rfm_scores(orders, previous_date)
    mart = fixture_db.sql("select * from marts.fct_rfm_segments").df()
    assert mart["snapshot_date"].nunique() == SNAPSHOT_MONTHS + 1
    assert set(pd.to_datetime(mart["snapshot_date"])) >= {as_of, previous_date}

    now = mart[mart["is_latest_snapshot"]].set_index("rfm_segment").loc[list(SEGMENTS)]
    counts = latest["rfm_segment"].value_counts().reindex(SEGMENTS, fill_value=0)
    revenue = latest.groupby("rfm_segment")["monetary"].sum().reindex(SEGMENTS, fill_value=0)
    assert (now["customers"] == counts).all()
    assert np.allclose(now["revenue_share"], revenue / latest["monetary"].sum(), atol=1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.allclose(
            now["avg_net_revenue_per_customer"], revenue / counts, atol=1e-9, equal_nan=True
        )

    moves = latest[["rfm_segment"]].join(previous["rfm_segment"].rename("before"), how="left")
    matrix = pd.crosstab(moves["rfm_segment"], moves["before"].fillna("none"))
    matrix = matrix.reindex(index=list(SEGMENTS), columns=[*SEGMENTS, "none"], fill_value=0)
    for before in SEGMENTS:
        assert (now[f"customers_from_{before}"] == matrix[before]).all(), before
    assert (now["customers_new"] == matrix["none"]).all()
    assert matrix.to_numpy().sum() - np.trace(matrix[list(SEGMENTS)].to_numpy()) > 0


# --------------------------------------------------------------------------------------
# Demo store: the planted effect (refill customers come back, gadget customers do not)
# --------------------------------------------------------------------------------------


def test_demo_refills_rank_above_gadgets(demo_db: duckdb.DuckDBPyConnection) -> None:
    products = demo_db.sql(
        """
        select first_product_category, repeat_rate_365d, ltv_365d_excl_first_order
        from marts.fct_first_product_performance
        where stratum_type = 'all' and not is_below_min_sample
            and first_product_category in ('refill', 'gadget')
        """
    ).df()
    by_category = products.groupby("first_product_category")
    assert by_category.size().min() >= 5
    # every ranked refill product above every ranked gadget
    assert (
        by_category["repeat_rate_365d"].min()["refill"]
        > (by_category["repeat_rate_365d"].max()["gadget"])
    )
    assert (
        by_category["ltv_365d_excl_first_order"].min()["refill"]
        > (by_category["ltv_365d_excl_first_order"].max()["gadget"])
    )


def test_demo_ranking_survives_offer_type(demo_db: duckdb.DuckDBPyConnection) -> None:
    categories = demo_db.sql(
        """
        select stratum_value, first_product_category, repeat_rate_365d,
            repeat_rate_365d_ci_low, repeat_rate_365d_ci_high, is_below_min_sample
        from marts.fct_first_product_category_performance
        where stratum_type = 'offer_type' and first_product_category in ('refill', 'gadget')
        """
    ).df()
    cells = categories.set_index(["stratum_value", "first_product_category"])
    assert set(cells.index.get_level_values(0)) == {"full_price", "discounted", "promo"}
    for offer_type in ("full_price", "discounted", "promo"):
        refill, gadget = cells.loc[(offer_type, "refill")], cells.loc[(offer_type, "gadget")]
        assert not refill["is_below_min_sample"] and not gadget["is_below_min_sample"]
        # not just higher: the 95% intervals do not overlap
        assert refill["repeat_rate_365d_ci_low"] > gadget["repeat_rate_365d_ci_high"], offer_type

    products = demo_db.sql(
        """
        select stratum_value, first_product_category, repeat_rate_365d
        from marts.fct_first_product_performance
        where stratum_type = 'offer_type' and not is_below_min_sample
            and first_product_category in ('refill', 'gadget')
            and repeat_rate_365d is not null
        """
    ).df()
    medians = products.groupby(["stratum_value", "first_product_category"])[
        "repeat_rate_365d"
    ].median()
    for offer_type in ("full_price", "discounted", "promo"):
        assert medians[(offer_type, "refill")] > medians[(offer_type, "gadget")], offer_type
