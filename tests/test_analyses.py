"""analyses/: the growth lead's questions compile and answer correctly on the fixture warehouse.

Each analysis is compiled by dbt (`dbt compile --select resource_type:analysis`), run against
the fixture warehouse, and checked against something computed independently from
`dim_customers` (the customer grain), not from the mart the analysis reads.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import ParsedProject

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ANALYSES = sorted(p.stem for p in (ROOT / "analyses").glob("*.sql"))


@pytest.fixture(scope="module")
def compiled(fixture_warehouse: Path, parsed_project: ParsedProject) -> dict[str, str]:
    """Compiled SQL of every analysis, by file stem.

    dbt-duckdb names relations after the database file's stem, so the compile points at a
    file with the fixture warehouse's name (conftest.parsed_project, whose parse it reuses):
    no lock is taken on the warehouse itself.
    """
    assert parsed_project.database.name == fixture_warehouse.name
    cmd = [str(BIN / "dbt"), "compile", "--quiet", "--select", "resource_type:analysis"]
    done = subprocess.run(
        [*cmd, *parsed_project.paths],
        cwd=ROOT,
        env=parsed_project.env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"dbt compile failed:\n{done.stdout}\n{done.stderr}"
    out = parsed_project.database.parent / "target" / "compiled" / "dtc_economics" / "analyses"
    return {p.stem: p.read_text(encoding="utf-8") for p in out.glob("*.sql")}


@pytest.fixture()
def run(
    compiled: dict[str, str], fixture_db: duckdb.DuckDBPyConnection
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, pd.DataFrame]]]:
    yield fixture_db, {name: fixture_db.sql(sql).df() for name, sql in compiled.items()}


def test_every_analysis_compiles_and_reads_marts_only(compiled: dict[str, str]) -> None:
    assert len(ANALYSES) == 8
    assert sorted(compiled) == ANALYSES
    for name in ANALYSES:
        source = (ROOT / "analyses" / f"{name}.sql").read_text(encoding="utf-8")
        refs = [part.split("'")[1] for part in source.split("ref(")[1:]]
        assert refs and all(r.startswith(("fct_", "dim_")) for r in refs), (name, refs)
        assert '"marts"."' in compiled[name]


def test_buyers_split_adds_up_and_new_buyers_match_the_customers(run: tuple) -> None:
    con, results = run
    df = results["buyers_new_returning_reactivated_monthly"]
    assert len(df) > 0
    assert (df.new_customers + df.returning_customers + df.reactivated_customers == df.buyers).all()
    with_buyers = df[df.buyers > 0]
    shares = (
        with_buyers.new_buyer_share
        + with_buyers.returning_buyer_share
        + with_buyers.reactivated_buyer_share
    )
    assert ((shares - 1).abs() < 1e-12).all()
    # independent: new customers of a month = customers whose cohort month it is
    cohorts = con.sql(
        "select cohort_month as month, count(*) as n from marts.dim_customers group by 1"
    ).df()
    merged = df.merge(cohorts, on="month", how="left").fillna({"n": 0})
    assert (merged.new_customers == merged.n).all()
    assert (
        merged.new_customers.sum()
        == con.execute("select count(*) from marts.dim_customers").fetchone()[0]
    )


def test_bfcm_rates_match_the_customers(run: tuple) -> None:
    con, results = run
    df = results["bfcm_vs_other_first_buyers"]
    assert len(df) > 0 and set(df.group_value) == {"bfcm", "other"}
    customers = con.sql(
        """
        select year(first_order_date) as acquisition_year, is_bfcm_acquired,
               first_order_date, days_to_second_order, as_of_date
        from marts.dim_customers
        """
    ).df()
    checked = 0
    for row in df.itertuples():
        group = customers[
            (customers.acquisition_year == row.acquisition_year)
            & (customers.is_bfcm_acquired == (row.group_value == "bfcm"))
        ]
        assert len(group) == row.customers, row
        for days in (90, 180):
            rate = getattr(row, f"repeat_rate_{days}d")
            if pd.isna(rate):
                continue
            repeated = (group.days_to_second_order < days).sum()
            assert abs(rate - repeated / len(group)) < 1e-12, (row, days)
            checked += 1
        other = df[(df.acquisition_year == row.acquisition_year) & (df.group_value == "other")]
        if not pd.isna(row.repeat_rate_90d):
            expected = row.repeat_rate_90d - other.repeat_rate_90d.iloc[0]
            assert abs(row.repeat_rate_90d_vs_other - expected) < 1e-12
    assert checked > 0


def test_channel_ranking_pools_cohorts_and_matches_customer_ltv(run: tuple) -> None:
    con, results = run
    df = results["channels_by_ltv_to_cac_12m"]
    ranked = df[df.ltv_to_cac_rank.notna()].sort_values("ltv_to_cac_rank")
    assert len(ranked) >= 2 and "all" not in set(ranked.channel)
    assert list(ranked.ltv_to_cac_rank) == list(range(1, len(ranked) + 1))
    assert ranked.ltv_to_cac_365d.is_monotonic_decreasing
    assert ((df.ltv_to_cac_365d - df.ltv_365d / df.cac).abs() < 1e-9).all()
    # independent: LTV = mean 365-day LTV of dim_customers acquired in the pooled months
    months = con.sql(
        """
        select channel, month from marts.fct_acquisition_monthly
        where is_ltv_365d_mature and spend is not null
        """
    ).df()
    customers = con.sql(
        "select acquisition_channel, cohort_month, ltv_365d from marts.dim_customers"
    ).df()
    for row in ranked.itertuples():
        pooled = set(months[months.channel == row.channel].month)
        mine = customers[
            (customers.acquisition_channel == row.channel) & customers.cohort_month.isin(pooled)
        ]
        assert len(mine) == row.new_customers, row.channel
        assert mine.ltv_365d.notna().all()
        assert abs(mine.ltv_365d.mean() - row.ltv_365d) < 1e-9, row.channel


def test_first_products_rank_only_sufficient_samples_and_rates_match(run: tuple) -> None:
    con, results = run
    df = results["first_products_by_repeat"]
    assert len(df) > 0
    assert df[df.is_below_min_sample].repeat_rank.isna().all()
    ranked = df[df.repeat_rank.notna()]
    assert ranked.repeat_rate_90d.is_monotonic_decreasing
    assert list(df.repeat_rank.notna()) == sorted(df.repeat_rank.notna(), reverse=True)
    # independent: per first product, customers and the 90-day repeat rate over customers
    # whose 90-day window is complete (days 0..89 observed by as_of_date)
    customers = con.sql(
        """
        select first_product_id, days_to_second_order,
               as_of_date - first_order_date >= 89 as has_window
        from marts.dim_customers
        """
    ).df()
    checked = 0
    for row in df.itertuples():
        mine = customers[customers.first_product_id == row.first_product_id]
        assert len(mine) == row.customers, row.first_product_id
        complete = mine[mine.has_window]
        assert len(complete) == row.customers_complete_90d, row.first_product_id
        if len(complete):
            expected = (complete.days_to_second_order < 90).sum() / len(complete)
            assert abs(row.repeat_rate_90d - expected) < 1e-12, row.first_product_id
            checked += 1
    assert checked > 0


def _repeaters_per_first(con: duckdb.DuckDBPyConnection, key: str) -> pd.Series:
    """Independent: customers with a first product and a second valid order, per first key."""
    return (
        con.sql(
            f"""
            select {key} as first_key, count(*) as n from marts.dim_customers
            where first_product_id is not null and days_to_second_order is not null
            group by 1
            """
        )
        .df()
        .set_index("first_key")["n"]
    )


def test_next_products_are_the_top_three_and_shares_match_the_customers(run: tuple) -> None:
    con, results = run
    df = results["next_products_after_first_product"]
    assert len(df) > 0
    assert df.next_product_rank.between(1, 3).all()
    repeaters = _repeaters_per_first(con, "first_product_id")
    for first, rows in df.groupby("first_product_id"):
        assert (rows.first_product_repeaters == repeaters[first]).all(), first
        assert list(rows.next_product_rank) == list(range(1, len(rows) + 1)), first
        assert rows.customers.is_monotonic_decreasing, first
        assert ((rows.share_of_repeaters - rows.customers / repeaters[first]).abs() < 1e-12).all()
        assert rows.customers.sum() <= repeaters[first]
    assert set(df.first_product_id) == set(repeaters.index)


def test_category_loops_rank_same_category_shares(run: tuple) -> None:
    con, results = run
    df = results["category_repurchase_loops"]
    repeaters = _repeaters_per_first(con, "first_product_category")
    assert set(df.first_product_category) == set(repeaters.index)
    for row in df.itertuples():
        assert row.repeaters == repeaters[row.first_product_category]
        assert abs(row.same_category_share - row.same_category_customers / row.repeaters) < 1e-12
    ranked = df[df.loop_rank.notna()].sort_values("loop_rank")
    assert ranked.same_category_share.is_monotonic_decreasing
    assert df[df.is_below_min_sample].loop_rank.isna().all()


def test_audience_sizes_match_the_customers(run: tuple) -> None:
    con, results = run
    df = results["audiences_sizes_today"].set_index("audience")
    assert len(df) > 0
    customers = con.sql(
        "select is_in_cooldown, is_bfcm_acquired, order_count, "
        "cast(net_revenue as double) as net_revenue from marts.dim_customers"
    ).df()
    # independent: the do-not-contact list is the customers in cooldown, the BF/CM
    # one-timers the BF/CM-acquired one-order customers out of cooldown
    cooldown = customers[customers.is_in_cooldown]
    row = df.loc["cooldown_do_not_contact"]
    assert row.customers == len(cooldown) > 0
    assert abs(row.share_of_customers - len(cooldown) / len(customers)) < 1e-12
    assert abs(float(row.net_revenue_to_date) - cooldown.net_revenue.sum()) < 0.01
    bfcm = customers[
        customers.is_bfcm_acquired & (customers.order_count == 1) & ~customers.is_in_cooldown
    ]
    assert df.loc["bfcm_one_timers"].customers == len(bfcm) > 0
    assert (df.customers_with_email_hash <= df.customers).all()


def test_subscriber_curve_starts_with_every_subscriber(run: tuple) -> None:
    con, results = run
    df = results["subscriber_retention_curve"].set_index("months_since_first_subscription")
    assert len(df) > 1
    # independent: month 0 pools every subscriber whose first-subscription month has ended
    # (first_subscription_at is UTC; months are in the reporting timezone, Europe/Paris)
    subscribers = con.execute(
        """
        select count(*) from marts.dim_customers
        where is_subscriber and last_day(
            timezone('Europe/Paris', timezone('UTC', first_subscription_at))::date
        ) <= as_of_date
        """
    ).fetchall()[0][0]
    assert df.loc[0].subscribers == subscribers > 0
    assert df.loc[0].retention_rate == 1.0 and df.loc[0].subscription_retention_rate == 1.0
    assert (df.subscription_retention_rate <= df.retention_rate + 1e-12).all()
    assert df.subscribers.is_monotonic_decreasing
