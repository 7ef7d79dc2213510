"""Acquisition economics marts recomputed independently in pandas.

On the small fixture store, CAC, COS, LTV/CAC (182 / 365 days) and payback per month x
channel are rebuilt from the raw spend export (channel attribution re-implemented from
the seed's documented waterfall), `dim_customers`, `fct_orders` and `fct_returns`, and
compared with `fct_acquisition_monthly`. The KPI row is rebuilt from `dim_customers` and
`fct_orders`. On the generated demo store, the planted channel economics must show:
referral has the best and affiliate the worst 12-month LTV/CAC over mature cohorts.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from test_cohorts import kaplan_meier_quantiles

ROOT = Path(__file__).resolve().parents[1]
SEED_MAPPING = ROOT / "seeds" / "channel_mapping.csv"
SEED_FX = ROOT / "seeds" / "fx_rates_monthly.csv"
SHOP_CURRENCY = "EUR"
KEY = ["month", "channel"]


# ------------------------------------------------------------------------------ helpers


def _clean(value: object) -> str | None:
    """Lower-cased, trimmed text; None for missing or empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().lower()
    return text or None


def utm_channel(source: str | None, medium: str | None, rules: dict[tuple, str]) -> str:
    """Channel of a UTM pair: exact pair, then (source, *), then (*, medium); no UTM = direct."""
    if source is None and medium is None:
        return "direct"
    for key in ((source, medium), (source, "*"), ("*", medium)):
        if key in rules:
            return rules[key]
    return "unknown"


def month_end(months: pd.Series) -> pd.Series:
    return months + pd.offsets.MonthEnd(0)


def as_of_date(con: duckdb.DuckDBPyConnection) -> pd.Timestamp:
    frame = con.sql("select max(as_of_date) as as_of_date from marts.dim_customers").df()
    return pd.Timestamp(frame["as_of_date"].iloc[0])


def attributed_spend(con: duckdb.DuckDBPyConnection, as_of: pd.Timestamp) -> pd.DataFrame:
    """Raw spend rows kept (rate found, dated <= as_of), converted and attributed."""
    raw = con.sql(
        "select spend_date, channel, utm_source, utm_medium, amount, currency "
        "from raw.marketing_spend"
    ).df()
    mapping = pd.read_csv(SEED_MAPPING, dtype=str)
    fx = pd.read_csv(SEED_FX, parse_dates=["month"])
    rates = {(r.month, r.currency): r.rate_to_shop_currency for r in fx.itertuples()}
    known = set(mapping["channel"])
    rules = {(r.utm_source, r.utm_medium): r.channel for r in mapping.itertuples()}
    rows = []
    for r in raw.itertuples():
        day = pd.Timestamp(r.spend_date)
        month = day.to_period("M").to_timestamp()
        currency = (_clean(r.currency) or SHOP_CURRENCY.lower()).upper()
        rate = 1.0 if currency == SHOP_CURRENCY else rates.get((month, currency))
        if rate is None or day > as_of:
            continue
        named = _clean(r.channel)
        by_utm = utm_channel(_clean(r.utm_source), _clean(r.utm_medium), rules)
        channel = named if named in known else by_utm if by_utm in known else "unattributed"
        rows.append((month, channel, float(r.amount) * rate))
    return pd.DataFrame(rows, columns=["month", "channel", "spend"])


def with_all(frame: pd.DataFrame, keys: list[str], values: list[str]) -> pd.DataFrame:
    """Sum per keys, plus the same sums over channels as channel 'all'."""
    per_channel = frame.groupby(keys, as_index=False)[values].sum()
    other = [k for k in keys if k != "channel"]
    total = per_channel.groupby(other, as_index=False)[values].sum().assign(channel="all")
    return pd.concat([per_channel, total], ignore_index=True)


def divide(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is not positive or unknown."""
    return numerator.where(denominator > 0) / denominator.where(denominator > 0)


def expected_acquisition(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """fct_acquisition_monthly recomputed from raw spend and core marts."""
    as_of = as_of_date(con)
    spend = with_all(attributed_spend(con, as_of), KEY, ["spend"])

    customers = con.sql(
        "select customer_id, cohort_month as month, acquisition_channel as channel, "
        "first_order_date from marts.dim_customers"
    ).df()
    orders = con.sql(
        "select order_id, customer_id, order_date, order_month, channel, "
        "net_sales_before_returns, net_revenue, order_sequence "
        "from marts.fct_orders where is_valid_order"
    ).df()
    for frame, cols in ((customers, ["month", "first_order_date"]), (orders, ["order_date"])):
        for col in cols:
            frame[col] = pd.to_datetime(frame[col])
    orders["order_month"] = pd.to_datetime(orders["order_month"])

    # new customers, first-order revenue, value within 182 / 365 days
    first = orders[orders["order_sequence"] == 1][["customer_id", "net_revenue"]]
    valued = orders.merge(customers[["customer_id", "first_order_date"]], on="customer_id")
    age = (valued["order_date"] - valued["first_order_date"]).dt.days
    cust = customers.merge(first.rename(columns={"net_revenue": "first_rev"}), on="customer_id")
    for n in (182, 365):
        in_window = valued[age < n].groupby("customer_id")["net_revenue"].sum()
        cust[f"rev_{n}"] = cust["customer_id"].map(in_window).fillna(0.0)
    cust["n"] = 1
    cohorts = with_all(cust, KEY, ["n", "first_rev", "rev_182", "rev_365"])

    # finance view: sales by order month, returns by refund month (<= as_of), order channel
    sales = orders.rename(columns={"order_month": "month"})[
        ["month", "channel", "net_sales_before_returns"]
    ]
    returns = con.sql(
        "select r.refund_date, r.refund_month as month, o.channel, r.returns "
        "from marts.fct_returns r join marts.fct_orders o using (order_id) "
        "where r.is_valid_order"
    ).df()
    returns = returns[pd.to_datetime(returns["refund_date"]) <= as_of]
    returns["month"] = pd.to_datetime(returns["month"])
    booked = pd.concat(
        [sales.assign(returns=0.0), returns.assign(net_sales_before_returns=0.0)],
        ignore_index=True,
    )[["month", "channel", "net_sales_before_returns", "returns"]]
    booked = with_all(booked, KEY, ["net_sales_before_returns", "returns"])
    booked["net_revenue"] = booked["net_sales_before_returns"] - booked["returns"]

    out = spend.merge(cohorts, on=KEY, how="outer").merge(booked, on=KEY, how="outer")
    months = pd.date_range(out["month"].min(), out["month"].max(), freq="MS")
    grid = pd.MultiIndex.from_product([months, out["channel"].unique()], names=KEY)
    out = out.set_index(KEY).reindex(grid).reset_index()
    covered = out["month"].between(spend["month"].min(), spend["month"].max())
    out["spend"] = out["spend"].fillna(0.0).where(covered)
    for col in ["n", "first_rev", "rev_182", "rev_365", "net_revenue"]:
        out[col] = out[col].fillna(0.0)

    out["new_customers"] = out["n"].astype(int)
    out["cac"] = divide(out["spend"], out["new_customers"])
    out["cos"] = divide(out["spend"], out["net_revenue"])
    out["roas"] = divide(out["net_revenue"], out["spend"])
    out["cos_new_customers"] = divide(out["spend"], out["first_rev"])
    for n in (182, 365):
        mature = month_end(out["month"]) + pd.Timedelta(days=n - 1) <= as_of
        out[f"ltv_{n}d"] = divide(out[f"rev_{n}"], out["new_customers"]).where(mature)
        out[f"ltv_to_cac_{n}d"] = divide(out[f"ltv_{n}d"], out["cac"])

    # payback: first complete month k where the cohort's cumulative revenue reaches spend
    acquired = customers[["customer_id", "month", "channel"]].rename(
        columns={"month": "cohort_month", "channel": "acquisition_channel"}
    )
    cohort_orders = orders.merge(acquired, on="customer_id")
    cohort_orders = cohort_orders[month_end(cohort_orders["order_month"]) <= as_of]
    cohort_orders = cohort_orders[
        ["cohort_month", "acquisition_channel", "order_month", "net_revenue"]
    ].rename(columns={"cohort_month": "month", "acquisition_channel": "channel"})
    monthly = with_all(cohort_orders, ["month", "channel", "order_month"], ["net_revenue"])
    paybacks = {}
    for (month, channel), grp in monthly.groupby(["month", "channel"]):
        cell = out[(out["month"] == month) & (out["channel"] == channel)].iloc[0]
        if not cell["cac"] > 0:
            continue
        grp = grp.sort_values("order_month")
        reached = grp[grp["net_revenue"].cumsum() >= cell["spend"] - 1e-9]
        if len(reached):
            k = reached["order_month"].iloc[0].to_period("M") - month.to_period("M")
            paybacks[(month, channel)] = k.n
    keys = zip(out["month"], out["channel"], strict=True)
    out["payback_months"] = [paybacks.get(key) for key in keys]
    return out


def read_mart(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    frame = con.sql(f"select * from marts.{table}").df()
    for col in frame.columns:
        if col == "month" or col.endswith("_cohort_month"):
            frame[col] = pd.to_datetime(frame[col])
    return frame


def assert_same(actual: pd.Series, expected: pd.Series, label: str) -> None:
    """Equal within 1e-6 (relative), null exactly where expected is null."""
    a = pd.to_numeric(actual, errors="coerce").astype(float).to_numpy()
    e = pd.to_numeric(expected, errors="coerce").astype(float).to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(e)), f"{label}: null pattern differs"
    both = ~np.isnan(e)
    np.testing.assert_allclose(a[both], e[both], rtol=1e-6, atol=1e-6, err_msg=label)


# ------------------------------------------------------------------------------ fixture


COMPARED = [
    "spend",
    "new_customers",
    "cac",
    "net_revenue",
    "cos",
    "roas",
    "cos_new_customers",
    "ltv_182d",
    "ltv_365d",
    "ltv_to_cac_182d",
    "ltv_to_cac_365d",
    "payback_months",
]


def test_acquisition_matches_independent_computation(fixture_db):
    mart = read_mart(fixture_db, "fct_acquisition_monthly")
    expected = expected_acquisition(fixture_db)
    assert not mart.duplicated(KEY).any()
    merged = mart.merge(expected, on=KEY, how="outer", suffixes=("", "_expected"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", KEY]
    for col in COMPARED:
        assert_same(merged[col], merged[f"{col}_expected"], col)
    # the fixture exercises the interesting cases
    assert (merged["channel"] == "unattributed").any()
    assert merged["ltv_to_cac_365d"].notna().any() and merged["ltv_to_cac_365d"].isna().any()
    assert merged["payback_months"].notna().any()


def test_blended_cac_counts_unattributed_spend(fixture_db):
    mart = read_mart(fixture_db, "fct_acquisition_monthly")
    totals = mart.groupby(mart["channel"] == "all")["spend"].sum()
    assert totals[True] == pytest.approx(totals[False])
    unattributed = mart.loc[mart["channel"] == "unattributed", "spend"].sum()
    assert unattributed > 0  # brand / agency fees in the fixture


def test_kpis_match_independent_computation(fixture_db):
    kpis = read_mart(fixture_db, "fct_kpis_monthly")
    as_of = as_of_date(fixture_db)
    customers = fixture_db.sql(
        "select customer_id, cohort_month, first_order_date, days_to_second_order "
        "from marts.dim_customers"
    ).df()
    customers["cohort_month"] = pd.to_datetime(customers["cohort_month"])
    orders = fixture_db.sql(
        "select customer_id, order_date, net_revenue from marts.fct_orders where is_valid_order"
    ).df()
    valued = orders.merge(customers, on="customer_id")
    age = (
        pd.to_datetime(valued["order_date"]) - pd.to_datetime(valued["first_order_date"])
    ).dt.days
    cohort_months = sorted(customers["cohort_month"].unique())
    km_checked: list[tuple[float, float]] = []
    for row in kpis.itertuples():
        until = min(month_end(pd.Series([row.month]))[0], as_of)
        for n, ltv, churn, source in (
            (182, row.ltv_182d, row.churn_6m, row.ltv_182d_cohort_month),
            (365, row.ltv_365d, row.churn_12m, row.ltv_365d_cohort_month),
        ):
            complete_on = {
                c: c + pd.offsets.MonthEnd(0) + pd.Timedelta(days=n - 1) for c in cohort_months
            }
            mature = [c for c in cohort_months if complete_on[c] <= until]
            if not mature:
                assert pd.isna(source) and pd.isna(ltv) and pd.isna(churn)
                continue
            cohort = mature[-1]
            assert source == cohort
            members = customers[customers["cohort_month"] == cohort]
            revenue = valued[(valued["cohort_month"] == cohort) & (age < n)]["net_revenue"].sum()
            assert ltv == pytest.approx(revenue / len(members))
            repeaters = (members["days_to_second_order"] < n).sum()
            assert churn == pytest.approx(1 - repeaters / len(members))
            if n == 365:
                days = members["days_to_second_order"].dropna()
                days = days[days < 365]
                assert row.median_days_to_second_order_cohort_month == cohort
                if len(days):
                    assert row.median_days_to_second_order == pytest.approx(days.median())
                else:
                    assert pd.isna(row.median_days_to_second_order)
                # Kaplan-Meier over the whole cohort, no second order within 365 days =
                # censored at 365 (the cohort is observed for the full window)
                delays = members["days_to_second_order"].to_numpy(dtype=float)
                events = delays < 365  # NaN < 365 is False
                durations = np.where(events, delays, 365.0)
                km = kaplan_meier_quantiles(durations, events)
                assert row.km_median_days_to_second_order_cohort_month == cohort
                assert row.km_days_to_second_order_customers == len(members)
                for name in ("median", "p25"):
                    value = getattr(row, f"km_{name}_days_to_second_order")
                    if np.isnan(km[f"km_{name}"]):
                        assert pd.isna(value)
                    else:
                        assert value == pytest.approx(km[f"km_{name}"])
                km_checked.append((km["km_median"], row.median_days_to_second_order))
    # the comparison exercised a KM median that differs from the observed one
    assert any(not np.isnan(k) and k != m for k, m in km_checked)


# ------------------------------------------------------------------------------ demo store


def test_demo_referral_best_affiliate_worst_ltv_to_cac(demo_db):
    mart = read_mart(demo_db, "fct_acquisition_monthly")
    mature = mart[mart["is_ltv_365d_mature"] & (mart["channel"] != "all")]
    per_channel = mature.groupby("channel")[["cohort_net_revenue_365d", "spend"]].sum()
    paid = per_channel[per_channel["spend"] > 0].drop(index="unattributed")
    ratio = (paid["cohort_net_revenue_365d"] / paid["spend"]).sort_values()
    assert len(ratio) >= 5, ratio
    assert ratio.index[-1] == "referral", ratio
    assert ratio.index[0] == "affiliate", ratio
