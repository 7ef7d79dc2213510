"""Product journeys and inactive rates against an independent computation from the raw files.

The fixture store's CSV exports (tests/fixtures/store_small) are read with pandas and the
written definitions are applied again, without the warehouse's models: valid orders
(completed or refunded, identity resolved, shop currency, dated on or before as_of_date in
the reporting timezone, net sales before returns > 0), identity (customer id, else the
registered customer owning the normalised email, else a guest per email), order sequence,
first product (the first order's highest-value paid line), the second order's main product
(the same rule on the second order) and inactivity (no valid order in days 182..364 /
365..729 after the first order). The results are compared with fct_product_journeys,
fct_product_category_journeys, fct_cohort_value and fct_kpis_monthly. The fixture must also
show the refill -> refill loop the demo generator plants (refill first buyers come back for
refills).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from conftest import FIXTURE_RAW as RAW
from conftest import ROOT

VARS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
TZ = VARS["reporting_timezone"]
SHOP_CURRENCY = VARS["shop_currency"]
MIN_SAMPLE = int(VARS["first_product_min_customers"])
INACTIVITY = {"6m": (182, 364), "12m": (365, 729)}


def _text(values: pd.Series) -> pd.Series:
    stripped = values.astype("string").str.strip()
    return stripped.mask(stripped == "")


def _valid_orders(as_of_date: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Valid orders (customer, date, sequence) and their paid lines, from the raw CSVs."""
    orders = pd.read_csv(RAW / "orders.csv", dtype=str, keep_default_na=False)
    lines = pd.read_csv(RAW / "order_lines.csv", dtype=str, keep_default_na=False)
    customers = pd.read_csv(RAW / "customers.csv", dtype=str, keep_default_na=False)

    orders["customer_id"] = _text(orders["customer_id"])
    orders["email"] = _text(orders["customer_email"]).str.lower()
    orders["status"] = _text(orders["status"]).str.lower().fillna("completed")
    orders["currency"] = _text(orders["currency"]).str.upper().fillna(SHOP_CURRENCY)
    include_tax = _text(orders["prices_include_tax"]).str.lower()
    orders["include_tax"] = include_tax.fillna(str(VARS["default_prices_include_tax"]).lower())
    ordered_at = pd.to_datetime(orders["ordered_at"], utc=True, format="ISO8601")
    orders["ordered_at_utc"] = ordered_at
    orders["order_date"] = ordered_at.dt.tz_convert(TZ).dt.tz_localize(None).dt.normalize()

    # identity: id, else the smallest id owning the email, else a guest per email
    customers["email"] = _text(customers["email"]).str.lower()
    known = pd.concat(
        [
            customers.loc[customers["email"].notna(), ["email", "customer_id"]],
            orders.loc[
                orders["email"].notna() & orders["customer_id"].notna(), ["email", "customer_id"]
            ],
        ]
    )
    owners = known.groupby("email")["customer_id"].min()
    person = orders["customer_id"].copy()
    no_id = person.isna() & orders["email"].notna()
    owned = orders.loc[no_id, "email"].map(owners)
    person.loc[no_id] = owned.fillna("guest:" + orders.loc[no_id, "email"])
    orders["person"] = person

    # paid value of each line excl. VAT (gift = 100% discount, discount capped at the line)
    lines["quantity"] = pd.to_numeric(lines["quantity"])
    lines["unit_price"] = pd.to_numeric(lines["unit_price"])
    lines["discount"] = pd.to_numeric(_text(lines["discount_amount"])).fillna(0.0)
    lines["tax_rate"] = pd.to_numeric(_text(lines["tax_rate"])).fillna(VARS["default_tax_rate"])
    lines["is_gift"] = _text(lines["is_gift"]).str.lower().eq("true")
    lines = lines.merge(orders[["order_id", "include_tax"]], on="order_id", how="inner")
    list_amount = lines["quantity"] * lines["unit_price"]
    discount = list_amount.where(lines["is_gift"], lines["discount"].clip(upper=list_amount))
    divisor = (1 + lines["tax_rate"]).where(lines["include_tax"] == "true", 1.0)
    lines["paid"] = (list_amount - discount) / divisor
    net_sales = lines.groupby("order_id")["paid"].sum()

    orders["net_sales"] = orders["order_id"].map(net_sales).fillna(0.0)
    valid = orders[
        orders["status"].isin(["completed", "refunded"])
        & orders["person"].notna()
        & (orders["currency"] == SHOP_CURRENCY)
        & (orders["order_date"] <= as_of_date)
        & (orders["net_sales"] > 1e-9)
    ].copy()
    valid = valid.sort_values(["person", "ordered_at_utc", "order_id"])
    valid["sequence"] = valid.groupby("person").cumcount() + 1
    paid_lines = lines.loc[~lines["is_gift"], ["order_line_id", "order_id", "product_id", "paid"]]
    return valid[["order_id", "person", "order_date", "sequence"]], paid_lines


def _main_product(orders: pd.DataFrame, lines: pd.DataFrame) -> pd.Series:
    """Per person: the order's highest-value paid line (ties: product id, line id)."""
    merged = lines.merge(orders[["order_id", "person"]], on="order_id")
    merged = merged.sort_values(
        ["person", "paid", "product_id", "order_line_id"], ascending=[True, False, True, True]
    )
    return merged.groupby("person")["product_id"].first()


@pytest.fixture(scope="module")
def reference(fixture_warehouse: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(fixture_warehouse), read_only=True)
    try:
        as_of = pd.Timestamp(
            con.execute("select as_of_date from marts.fct_kpis_monthly").fetchone()[0]
        )
    finally:
        con.close()
    orders, lines = _valid_orders(as_of)
    products = pd.read_csv(RAW / "products.csv", dtype=str).set_index("product_id")["category"]

    first = orders[orders["sequence"] == 1].set_index("person")
    second = orders[orders["sequence"] == 2].set_index("person")
    people = pd.DataFrame({"first_date": first["order_date"]})
    people["cohort_month"] = people["first_date"].dt.to_period("M").dt.to_timestamp()
    people["first_product"] = _main_product(orders[orders["sequence"] == 1], lines)
    people["second_product"] = _main_product(orders[orders["sequence"] == 2], lines)
    people["has_second"] = people.index.isin(second.index)
    people["days_to_second"] = (second["order_date"] - people["first_date"]).dt.days
    people["days_observed"] = (as_of - people["first_date"]).dt.days

    aged = orders.merge(people[["first_date"]], left_on="person", right_index=True)
    aged["day"] = (aged["order_date"] - aged["first_date"]).dt.days
    for label, (low, high) in INACTIVITY.items():
        in_window = aged[(aged["day"] >= low) & (aged["day"] <= high)]["person"].unique()
        known = people["days_observed"] >= high
        flag = pd.Series(~people.index.isin(in_window), index=people.index)
        people[f"inactive_{label}"] = flag.where(known)

    repeaters = people[people["has_second"] & people["first_product"].notna()].copy()
    repeaters["first_category"] = repeaters["first_product"].map(products).fillna("uncategorised")
    repeaters["second_category"] = repeaters["second_product"].map(products).fillna("uncategorised")
    return {"people": people, "repeaters": repeaters, "as_of": pd.DataFrame({"d": [as_of]})}


def _assert_customers_equal(mart: pd.DataFrame, keys: list[str], expected: pd.Series) -> None:
    """The mart's customers per keys equal the expected counts (same pairs, same counts)."""
    actual = mart.set_index(keys)["customers"]
    actual.index.names = expected.index.names
    pd.testing.assert_series_equal(
        actual.sort_index().astype(int), expected.sort_index().astype(int), check_names=False
    )


def test_product_journeys_match_the_raw_files(reference: dict, fixture_db) -> None:
    repeaters = reference["repeaters"]
    assert repeaters["second_product"].notna().all()
    expected = repeaters.groupby(["first_product", "second_product"]).size()
    mart = fixture_db.sql(
        """
        select first_product_id, second_product_id, customers, first_product_repeaters,
            share_of_repeaters, is_below_min_sample
        from marts.fct_product_journeys
        """
    ).df()
    _assert_customers_equal(mart, ["first_product_id", "second_product_id"], expected)
    per_first = repeaters.groupby("first_product").size()
    for row in mart.itertuples():
        n = per_first[row.first_product_id]
        assert row.first_product_repeaters == n
        assert abs(row.share_of_repeaters - row.customers / n) < 1e-12
        assert row.is_below_min_sample == (n < MIN_SAMPLE)


def test_category_journeys_match_the_raw_files(reference: dict, fixture_db) -> None:
    repeaters = reference["repeaters"]
    expected = repeaters.groupby(["first_category", "second_category"]).size()
    mart = fixture_db.sql(
        """
        select first_product_category, second_product_category, customers
        from marts.fct_product_category_journeys
        """
    ).df()
    _assert_customers_equal(mart, ["first_product_category", "second_product_category"], expected)


def test_refill_buyers_come_back_for_refills(fixture_db) -> None:
    """The planted loop: refill first buyers repeat most and mostly into refills."""
    df = fixture_db.sql(
        """
        select first_product_category, second_product_category, customers,
            first_category_repeaters, share_of_repeaters
        from marts.fct_product_category_journeys
        """
    ).df()
    refill = df[df.first_product_category == "refill"].sort_values("customers", ascending=False)
    assert refill.iloc[0].second_product_category == "refill"
    loop = refill[refill.second_product_category == "refill"].iloc[0]
    assert loop.share_of_repeaters > 0.5
    # refill has the most repeaters of any first category, and its loop is the largest cell
    assert refill.first_category_repeaters.iloc[0] == df.first_category_repeaters.max()
    assert loop.customers == df.customers.max()


@pytest.mark.parametrize("label", sorted(INACTIVITY))
def test_inactive_rates_match_the_raw_files(reference: dict, fixture_db, label: str) -> None:
    people = reference["people"]
    known = people[people[f"inactive_{label}"].notna()]
    expected = known.groupby("cohort_month")[f"inactive_{label}"].agg(["sum", "count"])
    mart = fixture_db.sql(
        f"""
        select cohort_month, customers, inactive_customers_{label} as inactive,
            inactivity_observed_customers_{label} as observed, inactive_rate_{label} as rate
        from marts.fct_cohort_value
        where segment_type = 'all'
        """
    ).df()
    mart["cohort_month"] = pd.to_datetime(mart["cohort_month"])
    mature = mart[mart.rate.notna()]
    assert len(mature) > 0
    for row in mature.itertuples():
        assert row.observed == row.customers, row
        assert row.inactive == expected.loc[row.cohort_month, "sum"], row
        assert row.observed == expected.loc[row.cohort_month, "count"], row
        assert abs(row.rate - row.inactive / row.observed) < 1e-12
    # a cohort month is mature only when its last day's window is over
    window_end = INACTIVITY[label][1]
    for row in mart[mart.rate.isna()].itertuples():
        month_end = row.cohort_month + pd.offsets.MonthEnd(0)
        assert month_end + pd.Timedelta(days=window_end) > reference["as_of"].d.iloc[0], row

    # fct_kpis_monthly: the rate of its source cohort
    kpis = fixture_db.sql(
        f"""
        select inactive_rate_{label} as rate, inactive_rate_{label}_cohort_month as cohort,
            inactive_rate_{label}_inactive_customers as inactive,
            inactive_rate_{label}_cohort_customers as observed
        from marts.fct_kpis_monthly
        where inactive_rate_{label} is not null
        """
    ).df()
    assert len(kpis) > 0
    for row in kpis.itertuples():
        cohort = pd.Timestamp(row.cohort)
        assert row.inactive == expected.loc[cohort, "sum"]
        assert row.observed == expected.loc[cohort, "count"]


def test_churn_and_inactivity_answer_different_questions(reference: dict) -> None:
    """Both readings are needed on the fixture: some customers churned at 6 months (no second
    order within 182 days) but are not inactive (they came back in months 6-12), and some
    repeated within 182 days but are inactive in months 6-12."""
    people = reference["people"]
    known = people[people["inactive_6m"].notna()]
    churned = ~(known["days_to_second"] < 182)
    inactive = known["inactive_6m"].astype(bool)
    assert (churned & ~inactive).any()
    assert (~churned & inactive).any()


def _refill_loop(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.sql(
        """
        select first_product_category, second_product_category, customers,
            first_category_repeaters, share_of_repeaters, share_of_repeaters_ci_low
        from marts.fct_product_category_journeys
        where is_same_category
        """
    ).df()


def test_demo_refill_loop_is_the_strongest(demo_db) -> None:
    """On the generated demo the planted loop (refill buyers repeat 1.6x, 85% of heavy
    repeaters' lines stay in the home category) is the largest and strongest journey."""
    loops = _refill_loop(demo_db).set_index("first_product_category")
    refill = loops.loc["refill"]
    assert refill.share_of_repeaters == loops.share_of_repeaters.max()
    assert refill.customers == loops.customers.max()
    assert refill.share_of_repeaters_ci_low > 0.75
