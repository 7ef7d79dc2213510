"""Customer-base marts against an independent pandas computation, and the demo's planted effects.

fct_customer_base_monthly, fct_customer_health and fct_promo_cohorts are recomputed here
from the valid rows of fct_orders (the definitions in docs/customer_base.md, not the models'
SQL) on the small fixture store and on the 20k-customer demo store. The demo store's planted
effects (docs/demo_store.md) must be visible in the marts.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
VARS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
WINDOW = int(VARS["reactivation_window_months"])
TWICE_MIN = float(VARS["twice_a_year_min_gap_days"])
TWICE_MAX = float(VARS["twice_a_year_max_gap_days"])
MIN_GAPS = int(VARS["purchase_rhythm_min_gaps"])
AOV_THRESHOLD = float(VARS["health_aov_threshold"])
STORES = ["fixture_db", "demo_db"]


def month_number(dates: pd.Series) -> pd.Series:
    """Calendar month as a running integer (year * 12 + month), so month arithmetic is exact."""
    d = pd.to_datetime(dates)
    return d.dt.year * 12 + d.dt.month - 1


def valid_orders(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    df = con.execute(
        """select customer_id, order_date, order_sequence, net_revenue, discount_depth
           from marts.fct_orders where is_valid_order"""
    ).df()
    df["order_date"] = pd.to_datetime(df["order_date"])
    df["m"] = month_number(df["order_date"])
    return df


def as_of_date(con: duckdb.DuckDBPyConnection) -> pd.Timestamp:
    row = con.execute("select as_of_date from intermediate.int_as_of_date").fetchone()
    return pd.Timestamp(row[0])


def mart(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    df = con.execute(sql).df()
    if "month" in df:
        df["m"] = month_number(df["month"])
        df = df.set_index("m").sort_index()
    return df


def base_all(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return mart(
        con,
        "select * from marts.fct_customer_base_monthly "
        "where segment_type = 'all' and segment_value = 'all'",
    )


def months_of(con: duckdb.DuckDBPyConnection, orders: pd.DataFrame) -> np.ndarray:
    """Every month from the first valid order's to as_of_date's."""
    return np.arange(orders["m"].min(), month_number(pd.Series([as_of_date(con)])).iloc[0] + 1)


# --------------------------------------------------------------------------------------
# Independent computations
# --------------------------------------------------------------------------------------


def buyer_split(orders: pd.DataFrame, months: np.ndarray) -> pd.DataFrame:
    """New / returning / reactivated buyers per month from the definitions.

    new: first valid order in the month; returning: the latest valid order before the month
    is at most WINDOW calendar months earlier; reactivated: more than WINDOW months earlier.
    """
    bm = orders[["customer_id", "m"]].drop_duplicates().sort_values(["customer_id", "m"])
    first = bm.groupby("customer_id")["m"].transform("min")
    previous = bm.groupby("customer_id")["m"].shift()
    kind = np.where(
        bm["m"] == first, "new", np.where(bm["m"] - previous <= WINDOW, "returning", "reactivated")
    )
    counts = pd.crosstab(bm["m"], kind).reindex(months, fill_value=0)
    for col in ("new", "returning", "reactivated"):
        if col not in counts:
            counts[col] = 0
    counts["buyers"] = counts[["new", "returning", "reactivated"]].sum(axis=1)
    return counts


def base_stocks(orders: pd.DataFrame, months: np.ndarray) -> pd.DataFrame:
    """Customers to date, active (a valid order in the last WINDOW months), repeat per month."""
    first_m = orders.groupby("customer_id")["m"].min()
    second_m = orders[orders["order_sequence"] == 2].set_index("customer_id")["m"]
    bm = orders[["customer_id", "m"]].drop_duplicates()
    rows = []
    for m in months:
        recent = bm[(bm["m"] <= m) & (bm["m"] > m - WINDOW)]
        rows.append(
            {
                "m": m,
                "customers_to_date": int((first_m <= m).sum()),
                "active_customers_12m": recent["customer_id"].nunique(),
                "repeat_customers": int((second_m <= m).sum()),
            }
        )
    out = pd.DataFrame(rows).set_index("m")
    out["inactive_customers"] = out["customers_to_date"] - out["active_customers_12m"]
    out["one_order_customers"] = out["customers_to_date"] - out["repeat_customers"]
    return out


def purchase_days(orders: pd.DataFrame) -> pd.DataFrame:
    """Distinct purchase dates per customer with the gap in days to the previous one."""
    days = orders[["customer_id", "order_date", "m"]].drop_duplicates(["customer_id", "order_date"])
    days = days.sort_values(["customer_id", "order_date"]).reset_index(drop=True)
    days["gap"] = days.groupby("customer_id")["order_date"].diff().dt.days
    return days


def twice_a_year_buyers(orders: pd.DataFrame, months: np.ndarray) -> pd.Series:
    """Buyers per month whose median gap to date (month end) is within the twice-a-year band."""
    days = purchase_days(orders)
    days["day"] = days.groupby("customer_id").cumcount()
    gaps = days.dropna(subset=["gap"])[["customer_id", "day", "gap"]]
    # every gap up to each purchase day (customers have few purchase days: small self-join)
    pairs = days[["customer_id", "day"]].merge(gaps, on="customer_id", suffixes=("", "_gap"))
    pairs = pairs[pairs["day_gap"] <= pairs["day"]]
    to_date = pairs.groupby(["customer_id", "day"])["gap"].agg(["median", "size"])
    days = days.join(to_date, on=["customer_id", "day"])
    month_end = days.groupby(["customer_id", "m"]).last()
    twice = (month_end["size"].fillna(0) >= MIN_GAPS) & month_end["median"].between(
        TWICE_MIN, TWICE_MAX
    )
    return twice.groupby(level="m").sum().reindex(months, fill_value=0)


def median_delay(orders: pd.DataFrame, months: np.ndarray) -> pd.Series:
    """Median gap of purchase days placed in the last WINDOW months, per month."""
    gaps = purchase_days(orders).dropna(subset=["gap"])
    return pd.Series(
        {m: gaps.loc[(gaps["m"] <= m) & (gaps["m"] > m - WINDOW), "gap"].median() for m in months}
    )


# --------------------------------------------------------------------------------------
# fct_customer_base_monthly
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("store", STORES)
def test_new_returning_reactivated_match_pandas(store: str, request: pytest.FixtureRequest) -> None:
    con = request.getfixturevalue(store)
    orders = valid_orders(con)
    months = months_of(con, orders)
    expected = buyer_split(orders, months)
    got = base_all(con)
    assert list(got.index) == list(months), "one row per month, no gap in the spine"
    for mart_col, col in [
        ("new_customers", "new"),
        ("returning_customers", "returning"),
        ("reactivated_customers", "reactivated"),
        ("buyers", "buyers"),
    ]:
        assert got[mart_col].tolist() == expected[col].tolist(), mart_col
    assert expected["reactivated"].sum() > 0, "the store must exercise reactivation"


@pytest.mark.parametrize("store", STORES)
def test_customer_base_stocks_match_pandas(store: str, request: pytest.FixtureRequest) -> None:
    con = request.getfixturevalue(store)
    orders = valid_orders(con)
    months = months_of(con, orders)
    expected = base_stocks(orders, months)
    got = base_all(con)
    for col in expected.columns:
        assert got[col].tolist() == expected[col].tolist(), col
    assert expected["inactive_customers"].iloc[-1] > 0


@pytest.mark.parametrize("store", STORES)
def test_mom_pct_and_completeness(store: str, request: pytest.FixtureRequest) -> None:
    con = request.getfixturevalue(store)
    got = base_all(con)
    as_of = as_of_date(con)
    last_day = (got["month"].iloc[-1] + pd.offsets.MonthEnd(0)).normalize()
    assert got["is_complete"].tolist() == [True] * (len(got) - 1) + [as_of >= last_day]
    previous = got["new_customers"].shift()
    expected = (got["new_customers"] - previous) / previous
    expected[(previous == 0) | ~got["is_complete"]] = np.nan
    pd.testing.assert_series_equal(
        got["new_customers_mom_pct"], expected, check_names=False, check_dtype=False
    )


@pytest.mark.parametrize("store", STORES)
def test_twice_a_year_buyers_match_pandas(store: str, request: pytest.FixtureRequest) -> None:
    con = request.getfixturevalue(store)
    orders = valid_orders(con)
    months = months_of(con, orders)
    expected = twice_a_year_buyers(orders, months)
    got = base_all(con)
    assert got["twice_a_year_buyers"].tolist() == expected.tolist()
    rhythm = mart(
        con,
        "select * from marts.fct_customer_base_monthly "
        "where segment_type = 'purchase_rhythm' and segment_value = 'twice_a_year'",
    )
    assert rhythm["buyers"].tolist() == expected.tolist()
    assert expected.sum() > 0


# --------------------------------------------------------------------------------------
# fct_customer_health
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("store", STORES)
def test_customer_health_matches_pandas(store: str, request: pytest.FixtureRequest) -> None:
    con = request.getfixturevalue(store)
    orders = valid_orders(con)
    months = months_of(con, orders)
    got = mart(con, "select * from marts.fct_customer_health")
    assert list(got.index) == list(months)

    # purchase delay: median gap of purchase days in the last WINDOW months
    pd.testing.assert_series_equal(
        got["median_days_between_purchases_12m"],
        median_delay(orders, months),
        check_names=False,
        check_index_type=False,
        check_dtype=False,
    )

    monthly = orders.groupby("m").agg(orders=("order_date", "size"), revenue=("net_revenue", "sum"))
    monthly = monthly.reindex(months, fill_value=0)
    first_m = orders.groupby("customer_id")["m"].min()
    customers = np.array([(first_m <= m).sum() for m in months])
    np.testing.assert_allclose(
        got["average_customer_value"], monthly["revenue"].cumsum() / customers, rtol=1e-9
    )
    orders_12m = monthly["orders"].rolling(WINDOW, min_periods=1).sum()
    np.testing.assert_array_equal(got["orders_12m"], orders_12m)

    first = orders[orders["order_sequence"] == 1].groupby("m")["net_revenue"].mean()
    repeat = orders[orders["order_sequence"] > 1].groupby("m")["net_revenue"].mean()
    np.testing.assert_allclose(got["first_order_aov"], first.reindex(months), rtol=1e-9)
    np.testing.assert_allclose(got["repeat_order_aov"], repeat.reindex(months), rtol=1e-9)

    # active customers whose AOV to date (net revenue / valid orders) >= threshold
    high = []
    for m in months:
        to_date = orders[orders["m"] <= m].groupby("customer_id")
        aov = to_date["net_revenue"].sum() / to_date.size()
        active = to_date["m"].max() > m - WINDOW
        high.append(int(((aov >= AOV_THRESHOLD) & active).sum()))
    assert got["active_high_aov_customers"].tolist() == high
    assert 0 < high[-1] < got["active_customers_12m"].iloc[-1]


# --------------------------------------------------------------------------------------
# fct_promo_cohorts
# --------------------------------------------------------------------------------------


def promo_expected(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per year x discount band: customers, repeat within 90 / 180 days, full-price 2nd orders."""
    orders = valid_orders(con)
    as_of = as_of_date(con)
    first = orders[orders["order_sequence"] == 1].set_index("customer_id")
    second = orders[orders["order_sequence"] == 2].set_index("customer_id")
    bands = con.execute(
        "select customer_id, first_order_discount_band from marts.dim_customers"
    ).df()
    c = pd.DataFrame({"first": first["order_date"]}).join(bands.set_index("customer_id"))
    c["second"] = second["order_date"]
    c["second_depth"] = second["discount_depth"]
    c["year"] = c["first"].dt.year
    observed = (as_of - c["first"]).dt.days
    delay = (c["second"] - c["first"]).dt.days
    out = {}
    for n in (90, 180):
        complete = observed >= n - 1
        c[f"complete_{n}"] = complete
        c[f"repeat_{n}"] = complete & (delay < n)
    c["has_second"] = c["second"].notna()
    c["full_price_second"] = c["has_second"] & (c["second_depth"] <= 0)
    out = c.groupby(["year", "first_order_discount_band"]).agg(
        customers=("first", "size"),
        window_90d_complete_customers=("complete_90", "sum"),
        repeat_customers_90d=("repeat_90", "sum"),
        window_180d_complete_customers=("complete_180", "sum"),
        repeat_customers_180d=("repeat_180", "sum"),
        second_order_customers=("has_second", "sum"),
        full_price_second_order_customers=("full_price_second", "sum"),
    )
    out.index.names = ["acquisition_year", "group_value"]
    return out


@pytest.mark.parametrize("store", STORES)
def test_promo_cohorts_match_pandas(store: str, request: pytest.FixtureRequest) -> None:
    con = request.getfixturevalue(store)
    expected = promo_expected(con)
    got = con.execute(
        "select * from marts.fct_promo_cohorts where comparison_type = 'discount_band' "
        "and customers > 0"
    ).df()
    got = got.set_index(["acquisition_year", "group_value"]).sort_index()
    assert list(got.index) == list(expected.index)
    for col in expected.columns:
        assert got[col].tolist() == expected[col].astype(int).tolist(), col
    complete = got["window_90d_complete_customers"] == got["customers"]
    np.testing.assert_allclose(
        got.loc[complete, "repeat_rate_90d"],
        got.loc[complete, "repeat_customers_90d"] / got.loc[complete, "customers"],
    )
    assert got.loc[~complete, "repeat_rate_90d"].isna().all()


# --------------------------------------------------------------------------------------
# Planted effects of the demo store (docs/demo_store.md)
# --------------------------------------------------------------------------------------


def last_three_complete(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    got = base_all(con)
    return got[got["is_complete"]].tail(4)


def test_demo_twice_a_year_group_slides_while_new_customers_grow(
    demo_db: duckdb.DuckDBPyConnection,
) -> None:
    """Planted: new customers +7% MoM and the twice-a-year group -18% MoM (Aug-Oct 2026)."""
    rows = last_three_complete(demo_db)
    assert [str(m)[:7] for m in rows["month"]] == ["2026-07", "2026-08", "2026-09", "2026-10"]
    new_mom = rows["new_customers_mom_pct"].iloc[1:]
    twice_mom = rows["twice_a_year_buyers_mom_pct"].iloc[1:]
    assert ((new_mom > 0.03) & (new_mom < 0.12)).all(), new_mom.tolist()
    assert (twice_mom < 0).all(), twice_mom.tolist()
    twice = rows["twice_a_year_buyers"]
    assert twice.iloc[-1] / twice.iloc[0] < 0.85, twice.tolist()
    # the same slide on the purchase-rhythm segment rows
    rhythm = mart(
        demo_db,
        "select * from marts.fct_customer_base_monthly "
        "where segment_type = 'purchase_rhythm' and segment_value = 'twice_a_year'",
    )
    assert (rhythm.loc[rows.index[1:], "buyers_mom_pct"] < 0).all()


@pytest.mark.xfail(
    strict=True,
    reason=(
        "planted -18% MoM is diluted in the mart (about -2%, -12%, -7% at 20k customers): "
        "regular customers whose single gap falls in 152-212 days are ~23% of the group's "
        "buyers and cannot be told apart from behaviour; reported to the lead"
    ),
)
def test_demo_twice_a_year_slide_magnitude(demo_db: duckdb.DuckDBPyConnection) -> None:
    twice_mom = last_three_complete(demo_db)["twice_a_year_buyers_mom_pct"].iloc[1:]
    assert ((twice_mom > -0.25) & (twice_mom < -0.12)).all(), twice_mom.tolist()


def test_demo_reactivated_customers_grow(demo_db: duckdb.DuckDBPyConnection) -> None:
    """Planted: the reactivation hazard grows x1.10 a month in the last three months."""
    rows = last_three_complete(demo_db)
    assert (rows["reactivated_customers_mom_pct"].iloc[1:] > 0).all()


def test_demo_bfcm_and_promo_acquired_repeat_less(demo_db: duckdb.DuckDBPyConnection) -> None:
    """Planted: BF/CM-acquired repeat x0.6, promo-acquired (>= 40% off) x0.5."""
    promo = demo_db.execute("select * from marts.fct_promo_cohorts").df()
    rates = promo.pivot_table(
        index=["acquisition_year", "comparison_type"],
        columns="group_value",
        values=["repeat_rate_90d", "repeat_rate_180d"],
    )
    compared = 0
    for n in (90, 180):
        col = f"repeat_rate_{n}d"
        bfcm = rates.xs("bfcm", level="comparison_type")[col].dropna(subset=["bfcm", "other"])
        bands = rates.xs("discount_band", level="comparison_type")[col].dropna(
            subset=["gte_40", "none"]
        )
        assert (bfcm["bfcm"] < 0.85 * bfcm["other"]).all(), bfcm
        assert (bands["gte_40"] < 0.75 * bands["none"]).all(), bands
        compared += len(bfcm) + len(bands)
    assert compared >= 10  # 2023-2025 mature for both windows and both comparisons
