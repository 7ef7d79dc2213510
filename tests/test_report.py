"""The HTML report: self-contained, every chart drawn offline in Chromium, figures = marts.

Two reports are rendered: one on the fixture warehouse as built (every mart: every section
drawn), and one on a copy from which the area marts were dropped (core marts only: the area
sections must say which mart they need). The figures are checked against an independent
pandas computation from the marts, in the page as Chromium shows it. Screenshots go to
reports/screenshots/ (git-ignored).
"""

from __future__ import annotations

import html
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
CORE_MARTS = {"fct_orders", "fct_order_lines", "fct_returns", "dim_customers"}
# every section reads an area mart (the report computes no metric of its own)
CORE_SECTIONS: set[str] = set()
AREA_SECTIONS = {
    "ltv_curves",
    "five_numbers",
    "sales",
    "bfcm",
    "retention",
    "cac_vs_ltv",
    "customer_base",
    "first_products",
    "promo_cohorts",
    "margin_by_month",
    "margin_ltv_vs_cac",
}
TABLE_SECTIONS = {"promo_cohorts"}  # drawn as a table of the mart's rows, not a chart


def _mart_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        t
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }


@pytest.fixture(scope="module")
def core_warehouse(fixture_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the fixture warehouse with the core marts only (area marts dropped)."""
    copy = tmp_path_factory.mktemp("report_core") / "core_marts_only.duckdb"
    shutil.copyfile(fixture_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        views = {
            v
            for (v,) in con.execute(
                "select view_name from duckdb_views() where schema_name = 'marts'"
            ).fetchall()
        }
        for table in sorted(_mart_tables(con) - CORE_MARTS):
            con.execute(f"drop {'view' if table in views else 'table'} marts.{table}")
        assert _mart_tables(con) == CORE_MARTS
    return copy


@pytest.fixture(scope="module")
def core_report(core_warehouse: Path) -> Path:
    out = core_warehouse.with_name("report.html")
    status = report.write_report(core_warehouse, out)
    assert {k for k, v in status.items() if v == "rendered"} == CORE_SECTIONS
    assert {k for k, v in status.items() if v == "missing"} == AREA_SECTIONS
    return out


@pytest.fixture(scope="module")
def full_report(fixture_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with duckdb.connect(str(fixture_warehouse), read_only=True) as con:
        assert _mart_tables(con) >= CORE_MARTS | {
            need for s in report.SECTIONS for need in s.needs
        }, "the fixture warehouse lacks a mart the report reads"
    out = tmp_path_factory.mktemp("report_full") / "report.html"
    status = report.write_report(fixture_warehouse, out)
    assert status == dict.fromkeys(CORE_SECTIONS | AREA_SECTIONS, "rendered"), status
    return out


# ---------------------------------------------------------------------------------------------
# Independent expectations (pandas over the marts, from the definitions)
# ---------------------------------------------------------------------------------------------


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


def test_core_report_names_missing_marts(core_report: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with offline_page() as (page, blocked, errors):
        open_report(page, core_report)
        page.screenshot(path=str(SHOTS / "report_core.png"), full_page=True)
        for section in AREA_SECTIONS:
            text = page.locator(f"section#{section} p.missing").inner_text()
            assert "Not in this warehouse yet: needs marts." in text, section
        assert not blocked, f"the report tried to fetch {blocked}"
        assert not errors, errors


def expected_area(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The area sections' figures, recomputed with pandas from the marts' own columns."""
    out: dict[str, Any] = {}
    kpis = con.execute("select * from marts.fct_kpis_monthly").df().sort_values("month")
    # five numbers: the latest complete month (the month in progress is partial); a metric
    # still null there (no mature cohort yet) is shown from the latest month that has it
    kpis = kpis[kpis["is_month_complete"]]
    out["five_numbers"] = {
        metric: kpis[metric].dropna().iloc[-1] for metric, _, _ in report.FIVE_NUMBERS
    }
    retention = con.execute("select * from marts.fct_cohort_retention").df()
    # month 0 (100% by definition) is left out of the heat map
    complete = retention[
        retention["is_complete"]
        & retention["retention_rate"].notna()
        & (retention["months_since_first_order"] >= 1)
    ]
    month1 = complete[complete["months_since_first_order"] == 1].sort_values("cohort_month")
    out["retention_cells"] = len(complete)
    out["retention_sum"] = complete["retention_rate"].sum()
    out["retention_month_1"] = (
        month1["active_customers"].iloc[-1] / month1["cohort_size"].iloc[-1]
    )  # the latest complete cohort, from its counts
    out["cohorts"] = complete["cohort_month"].nunique()
    # sales: the latest complete month; valid orders recounted from fct_orders
    sales_month = kpis["month"].iloc[-1]
    out["sales_month"] = pd.Timestamp(sales_month).strftime("%Y-%m")
    out["net_revenue_last_month"] = kpis["net_revenue"].iloc[-1]
    out["new_customers_last_month"] = kpis["new_customers"].iloc[-1]
    out["orders_last_month"] = con.execute(
        "select count(*) from marts.fct_orders where is_valid_order and order_month = ?",
        [sales_month],
    ).fetchone()[0]
    out["buyers_last_month"] = con.execute(
        "select count(distinct customer_id) from marts.fct_orders "
        "where is_valid_order and order_month = ?",
        [sales_month],
    ).fetchone()[0]
    # BF/CM vs rest: the latest acquisition year with complete 180-day windows, recomputed
    # from dim_customers (window complete when as_of_date - first_order_date >= n - 1)
    customers = con.execute(
        "select year(first_order_date) as year, is_bfcm_acquired, days_to_second_order, "
        "datediff('day', first_order_date, as_of_date) as observed from marts.dim_customers"
    ).df()
    years = sorted(
        y for y, g in customers.groupby("year") if (g["observed"] >= 179).all() and len(g)
    )
    out["bfcm"] = {}
    if years:
        cohort = customers[customers["year"] == years[-1]]
        for flag, slug in ((True, "bfcm"), (False, "rest")):
            group = cohort[cohort["is_bfcm_acquired"] == flag]
            for n in (90, 180):
                ok = group[group["observed"] >= n - 1]
                if len(ok):
                    rate = (ok["days_to_second_order"] < n).sum() / len(ok)
                    out["bfcm"][f"repeat_{n}d_{slug}"] = rate
    # CAC vs LTV by channel: spend / new customers over all months; LTV = cohort net revenue
    # over the new customers of the months whose window is mature
    # CAC vs LTV: per channel, the latest month whose 12-month LTV is mature and that has a
    # CAC, recomputed from the mart's spend, new customers and cohort net revenue
    acq = con.execute("select * from marts.fct_acquisition_monthly").df()
    acq = acq[acq["is_ltv_365d_mature"] & (acq["new_customers"] > 0) & acq["spend"].notna()]
    bars: dict[tuple[str, str], float] = {}
    for channel, rows in acq.sort_values("month").groupby("channel"):
        row = rows.iloc[-1]
        shown = "all channels" if channel == "all" else channel.replace("_", " ")
        name = f"{shown} ({row['month']:%Y-%m})"
        bars[(name, "CAC")] = row["spend"] / row["new_customers"]
        bars[(name, "LTV 6 months")] = row["cohort_net_revenue_182d"] / row["new_customers"]
        bars[(name, "LTV 12 months")] = row["cohort_net_revenue_365d"] / row["new_customers"]
        if channel == "all":
            out["cac_all"] = row["spend"] / row["new_customers"]
            out["ltv_to_cac_365d_all"] = row["cohort_net_revenue_365d"] / row["spend"]
    out["cac_vs_ltv"] = bars
    out["channels"] = acq.loc[acq["channel"] != "all", "channel"].nunique()
    # LTV at 6 / 12 months, all channels: the latest cohort whose customers all have a
    # complete window, averaged over dim_customers' per-customer values
    dim = con.execute("select cohort_month, ltv_182d, ltv_365d from marts.dim_customers").df()
    for column in ("ltv_182d", "ltv_365d"):
        complete = dim.groupby("cohort_month")[column].apply(lambda v: v.notna().all())
        months = sorted(complete[complete].index)
        cohort = dim[dim["cohort_month"] == months[-1]] if months else dim.iloc[0:0]
        out[column] = cohort[column].mean() if months else None
    base = con.execute(
        "select * from marts.fct_customer_base_monthly where segment_type = 'all'"
    ).df()
    base = base.sort_values("month")
    out["customer_base_last"] = {
        kind: int(base[f"{kind}_customers"].iloc[-1])
        for kind in ("new", "returning", "reactivated")
    }
    out["customer_base_totals"] = {
        kind: int(base[f"{kind}_customers"].sum()) for kind in ("new", "returning", "reactivated")
    }
    fpp = con.execute(
        "select * from marts.fct_first_product_performance where stratum_type = 'all'"
    ).df()
    # a name starting like a spreadsheet formula (raw or quote-escaped) is bad input: not drawn
    formula_like = fpp["first_product_name"].fillna("").str.match(r"^'?[=+@\t\r-]")
    out["formula_like_products"] = int((formula_like & fpp["repeat_rate_365d"].notna()).sum())
    drawn = fpp[fpp["repeat_rate_365d"].notna() & ~formula_like]
    ranked = drawn[~drawn["is_below_min_sample"]].sort_values(
        ["repeat_rate_365d", "first_product_id"], ascending=[False, True]
    )
    out["first_products_drawn"] = drawn.set_index("first_product_id")
    out["ranked_products"] = len(ranked)
    out["top_product"] = ranked["first_product_name"].iloc[0] if len(ranked) else None
    out["promo_rows"] = con.execute("select count(*) from marts.fct_promo_cohorts").fetchone()[0]
    # margin by month: the latest complete month whose CM2 is known; CM3 and POAS recomputed
    # from the month's CM2 and spend
    known = kpis[kpis["contribution_margin"].notna()]
    last = known.iloc[-1]
    out["margin_by_month"] = {
        "gross_margin": last["gross_margin"],
        "contribution_margin": last["contribution_margin"],
        "cm3": float(last["contribution_margin"]) - float(last["spend"]),
        "poas": float(last["contribution_margin"]) / float(last["spend"]),
        "margin_months": len(known),
    }
    # margin LTV vs CAC: per channel the latest month with both known; CAC fully loaded
    # recomputed as (spend + allocated unattributed spend) / new customers is tested in
    # tests/test_margin.py, here the bars equal the mart's row and the ratio is recomputed
    acq = con.execute("select * from marts.fct_acquisition_monthly").df()
    acq = acq[acq["margin_ltv_365d"].notna() & (acq["cac_fully_loaded"] > 0)]
    bars = {}
    ratios = {}
    for channel, rows in acq.sort_values("month").groupby("channel"):
        row = rows.iloc[-1]
        bars[(channel, "CAC fully loaded")] = row["cac_fully_loaded"]
        bars[(channel, "Margin LTV 12 months")] = row["margin_ltv_365d"]
        ratios[f"margin_ltv_to_cac_365d_{channel}"] = (
            row["margin_ltv_365d"] / row["cac_fully_loaded"]
        )
    out["margin_bars"] = bars
    out["margin_ratios"] = ratios
    return out


def test_every_section_draws_from_the_real_marts(
    full_report: Path, fixture_warehouse: Path
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with (
        offline_page() as (page, blocked, errors),
        duckdb.connect(str(fixture_warehouse), read_only=True) as con,
    ):
        open_report(page, full_report)
        expected = expected_area(con)
        page.screenshot(path=str(SHOTS / "report_full.png"), full_page=True)
        for section in CORE_SECTIONS | AREA_SECTIONS - TABLE_SECTIONS:
            assert marks_in(page, section) >= 2, f"{section}: chart has no marks"
            page.locator(f"section#{section}").screenshot(path=str(SHOTS / f"{section}.png"))
        # five numbers: the latest value of each, as the mart states it, in reading order
        shown = page_figures(page, "five_numbers")
        for metric, value in expected["five_numbers"].items():
            assert shown[metric] == pytest.approx(value, abs=1e-9), metric
        assert list(shown) == [
            "blended_cac", "cos", "median_days_to_second_order",
            "ltv_182d", "ltv_365d", "churn_6m", "churn_12m",
        ]  # fmt: skip
        # sales: the latest complete month, orders and buyers recounted from fct_orders
        shown = page_figures(page, "sales")
        assert shown["net_revenue_last_month"] == pytest.approx(expected["net_revenue_last_month"])
        assert shown["new_customers_last_month"] == expected["new_customers_last_month"]
        assert shown["orders_last_month"] == expected["orders_last_month"]
        assert shown["buyers_last_month"] == expected["buyers_last_month"]
        sales_labels = page.locator("section#sales tr[data-figure] th").all_inner_texts()
        assert all(expected["sales_month"] in t for t in sales_labels[:4]), sales_labels
        # BF/CM vs rest: the mart's rates equal an independent count over dim_customers
        shown = page_figures(page, "bfcm")
        assert set(shown) == set(expected["bfcm"]) and shown, shown
        for key, value in expected["bfcm"].items():
            assert shown[key] == pytest.approx(value, abs=1e-9), key
        # retention heatmap: exactly the complete cells, with the mart's rates
        cells = page.evaluate("() => window.dtcCharts.retention.data('source')")
        assert len(cells) == expected["retention_cells"] > 0
        assert sum(c["retention_rate"] for c in cells) == pytest.approx(expected["retention_sum"])
        shown = page_figures(page, "retention")
        assert shown["cohorts"] == expected["cohorts"]
        assert shown["retention_month_1"] == pytest.approx(expected["retention_month_1"])
        # CAC vs LTV: every bar, and the blended CAC from the all-channels rows
        bars = page.evaluate("() => window.dtcCharts.cac_vs_ltv.data('source')")
        drawn = {(b["label"], b["measure"]): b["value"] for b in bars}
        assert drawn.keys() == expected["cac_vs_ltv"].keys()
        for key, value in expected["cac_vs_ltv"].items():
            assert drawn[key] == pytest.approx(value, abs=1e-6), key
        shown = page_figures(page, "cac_vs_ltv")
        assert shown["cac_all"] == pytest.approx(expected["cac_all"], abs=1e-9)
        assert shown["ltv_to_cac_365d_all"] == pytest.approx(expected["ltv_to_cac_365d_all"])
        assert shown["channels"] == expected["channels"]
        # margin by month: the latest month with known margins, CM3 = CM2 - spend
        shown = page_figures(page, "margin_by_month")
        for key, value in expected["margin_by_month"].items():
            assert shown[key] == pytest.approx(float(value), abs=1e-6), key
        # margin LTV vs fully loaded CAC: every bar, and each channel's ratio
        bars = page.evaluate("() => window.dtcCharts.margin_ltv_vs_cac.data('source')")
        drawn = {(b["channel"], b["measure"]): b["value"] for b in bars}
        assert drawn.keys() == expected["margin_bars"].keys() and drawn
        for key, value in expected["margin_bars"].items():
            assert drawn[key] == pytest.approx(value, abs=1e-6), key
        shown = page_figures(page, "margin_ltv_vs_cac")
        for key, value in expected["margin_ratios"].items():
            assert shown[key] == pytest.approx(value, abs=1e-6), key
        # LTV by channel: the all-channels figures equal dim_customers' per-customer means
        shown = page_figures(page, "ltv_curves")
        for column in ("ltv_182d", "ltv_365d"):
            assert shown[column] == pytest.approx(expected[column], abs=1e-6), column
        # customer base: the all-customers rows; the last month's split and every month drawn
        shown = page_figures(page, "customer_base")
        for kind, value in expected["customer_base_last"].items():
            assert shown[f"{kind}_last_month"] == value, kind
        stacked = page.evaluate("() => window.dtcCharts.customer_base.data('source')")
        for kind, total in expected["customer_base_totals"].items():
            assert sum(r["customers"] for r in stacked if r["buyers"] == kind) == total, kind
        # first products: every product with a 365-day rate drawn with its interval; only
        # those at or above the minimum sample ranked
        points = page.evaluate("() => window.dtcCharts.first_products.data('source')")
        products = expected["first_products_drawn"]
        assert {p["first_product_id"] for p in points} == set(products.index)
        for p in points:
            row = products.loc[p["first_product_id"]]
            assert p["is_ranked"] == (not row["is_below_min_sample"])
            for ours, theirs in (
                ("repeat_rate", "repeat_rate_365d"),
                ("ci_low", "repeat_rate_365d_ci_low"),
                ("ci_high", "repeat_rate_365d_ci_high"),
            ):
                assert p[ours] == pytest.approx(row[theirs], abs=1e-9), ours
        shown = page_figures(page, "first_products")
        assert shown["ranked_products"] == expected["ranked_products"]
        assert shown["unranked_products"] == len(products) - expected["ranked_products"]
        assert shown["formula_like_products"] == expected["formula_like_products"]
        assert shown["top_product"] == expected["top_product"]
        # promo cohorts: every row of the mart, readable headers, rounded values
        assert page_figures(page, "promo_cohorts")["rows"] == expected["promo_rows"]
        shown_rows = page.locator("section#promo_cohorts table.mart tr").count() - 1
        assert shown_rows == expected["promo_rows"]
        cells = page.locator("section#promo_cohorts table.mart td").all_inner_texts()
        assert not [c for c in cells if re.search(r"\d\.\d{3,}", c)], "unrounded numbers"
        headers = page.locator("section#promo_cohorts table.mart th").all_inner_texts()
        assert not [h for h in headers if "_" in h], f"raw column names: {headers}"
        assert not blocked, f"the report tried to fetch {blocked}"
        assert not errors, errors


def without_row_rules(con: duckdb.DuckDBPyConnection, mart: str) -> None:
    """Rebuild marts.<mart> in this copy of the warehouse without its check constraints (the
    row rules of its contract): the test plants values they refuse on purpose, e.g. a
    minimum sample lower than var first_product_min_customers."""
    con.execute(f"create table marts.{mart}__planted as select * from marts.{mart}")
    con.execute(f"drop table marts.{mart}")
    con.execute(f"alter table marts.{mart}__planted rename to {mart}")


def test_first_products_are_ranked_by_rate_above_the_minimum_sample(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    """The fixture store has no product above the minimum sample: lower it in a copy."""
    copy = tmp_path / "ranked.duckdb"
    shutil.copyfile(fixture_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        without_row_rules(con, "fct_first_product_performance")
        con.execute(
            "update marts.fct_first_product_performance set is_below_min_sample = customers < 15"
        )
        fpp = con.execute(
            "select first_product_id, first_product_name, repeat_rate_365d "
            "from marts.fct_first_product_performance "
            "where stratum_type = 'all' and not is_below_min_sample "
            "and repeat_rate_365d is not null"
        ).df()
    assert len(fpp) >= 3, "the control needs several ranked products"
    best = fpp.sort_values(["repeat_rate_365d", "first_product_id"], ascending=[False, True])
    out = tmp_path / "report.html"
    assert report.write_report(copy, out)["first_products"] == "rendered"
    text = out.read_text(encoding="utf-8")
    figures = {
        key: json.loads(html.unescape(value))
        for key, value in re.findall(r'data-figure="([^"]+)" data-value="([^"]*)"', text)
    }
    assert figures["ranked_products"] == len(fpp)
    assert figures["top_product"] == best["first_product_name"].iloc[0]
    assert figures["top_product_rate"] == pytest.approx(best["repeat_rate_365d"].iloc[0])


def test_a_mart_with_another_shape_is_reported_not_drawn(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.duckdb"
    shutil.copyfile(fixture_warehouse, broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("alter table marts.fct_kpis_monthly drop column cos")
    out = tmp_path / "report.html"
    status = report.write_report(broken, out)
    assert status["five_numbers"] == "error"
    assert "has no column(s) cos" in out.read_text(encoding="utf-8")


def test_five_numbers_leave_out_the_month_in_progress() -> None:
    """The headline figures come from the latest complete month: the month in progress has
    partial spend and customers, so its CAC and COS are not today's numbers."""
    con = duckdb.connect()
    con.execute("create schema marts")
    metrics = [m for m, _, _ in report.FIVE_NUMBERS]
    con.execute(
        "create table marts.fct_kpis_monthly (month date, is_month_complete boolean, "
        + ", ".join(f"{m} double" for m in metrics)
        + ")"
    )
    row = ", ".join(["?"] * (2 + len(metrics)))
    con.execute(
        f"insert into marts.fct_kpis_monthly values ({row})",
        ["2026-09-01", True, *[10.0] * len(metrics)],
    )
    con.execute(
        f"insert into marts.fct_kpis_monthly values ({row})",
        ["2026-10-01", False, *[99.0] * len(metrics)],
    )
    shown = {f.key: (f.value, f.label) for f in report.five_numbers(con).figures}
    assert set(shown) == set(metrics)
    for metric in metrics:
        value, label = shown[metric]
        assert value == pytest.approx(10.0) and "2026-09" in label, metric


FIVE_ORDER = ["blended_cac", "cos", "median_days_to_second_order",
              "ltv_182d", "ltv_365d", "churn_6m", "churn_12m"]  # fmt: skip


def overflow(page: Any) -> tuple[int, int]:
    return tuple(
        page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
    )


def test_the_report_fits_the_page_and_reads_the_five_numbers_in_order(full_report: Path) -> None:
    """Screenshot in Chromium at a laptop width: no horizontal scrollbar on the page, the five
    numbers' panels and figures in reading order (6 months before 12)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with offline_page(width=1280, height=900) as (page, blocked, errors):
        open_report(page, full_report)
        page.screenshot(path=str(SHOTS / "report_1280.png"), full_page=True)
        scroll_width, client_width = overflow(page)
        assert scroll_width <= client_width, f"horizontal overflow: {scroll_width} > {client_width}"
        titles = page.evaluate(
            "() => Array.from(document.querySelectorAll('#chart-five_numbers svg text'))"
            ".map((t) => t.textContent).filter((t) => /^[1-5]\\. /.test(t))"
        )
        assert [t[:2] for t in titles] == ["1.", "2.", "3.", "4.", "5."], titles
        assert "CAC" in titles[0] and "COS" in titles[1] and "2nd order" in titles[2]
        assert "LTV" in titles[3] and "Churn" in titles[4]
        rows = page.locator("section#five_numbers tr[data-figure]")
        keys = [rows.nth(i).get_attribute("data-figure") for i in range(rows.count())]
        assert keys == FIVE_ORDER
        labels = page.locator("section#five_numbers tr[data-figure] th").all_inner_texts()
        assert all(re.search(r"\b20\d\d-\d\d\b", label) for label in labels), labels
        assert labels[3].startswith("LTV at 6") and labels[4].startswith("LTV at 12")
        assert labels[5].startswith("Churn at 6") and labels[6].startswith("Churn at 12")
        # control: the overflow check sees a too-wide element
        page.evaluate(
            "() => document.querySelector('main').insertAdjacentHTML("
            "'beforeend', '<div style=\"width: 3000px; height: 1px\"></div>')"
        )
        assert overflow(page)[0] > overflow(page)[1]
        assert not blocked and not errors, (blocked, errors)


def test_a_product_named_like_a_formula_is_never_ranked(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    """The planted `=HYPERLINK(...)` product (escaped with a quote in staging) is left out of
    the ranking even when it has the best rate and enough customers."""
    copy = tmp_path / "formula.duckdb"
    shutil.copyfile(fixture_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        planted = con.execute(
            "select first_product_id, first_product_name from marts.fct_first_product_performance "
            "where stratum_type = 'all' and first_product_name like '%HYPERLINK%'"
        ).fetchone()
        assert planted is not None, "the fixture store plants a =HYPERLINK product name"
        without_row_rules(con, "fct_first_product_performance")
        con.execute(
            "update marts.fct_first_product_performance set is_below_min_sample = false, "
            "repeat_rate_365d = 0.99, repeat_rate_365d_ci_low = 0.9, "
            "repeat_rate_365d_ci_high = 1.0 where first_product_id = ?",
            [planted[0]],
        )
    out = tmp_path / "report.html"
    assert report.write_report(copy, out)["first_products"] == "rendered"
    text = out.read_text(encoding="utf-8")
    figures = {
        key: json.loads(html.unescape(value))
        for key, value in re.findall(r'data-figure="([^"]+)" data-value="([^"]*)"', text)
    }
    assert figures["formula_like_products"] == 1
    assert figures["top_product"] != planted[1]
    specs = json.loads(text.split("const dtcSpecs = ", 1)[1].split(";\nwindow.dtcCharts", 1)[0])
    assert "HYPERLINK" not in json.dumps(specs["first_products"])
