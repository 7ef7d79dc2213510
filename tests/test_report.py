"""The HTML report: self-contained, every chart drawn offline in Chromium, figures = marts.

Two reports are rendered: one on the fixture warehouse as built (core marts only: the area
sections must say which mart they need), and one on a copy to which stand-in area marts
with the documented column names are added (every section drawn). The figures are checked
against an independent pandas computation from the marts, in the page as Chromium shows it.
Screenshots go to reports/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from _chromium import offline_page

from dtc_economics import report

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "reports" / "screenshots"
CORE_SECTIONS = {"sales", "ltv_curves", "bfcm"}
AREA_SECTIONS = {
    "five_numbers",
    "retention",
    "cac_vs_ltv",
    "customer_base",
    "first_products",
    "promo_cohorts",
}

# Stand-ins for the area marts, with the column names the issues pin ("Names consumers rely
# on"); values derived from the core marts so that they look like a store's.
STAND_IN_MARTS = """
create table marts.fct_kpis_monthly as
select
    order_month as month,
    30.0 + row_number() over (order by order_month) as blended_cac,
    0.18 as cos,
    42.0 as median_days_to_second_order,
    case when order_month < (select max(order_month) from marts.fct_orders) - interval 6 month
        then 61.5 end as ltv_182d,
    case when order_month < (select max(order_month) from marts.fct_orders) - interval 12 month
        then 80.25 end as ltv_365d,
    0.55 as churn_6m,
    0.7 as churn_12m
from (select distinct order_month from marts.fct_orders);

create table marts.fct_cohort_retention as
with cohorts as (
    select cohort_month, count(*) as cohort_size from marts.dim_customers group by all
),
ks as (select * from range(0, 7) t(k))
select
    cohort_month,
    cast(k as integer) as months_since_first_order,
    cohort_size,
    cast(floor(cohort_size / (k + 1)) as integer) as active_customers,
    floor(cohort_size / (k + 1)) / cohort_size as retention_rate,
    cohort_month + to_months(cast(k as integer))
        <= (select max(order_month) from marts.fct_orders) as is_complete
from cohorts cross join ks;

create table marts.fct_acquisition_monthly as
with by_channel as (
    select cohort_month as month, acquisition_channel as channel, count(*) as new_customers
    from marts.dim_customers group by all
)
select month, channel, new_customers * 25.0 as spend, new_customers,
    25.0 as cac, 60.0 + length(channel) as ltv_182d, 90.0 + length(channel) as ltv_365d
from by_channel
union all
select month, 'all', sum(new_customers) * 25.0, sum(new_customers), 25.0, null, null
from by_channel group by month;

create table marts.fct_customer_base_monthly as
select
    order_month as month,
    sum(case when is_first_order then 1 else 0 end) as new_customers,
    sum(case when not is_first_order and days_since_previous_order < 365 then 1 else 0 end)
        as returning_customers,
    sum(case when not is_first_order and days_since_previous_order >= 365 then 1 else 0 end)
        as reactivated_customers,
    0 as active_customers_12m
from marts.fct_orders where is_valid_order group by all;

create table marts.fct_first_product_performance as
with products as (
    select first_product_id, count(*) as customers
    from marts.dim_customers where first_product_id is not null group by first_product_id
)
select
    first_product_id,
    customers,
    0.05 + 0.01 * row_number() over (order by first_product_id) as repeat_rate_365d,
    0.01 * row_number() over (order by first_product_id) as repeat_rate_365d_ci_low,
    0.10 + 0.01 * row_number() over (order by first_product_id) as repeat_rate_365d_ci_high,
    customers < 3 as is_below_min_sample
from products;

create table marts.fct_promo_cohorts as
select 2024 as year, 'BF/CM' as segment, 10 as customers
union all select 2024, 'rest', 90;
"""


@pytest.fixture(scope="module")
def core_report(fixture_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report_core") / "report.html"
    status = report.write_report(fixture_warehouse, out)
    assert {k for k, v in status.items() if v == "rendered"} == CORE_SECTIONS
    assert {k for k, v in status.items() if v == "missing"} == AREA_SECTIONS
    return out


@pytest.fixture(scope="module")
def full_warehouse(fixture_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("report_full") / "with_area_marts.duckdb"
    shutil.copyfile(fixture_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(STAND_IN_MARTS)
    return copy


@pytest.fixture(scope="module")
def full_report(full_warehouse: Path) -> Path:
    out = full_warehouse.with_name("report.html")
    status = report.write_report(full_warehouse, out)
    assert status == dict.fromkeys(CORE_SECTIONS | AREA_SECTIONS, "rendered"), status
    return out


# ---------------------------------------------------------------------------------------------
# Independent expectations (pandas over the marts, from the definitions)
# ---------------------------------------------------------------------------------------------


def expected_core(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    orders = con.execute(
        "select customer_id, order_date, net_revenue, is_first_order from marts.fct_orders "
        "where is_valid_order"
    ).df()
    customers = con.execute(
        "select customer_id, first_order_date, as_of_date, acquisition_channel, "
        "is_bfcm_acquired, days_to_second_order from marts.dim_customers"
    ).df()
    out: dict[str, Any] = {
        "net_revenue_total": orders["net_revenue"].sum(),
        "valid_orders_total": len(orders),
        "new_customers_total": int(orders["is_first_order"].sum()),
        "aov_total": orders["net_revenue"].sum() / len(orders),
    }
    merged = orders.merge(customers, on="customer_id")
    days_in = (
        pd.to_datetime(merged["order_date"]) - pd.to_datetime(merged["first_order_date"])
    ).dt.days
    observed = (
        pd.to_datetime(customers["as_of_date"]) - pd.to_datetime(customers["first_order_date"])
    ).dt.days
    curves = {}
    for n in report.LTV_CURVE_DAYS:
        eligible = set(customers.loc[observed >= n - 1, "customer_id"])
        inside = merged[(days_in < n) & merged["customer_id"].isin(eligible)]
        per_customer = (
            inside.groupby("customer_id")["net_revenue"]
            .sum()
            .reindex(sorted(eligible), fill_value=0)
        )
        channel = customers.set_index("customer_id")["acquisition_channel"]
        curves[("all channels", n)] = (per_customer.mean(), len(per_customer))
        for ch, values in per_customer.groupby(channel.reindex(per_customer.index)):
            curves[(ch, n)] = (values.mean(), len(values))
    out["curves"] = curves
    out["ltv_182d"] = curves[("all channels", 182)][0]
    out["ltv_365d"] = curves[("all channels", 365)][0]
    out["ltv_182d_customers"] = curves[("all channels", 182)][1]
    for n in report.REPEAT_WINDOWS:
        ok = customers[observed >= n - 1]
        for flag, slug in ((True, "bfcm"), (False, "rest")):
            group = ok[ok["is_bfcm_acquired"] == flag]
            if len(group):
                rate = (group["days_to_second_order"] < n).sum() / len(group)
                out[f"repeat_{n}d_{slug}"] = rate
    return out


def page_figures(page: Any, section: str) -> dict[str, Any]:
    rows = page.locator(f"section#{section} tr[data-figure]")
    return {
        rows.nth(i).get_attribute("data-figure"): json.loads(
            rows.nth(i).get_attribute("data-value")
        )
        for i in range(rows.count())
    }


def open_report(page: Any, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_function("() => window.dtcReady !== undefined", timeout=30_000)
    state = page.evaluate("() => window.dtcReady.then(() => 'ok', (e) => String(e))")
    assert state == "ok", f"a chart failed to render: {state}"


def marks_in(page: Any, section: str) -> int:
    return page.evaluate(
        """(key) => document.querySelectorAll(
            `#chart-${key} svg .mark-rect path, #chart-${key} svg .mark-line path,`
            + `#chart-${key} svg .mark-symbol path, #chart-${key} svg .mark-rule line`
        ).length""",
        section,
    )


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def test_the_report_is_one_self_contained_file(core_report: Path) -> None:
    text = core_report.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", text), "scripts must be inlined"
    assert not re.search(r"<link[^>]+href=", text), "styles must be inlined"
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), "external URL"
    assert "vegaEmbed" in text


def test_core_report_draws_core_charts_offline_and_names_missing_marts(
    core_report: Path, fixture_warehouse: Path
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with (
        offline_page() as (page, blocked, errors),
        duckdb.connect(str(fixture_warehouse), read_only=True) as con,
    ):
        open_report(page, core_report)
        expected = expected_core(con)
        page.screenshot(path=str(SHOTS / "report_core.png"), full_page=True)
        for section in CORE_SECTIONS:
            assert marks_in(page, section) >= 2, f"{section}: chart has no marks"
        for section in AREA_SECTIONS:
            text = page.locator(f"section#{section} p.missing").inner_text()
            assert "Not in this warehouse yet: needs marts." in text, section
        figures = {**page_figures(page, "sales"), **page_figures(page, "ltv_curves"),
                   **page_figures(page, "bfcm")}  # fmt: skip
        for key in ("net_revenue_total", "aov_total", "ltv_182d", "ltv_365d"):
            assert figures[key] == pytest.approx(expected[key], abs=1e-6), key
        for key in ("valid_orders_total", "new_customers_total", "ltv_182d_customers"):
            assert figures[key] == expected[key], key
        # the same window rule as the project's value windows (intermediate model)
        windows = con.execute(
            "select avg(ltv_182d), count(ltv_182d), avg(ltv_365d) "
            "from intermediate.int_customers_value_windows"
        ).fetchone()
        assert figures["ltv_182d"] == pytest.approx(windows[0], abs=1e-6)
        assert figures["ltv_182d_customers"] == windows[1]
        assert figures["ltv_365d"] == pytest.approx(windows[2], abs=1e-6)
        for key, value in expected.items():
            if key.startswith("repeat_"):
                assert figures[key] == pytest.approx(value, abs=1e-9), key
        curve = page.evaluate("() => window.dtcCharts.ltv_curves.data('source')")
        assert len(curve) == len(expected["curves"])
        for point in curve:
            ltv, customers = expected["curves"][
                (point["acquisition_channel"], point["window_days"])
            ]
            assert point["ltv"] == pytest.approx(ltv, abs=1e-6)
            assert point["customers"] == customers
        assert not blocked, f"the report tried to fetch {blocked}"
        assert not errors, errors


def test_every_section_draws_when_the_area_marts_exist(
    full_report: Path, full_warehouse: Path
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with (
        offline_page() as (page, blocked, errors),
        duckdb.connect(str(full_warehouse), read_only=True) as con,
    ):
        open_report(page, full_report)
        page.screenshot(path=str(SHOTS / "report_full.png"), full_page=True)
        for section in CORE_SECTIONS | AREA_SECTIONS - {"promo_cohorts"}:
            assert marks_in(page, section) >= 2, f"{section}: chart has no marks"
            page.locator(f"section#{section}").screenshot(path=str(SHOTS / f"{section}.png"))
        # five numbers: the latest non-null value of each
        kpis = con.execute("select * from marts.fct_kpis_monthly order by month").df()
        shown = page_figures(page, "five_numbers")
        for metric, _, _ in report.FIVE_NUMBERS:
            assert shown[metric] == pytest.approx(kpis[metric].dropna().iloc[-1]), metric
        # retention heatmap: exactly the complete cells, with the mart's rates
        cells = page.evaluate("() => window.dtcCharts.retention.data('source')")
        complete = con.execute(
            "select count(*), sum(retention_rate) from marts.fct_cohort_retention where is_complete"
        ).fetchone()
        assert len(cells) == complete[0]
        assert sum(c["retention_rate"] for c in cells) == pytest.approx(complete[1])
        # CAC vs LTV: blended CAC from the all-channels rows
        acq = con.execute("select * from marts.fct_acquisition_monthly").df()
        everything = acq[acq["channel"] == "all"]
        assert page_figures(page, "cac_vs_ltv")["blended_cac"] == pytest.approx(
            everything["spend"].sum() / everything["new_customers"].sum()
        )
        # customer base: the last month's split
        base = con.execute("select * from marts.fct_customer_base_monthly order by month").df()
        shown = page_figures(page, "customer_base")
        assert shown["new_last_month"] == base["new_customers"].iloc[-1]
        assert shown["reactivated_last_month"] == base["reactivated_customers"].iloc[-1]
        # first products: ranking excludes small samples, top = highest 365-day rate
        fpp = con.execute("select * from marts.fct_first_product_performance").df()
        ranked = fpp[~fpp["is_below_min_sample"]].sort_values("repeat_rate_365d")
        shown = page_figures(page, "first_products")
        assert shown["ranked_products"] == len(ranked)
        assert shown["top_product"] == ranked["first_product_id"].iloc[-1]
        assert page_figures(page, "promo_cohorts")["rows"] == 2
        assert not blocked, f"the report tried to fetch {blocked}"
        assert not errors, errors


def test_a_mart_with_another_shape_is_reported_not_drawn(
    full_warehouse: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.duckdb"
    shutil.copyfile(full_warehouse, broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("alter table marts.fct_kpis_monthly drop column cos")
    out = tmp_path / "report.html"
    status = report.write_report(broken, out)
    assert status["five_numbers"] == "error"
    assert "has no column(s) cos" in out.read_text(encoding="utf-8")
