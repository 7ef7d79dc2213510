"""Margin economics (issue 15) recomputed independently of the models.

From the raw fixture files (tests/test_core_marts.py's pandas reference for the revenue
ladder, identity and validity; the raw cost columns here), this module recomputes line and
order COGS / CM1 / CM2, the customers' margin LTV and CAC repayment, and per acquisition
month x channel the fully loaded CAC, margin LTV, cost coverage and margin payback months,
written from the doc blocks in models/marts/core/_margin__docs.md, and compares them with
the marts. It also checks the demo's planted never-repaying channel and that a store
without cost columns builds every other mart column unchanged with margins null.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURE_RAW, build_warehouse
from test_acquisition import as_of_date, attributed_spend
from test_core_marts import read_raw, reference  # noqa: F401 (reference is a fixture)

MIN_COVERAGE = 0.95  # var min_cost_coverage
MONEY_ATOL = 0.01  # float reference vs DECIMAL(18,4) marts summed over a few lines
WINDOWS = (182, 365)

# columns that exist because of margins: null (or var-driven) on a store without costs
MARGIN_COLUMNS = {
    "fct_order_lines": {"unit_cost", "cogs", "gross_margin"},
    "fct_orders": {
        "cogs",
        "gross_margin",
        "shipping_cost",
        "payment_fees",
        "fulfillment_cost",
        "contribution_margin",
        "has_known_cost",
    },
    "dim_customers": {
        "gross_margin",
        "contribution_margin",
        "margin_ltv_182d",
        "margin_ltv_365d",
        "acquisition_cac",
        "has_repaid_cac",
        "days_to_repay_cac",
        "cac_repayment_ratio",
    },
    "fct_acquisition_monthly": {
        "cac_fully_loaded",
        "margin_ltv_182d",
        "margin_ltv_365d",
        "margin_ltv_to_cac_365d",
        "margin_payback_months",
        "cost_coverage",
    },
    "fct_kpis_monthly": {
        "gross_margin",
        "contribution_margin",
        "cm3",
        "gross_margin_rate",
        "contribution_margin_rate",
        "poas",
        "cost_coverage",
    },
    "fct_first_product_performance": {"margin_ltv_365d", "first_order_gross_margin_rate"},
}
MARGIN_COLUMNS["fct_orders_valid"] = MARGIN_COLUMNS["fct_orders"]
# spend-based, not margins: they keep their values on a store without costs
NOT_MARGINS = {"acquisition_cac", "cac_fully_loaded", "payment_fees", "fulfillment_cost"}


def expected_orders(ref: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Order COGS, CM1, CM2 and has_known_cost from the raw cost columns (vars at defaults:
    restocked returns, no payment fee, no fulfilment cost, shipping charged excluded)."""
    lines = ref["lines"].copy()
    products = read_raw("products")
    refunds = read_raw("refunds")
    raw_orders = read_raw("orders").set_index("order_id")
    product_cost = pd.to_numeric(products.set_index("product_id")["unit_cost"])
    lines["cost"] = pd.to_numeric(lines["unit_cost"]).fillna(lines["product_id"].map(product_cost))
    line_refunds = refunds[refunds["order_line_id"].notna()].copy()
    line_refunds["quantity"] = pd.to_numeric(line_refunds["quantity"]).fillna(0)
    back = line_refunds.groupby("order_line_id")["quantity"].sum()
    returned = lines["order_line_id"].map(back).fillna(0)
    lines["returned"] = np.minimum(returned, lines["quantity"])
    lines["cogs"] = (lines["quantity"] - lines["returned"]) * lines["cost"]
    per_order = lines.groupby("order_id").agg(
        lines=("order_line_id", "size"),
        known_lines=("cost", "count"),
        cogs=("cogs", "sum"),
    )
    orders = ref["orders"].copy()
    orders = orders.join(per_order)
    known_cogs = orders["known_lines"] == orders["lines"]
    orders["cogs"] = orders["cogs"].where(known_cogs)
    orders["shipping_cost"] = pd.to_numeric(raw_orders["shipping_cost"]).reindex(orders.index)
    orders["gross_margin"] = orders["net_revenue"] - orders["cogs"]
    orders["contribution_margin"] = orders["gross_margin"] - orders["shipping_cost"]
    orders["has_known_cost"] = known_cogs & orders["shipping_cost"].notna()
    return orders


def expected_cac(con: duckdb.DuckDBPyConnection, customers: pd.DataFrame) -> pd.DataFrame:
    """Fully loaded CAC per month x channel (+ 'all'): unattributed spend spread over the
    month's channels pro rata to their attributed spend."""
    as_of = as_of_date(con)
    spend = attributed_spend(con, as_of).groupby(["month", "channel"])["spend"].sum()
    spend = spend.reset_index()
    first, last = spend["month"].min(), spend["month"].max()
    new = customers.groupby(["cohort_month", "acquisition_channel"]).size()
    new = new.rename("new_customers").reset_index()
    new.columns = ["month", "channel", "new_customers"]
    cells = spend.merge(new, on=["month", "channel"], how="outer")
    cells["spend"] = cells["spend"].fillna(0.0).where(cells["month"].between(first, last))
    cells["new_customers"] = cells["new_customers"].fillna(0)
    unattributed = cells["channel"] == "unattributed"
    month_u = cells["spend"].where(unattributed, 0).groupby(cells["month"]).transform("sum")
    month_a = cells["spend"].where(~unattributed, 0).groupby(cells["month"]).transform("sum")
    share = np.where(month_a > 0, cells["spend"] / month_a.where(month_a > 0), 0.0)
    allocated = np.where(month_a > 0, np.where(unattributed, -cells["spend"], month_u * share), 0.0)
    cells["loaded"] = cells["spend"] + allocated
    total = cells.groupby("month", as_index=False)[["spend", "new_customers"]].sum(min_count=1)
    total["loaded"] = total["spend"]
    total["channel"] = "all"
    cells = pd.concat([cells, total], ignore_index=True)
    ok = cells["new_customers"] > 0
    cells["cac_fully_loaded"] = (cells["loaded"] / cells["new_customers"]).where(ok)
    return cells.set_index(["month", "channel"])


def expected_customers(
    orders: pd.DataFrame, con: duckdb.DuckDBPyConnection, ref: dict[str, pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    as_of = as_of_date(con)
    customers = ref["customers"].copy()
    valid = orders[orders["is_valid_order"]].copy()
    valid = valid.sort_values(["resolved_customer_id", "order_sequence"])
    valid["first_date"] = valid["resolved_customer_id"].map(customers["first_order_date"])
    valid["day"] = (valid["order_date"] - valid["first_date"]).dt.days
    cac = expected_cac(con, customers)
    rows = {}
    for cid, group in valid.groupby("resolved_customer_id"):
        first = customers.loc[cid]
        known = bool(group["has_known_cost"].all())
        cm2 = group["contribution_margin"].sum() if known else np.nan
        cm1_known = group["gross_margin"].notna().all()
        row = {
            "gross_margin": group["gross_margin"].sum() if cm1_known else np.nan,
            "contribution_margin": cm2,
        }
        observed = (as_of - first["first_order_date"]).days
        for n in WINDOWS:
            window = group[group["day"] < n]
            ok = observed >= n - 1 and bool(window["has_known_cost"].all())
            row[f"margin_ltv_{n}d"] = window["contribution_margin"].sum() if ok else np.nan
        key = (first["cohort_month"], first["acquisition_channel"])
        acq = cac["cac_fully_loaded"].get(key, np.nan)
        row["acquisition_cac"] = acq
        repaid = cm2 >= acq if not (np.isnan(cm2) or np.isnan(acq)) else None
        row["has_repaid_cac"] = repaid
        days = np.nan
        if repaid:
            cumulative = group["contribution_margin"].cumsum()
            days = group.loc[cumulative >= acq - 1e-9, "day"].iloc[0]
        row["days_to_repay_cac"] = days
        row["cac_repayment_ratio"] = cm2 / acq if acq > 0 else np.nan
        rows[cid] = row
    return pd.DataFrame.from_dict(rows, orient="index"), valid, cac


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else np.nan


def expected_cells(
    valid: pd.DataFrame, customers: pd.DataFrame, cac: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Per acquisition month x channel (+ 'all'): coverage, margin LTV, margin payback."""
    valid = valid.copy()
    valid["cohort_month"] = valid["resolved_customer_id"].map(customers["cohort_month"])
    valid["channel"] = valid["resolved_customer_id"].map(customers["acquisition_channel"])
    valid["order_month"] = valid["order_date"].dt.to_period("M").dt.to_timestamp()
    valid["covered_nr"] = valid["net_revenue"].where(valid["has_known_cost"], 0.0)
    valid["covered_cm2"] = valid["contribution_margin"].where(valid["has_known_cost"], 0.0)
    both = pd.concat([valid, valid.assign(channel="all")], ignore_index=True)
    out = {}
    for (month, channel), group in both.groupby(["cohort_month", "channel"]):
        cell = cac.loc[(month, channel)]
        new = cell["new_customers"]
        coverage = _ratio(group["covered_nr"].sum(), group["net_revenue"].sum())
        row = {"cost_coverage": coverage, "cac_fully_loaded": cell["cac_fully_loaded"]}
        for n in WINDOWS:
            mature = month + pd.offsets.MonthEnd(0) + pd.Timedelta(days=n - 1) <= as_of
            window = group[group["day"] < n]
            cov_n = _ratio(window["covered_nr"].sum(), window["net_revenue"].sum())
            ok = mature and cov_n >= MIN_COVERAGE
            row[f"margin_ltv_{n}d"] = window["covered_cm2"].sum() / new if ok else np.nan
        payback = np.nan
        if cell["cac_fully_loaded"] > 0 and coverage >= MIN_COVERAGE:
            monthly = group.groupby("order_month")["covered_cm2"].sum().sort_index().cumsum()
            for activity, cumulative in monthly.items():
                complete = activity + pd.offsets.MonthEnd(0) <= as_of
                if complete and cumulative >= cell["loaded"] - 1e-9:
                    payback = (activity.year - month.year) * 12 + activity.month - month.month
                    break
        row["margin_payback_months"] = payback
        out[(month, channel)] = row
    return pd.DataFrame.from_dict(out, orient="index")


def _compare(actual: pd.Series, expected: pd.Series, name: str, atol: float) -> None:
    expected = expected.reindex(actual.index)
    a = pd.to_numeric(actual, errors="coerce").astype(float)
    e = pd.to_numeric(expected, errors="coerce").astype(float)
    bad = ~(a.isna() & e.isna()) & ~(np.abs(a - e) <= atol)
    assert not bad.any(), f"{name}: {int(bad.sum())} differences, e.g.\n" + str(
        pd.DataFrame({"mart": actual[bad], "reference": expected[bad]}).head()
    )


def test_order_and_line_margins_match_the_raw_costs(fixture_db, reference):  # noqa: F811
    orders = expected_orders(reference)
    mart = fixture_db.sql(
        "select order_id, cogs, gross_margin, shipping_cost, contribution_margin, "
        "has_known_cost from marts.fct_orders"
    ).df()
    mart = mart.set_index("order_id")
    for column in ("cogs", "gross_margin", "shipping_cost", "contribution_margin"):
        _compare(mart[column], orders[column], f"fct_orders.{column}", MONEY_ATOL)
    known = orders["has_known_cost"].reindex(mart.index).astype(bool)
    assert (mart["has_known_cost"].astype(bool) == known).all()
    # the fixture exercises unknown costs, restocked returns and gifts
    assert 0 < int(known.sum()) < len(known)


def test_customer_margins_and_repayment_match_independent_computation(
    fixture_db,
    reference,  # noqa: F811
):
    orders = expected_orders(reference)
    expected, _, _ = expected_customers(orders, fixture_db, reference)
    mart = fixture_db.sql("select * from marts.dim_customers").df().set_index("customer_id")
    for column in (
        "gross_margin",
        "contribution_margin",
        "margin_ltv_182d",
        "margin_ltv_365d",
        "acquisition_cac",
        "cac_repayment_ratio",
        "days_to_repay_cac",
    ):
        _compare(mart[column], expected[column], f"dim_customers.{column}", MONEY_ATOL)
    repaid = expected["has_repaid_cac"].reindex(mart.index)
    same = (mart["has_repaid_cac"].isna() & repaid.isna()) | (
        mart["has_repaid_cac"].astype(object) == repaid.astype(object)
    )
    assert same.all(), mart.loc[~same, ["has_repaid_cac", "contribution_margin"]].head()
    # both outcomes occur on the fixture, and unknown costs give null (not false)
    assert mart["has_repaid_cac"].eq(True).any() and mart["has_repaid_cac"].eq(False).any()
    assert mart["has_repaid_cac"].isna().any()


def test_acquisition_margin_ltv_and_payback_match_independent_computation(
    fixture_db,
    reference,  # noqa: F811
):
    as_of = as_of_date(fixture_db)
    orders = expected_orders(reference)
    _, valid, cac = expected_customers(orders, fixture_db, reference)
    expected = expected_cells(valid, reference["customers"], cac, as_of)
    mart = fixture_db.sql(
        "select * from marts.fct_acquisition_monthly where new_customers > 0"
    ).df()
    mart["month"] = pd.to_datetime(mart["month"])
    mart = mart.set_index(["month", "channel"])
    assert set(expected.index) == set(mart.index)
    for column in ("cac_fully_loaded", "margin_ltv_182d", "margin_ltv_365d"):
        _compare(mart[column], expected[column], f"fct_acquisition_monthly.{column}", 0.01)
    _compare(mart["cost_coverage"], expected["cost_coverage"], "cost_coverage", 1e-6)
    _compare(mart["margin_payback_months"], expected["margin_payback_months"], "payback", 0)
    # payback is reached in some cells and not (null, never 0 by default) in others
    assert mart["margin_payback_months"].notna().any()
    assert mart.loc[mart["cac_fully_loaded"] > 0, "margin_payback_months"].isna().any()


def test_demo_affiliate_never_repays_and_payback_differs_by_channel(demo_db):
    """The generator plants an affiliate channel whose customers look fine on revenue but
    whose CM2 per customer (~70) stays below its fully loaded CAC (~83)."""
    repaid = (
        demo_db.sql(
            "select acquisition_channel, avg(case when has_repaid_cac then 1.0 else 0.0 end) "
            "as repaid_share from marts.dim_customers where has_repaid_cac is not null "
            "group by acquisition_channel"
        )
        .df()
        .set_index("acquisition_channel")["repaid_share"]
    )
    assert repaid["affiliate"] < 0.5, repaid
    paid = repaid.drop(index=["affiliate", "organic", "direct", "unknown"], errors="ignore")
    assert (paid > repaid["affiliate"]).all(), repaid
    payback = (
        demo_db.sql(
            "select channel, median(margin_payback_months) as months, "
            "avg(case when margin_payback_months is null then 1.0 else 0.0 end) as unpaid "
            "from marts.fct_acquisition_monthly "
            "where cac_fully_loaded > 0 and payback_months_observed >= 12 group by channel"
        )
        .df()
        .set_index("channel")
    )
    assert payback["months"].dropna().nunique() > 1, payback
    # the planted channel's cohorts mostly never reach their CAC on margin
    assert payback.loc["affiliate", "unpaid"] > 0.5, payback
    # revenue would say otherwise: the revenue payback is reached
    revenue = demo_db.execute(
        "select avg(case when payback_months is null then 0.0 else 1.0 end) as reached "
        "from marts.fct_acquisition_monthly where channel = 'affiliate' and cac > 0 "
        "and payback_months_observed >= 12"
    ).fetchone()[0]
    assert revenue > 0.9


@pytest.fixture(scope="module")
def costless_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture store with its three optional cost columns removed."""
    raw = tmp_path_factory.mktemp("costless_raw")
    for path in FIXTURE_RAW.iterdir():
        if path.is_file():
            shutil.copy(path, raw / path.name)
    for table, column in (
        ("products", "unit_cost"),
        ("order_lines", "unit_cost"),
        ("orders", "shipping_cost"),
    ):
        frame = pd.read_csv(raw / f"{table}.csv", dtype=str, keep_default_na=False)
        frame.drop(columns=[column]).to_csv(raw / f"{table}.csv", index=False)
    work = tmp_path_factory.mktemp("costless_wh")
    return build_warehouse(raw, work / "costless.duckdb", work)


def _rows_differ(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> int:
    """Rows of marts.<table> (these columns) found in one of the two builds (this database's
    marts, the attached costed.marts) and not in the other, both ways, duplicates counted."""
    diff = 0
    for a, b in (("marts", "costed.marts"), ("costed.marts", "marts")):
        diff += con.execute(
            f"select count(*) from (select {columns} from {a}.{table} "
            f"except all select {columns} from {b}.{table})"
        ).fetchone()[0]
    return diff


def test_store_without_costs_has_null_margins_and_unchanged_marts(
    costless_warehouse, fixture_warehouse
):
    con = duckdb.connect(str(costless_warehouse), read_only=True)
    try:
        con.execute(f"attach '{fixture_warehouse}' as costed (read_only)")
        for table, margin_columns in MARGIN_COLUMNS.items():
            columns = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'marts' and table_name = ? "
                    "and table_catalog = current_database() order by ordinal_position",
                    [table],
                ).fetchall()
            ]
            assert margin_columns <= set(columns), table
            for column in margin_columns - NOT_MARGINS:
                if column == "cost_coverage":
                    # known: nothing is covered (0 where there is net revenue)
                    values = con.execute(
                        f"select count(*) from marts.{table} where {column} != 0"
                    ).fetchone()[0]
                elif column == "has_known_cost":
                    values = con.execute(
                        f"select count(*) from marts.{table} where {column}"
                    ).fetchone()[0]
                else:
                    values = con.execute(f"select count({column}) from marts.{table}").fetchone()[0]
                assert values == 0, f"{table}.{column}: {values} values without cost data"
            others = ", ".join(c for c in columns if c not in margin_columns)
            diff = _rows_differ(con, table, others)
            assert diff == 0, f"{table}: {diff} rows differ outside the margin columns"
        # every mart other than the ones above is unchanged, column for column
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' and table_catalog = current_database()"
            ).fetchall()
        ]
        for table in tables:
            if table in MARGIN_COLUMNS:
                continue
            diff = _rows_differ(con, table, "*")
            assert diff == 0, f"{table}: {diff} rows differ without cost data"
    finally:
        con.close()
