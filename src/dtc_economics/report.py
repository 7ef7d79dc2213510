"""The visual report: one self-contained HTML file drawn from the marts (``make report``).

Every chart is an altair (Vega-Lite) spec rendered in the browser by Vega, whose JavaScript
is inlined from vl-convert's bundle: the file opens offline, with no CDN and no server. Each
section names the marts it reads; a section whose mart is not in the warehouse says so
instead of drawing (so the report grows as the area marts land). Each section also prints
its key figures in a table (``tr[data-figure]``) that the browser test compares with the
marts, and names its chart data ``source`` (``window.dtcCharts[key].data('source')``).

Usage: ``scripts/report.py --database warehouse/serving.duckdb --out reports/report.html``
(the serving file or the build warehouse; it is opened read-only).
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import altair as alt
import duckdb
import pandas as pd

COLORS = {"primary": "#1f5f8b", "accent": "#d9822b", "muted": "#8a8a8a"}
# Text a spreadsheet would run as a formula, raw or escaped with a leading quote in staging.
FORMULA_LIKE = r"^'?[=+\-@\t\r]"


@dataclass(frozen=True)
class Figure:
    """One number printed under a chart (and checked by the browser test)."""

    key: str
    label: str
    value: float | int | str | None
    unit: str = ""  # "EUR", "%", "days", "" (count)

    def formatted(self) -> str:
        v = self.value
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "n/a"
        if isinstance(v, str):
            return v
        if self.unit == "%":
            return f"{v:.1%}"
        if self.unit == "EUR":
            return f"{v:,.2f} EUR"
        if self.unit == "days":
            return f"{v:,.1f} days"
        if isinstance(v, int) or float(v).is_integer():
            return f"{int(v):,}"
        return f"{v:,.2f}"


@dataclass
class SectionOutput:
    chart: alt.TopLevelMixin | None
    figures: list[Figure] = field(default_factory=list)
    table: pd.DataFrame | None = None  # shown when there is no chart


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    needs: tuple[str, ...]  # marts (schema marts) the section reads
    description: str
    build: Callable[[duckdb.DuckDBPyConnection], SectionOutput]


class SectionError(Exception):
    """The mart exists but does not have the shape the section reads."""


def _df(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def _source(frame: pd.DataFrame) -> alt.InlineData:
    """Chart data named 'source' (the browser test reads it back through the Vega view)."""
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    return alt.InlineData(values=records, name="source")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
    ]


def _require(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> None:
    have = set(_columns(con, table))
    missing = [c for c in columns if c not in have]
    if missing:
        raise SectionError(f"marts.{table} has no column(s) {', '.join(missing)}")


def _one_row_per(frame: pd.DataFrame, keys: list[str], table: str) -> None:
    if frame.duplicated(keys).any():
        raise SectionError(f"marts.{table}: expected one row per {', '.join(keys)}")


def _f(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    return float(value)


# ---------------------------------------------------------------------------------------------
# Sections on the core marts (always present)
# ---------------------------------------------------------------------------------------------


# Readable names and units of the measures drawn (never a raw column name on the page).
SALES_MEASURES: tuple[tuple[str, str], ...] = (
    ("net_revenue", "Net revenue (EUR excl. VAT)"),
    ("orders", "Valid orders"),
    ("new_customers", "New customers"),
    ("buyers", "Buyers"),
)


def sales_by_month(con: duckdb.DuckDBPyConnection) -> SectionOutput:
    """Monthly sales as the marts state them: net revenue and new customers from
    fct_kpis_monthly (finance view), valid orders and buyers from fct_customer_base_monthly."""
    _require(
        con, "fct_kpis_monthly", ("month", "is_month_complete", "net_revenue", "new_customers")
    )
    _require(con, "fct_customer_base_monthly", ("month", "segment_type", "orders", "buyers"))
    kpis = _df(
        con,
        "select month, is_month_complete, net_revenue, new_customers from marts.fct_kpis_monthly",
    )
    base = _df(
        con,
        "select month, orders, buyers from marts.fct_customer_base_monthly "
        "where segment_type = 'all'",
    )
    _one_row_per(kpis, ["month"], "fct_kpis_monthly")
    _one_row_per(base, ["month"], "fct_customer_base_monthly")
    frame = kpis.merge(base, on="month", how="left").sort_values("month")
    labels = dict(SALES_MEASURES)
    long = frame.melt(
        id_vars=["month"], value_vars=list(labels), var_name="measure", value_name="value"
    )
    long["measure"] = long["measure"].map(labels)
    chart = (
        alt.Chart(_source(long))
        .mark_line(point=True, color=COLORS["primary"])
        .encode(
            x=alt.X("month:T", title=None),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format="~s")),
            tooltip=[
                alt.Tooltip("month:T", title="month", format="%Y-%m"),
                alt.Tooltip("measure:N", title="measure"),
                alt.Tooltip("value:Q", title="value", format=",.0f"),
            ],
        )
        .properties(width=400, height=150)
        .facet(
            facet=alt.Facet("measure:N", title=None, sort=list(labels.values())),
            columns=2,
        )
        .resolve_scale(y="independent")
    )
    complete = frame[frame["is_month_complete"]]
    last = complete.iloc[-1] if not complete.empty else frame.iloc[-1]
    month = pd.Timestamp(last["month"]).strftime("%Y-%m")
    figures = [
        Figure(f"{column}_last_month", f"{label}, {month}", _f(last[column]), unit)
        for (column, label), unit in zip(SALES_MEASURES, ("EUR", "", "", ""), strict=True)
    ]
    figures.append(Figure("months", "Months drawn", len(frame)))
    return SectionOutput(chart, figures)


def ltv_by_channel(con: duckdb.DuckDBPyConnection) -> SectionOutput:
    """LTV at 6 and 12 months of each acquisition cohort, by channel, as fct_cohort_value
    states it (null until the cohort's window is complete)."""
    cols = ("cohort_month", "segment_type", "segment_value", "customers", "ltv_182d", "ltv_365d")
    _require(con, "fct_cohort_value", cols)
    frame = _df(
        con,
        "select cohort_month, segment_value as channel, customers, ltv_182d, ltv_365d "
        "from marts.fct_cohort_value where segment_type in ('all', 'acquisition_channel') "
        "order by cohort_month, channel",
    )
    _one_row_per(frame, ["cohort_month", "channel"], "fct_cohort_value")
    frame["channel"] = frame["channel"].replace({"all": "all channels"}).str.replace("_", " ")
    long = frame.melt(
        id_vars=["cohort_month", "channel", "customers"],
        value_vars=["ltv_182d", "ltv_365d"],
        var_name="window",
        value_name="ltv",
    ).dropna(subset=["ltv"])
    long["window"] = long["window"].map({"ltv_182d": "6 months", "ltv_365d": "12 months"})
    chart = (
        alt.Chart(_source(long))
        .mark_line(point=alt.OverlayMarkDef(size=14))
        .encode(
            x=alt.X("cohort_month:T", title="cohort (month of first order)"),
            y=alt.Y("ltv:Q", title="net revenue per customer (EUR)"),
            color=alt.Color("channel:N", title="acquisition channel"),
            # all channels drawn bold, each channel faint behind it
            strokeWidth=alt.condition(
                alt.datum.channel == "all channels", alt.value(3), alt.value(1)
            ),
            opacity=alt.condition(
                alt.datum.channel == "all channels", alt.value(1.0), alt.value(0.45)
            ),
            tooltip=[
                alt.Tooltip("cohort_month:T", title="cohort", format="%Y-%m"),
                alt.Tooltip("channel:N", title="channel"),
                alt.Tooltip("window:N", title="LTV at"),
                alt.Tooltip("ltv:Q", title="EUR per customer", format=",.2f"),
                alt.Tooltip("customers:Q", title="customers", format=","),
            ],
        )
        .properties(width=360, height=240)
        .facet(column=alt.Column("window:N", title=None, sort=["6 months", "12 months"]))
    )
    overall = frame[frame["channel"] == "all channels"]
    figures = []
    for column, label in (("ltv_182d", "LTV at 6 months"), ("ltv_365d", "LTV at 12 months")):
        known = overall.dropna(subset=[column])
        if known.empty:
            figures.append(Figure(column, f"{label}, all channels (no mature cohort yet)", None))
            continue
        last = known.iloc[-1]
        cohort = pd.Timestamp(last["cohort_month"]).strftime("%Y-%m")
        figures.append(
            Figure(
                column,
                f"{label}, all channels, customers acquired {cohort}",
                _f(last[column]),
                "EUR",
            )
        )
    return SectionOutput(chart, figures)


def bfcm_vs_rest(con: duckdb.DuckDBPyConnection) -> SectionOutput:
    cols = ("acquisition_year", "comparison_type", "group_value", "customers",
            "repeat_rate_90d", "repeat_rate_180d")  # fmt: skip
    _require(con, "fct_promo_cohorts", cols)
    frame = _df(
        con,
        f"select {', '.join(cols)} from marts.fct_promo_cohorts where comparison_type = 'bfcm' "
        "order by acquisition_year, group_value",
    )
    _one_row_per(frame, ["acquisition_year", "group_value"], "fct_promo_cohorts")
    frame["acquired"] = frame["group_value"].map({"bfcm": "BF/CM", "other": "rest of year"})
    long = frame.melt(
        id_vars=["acquisition_year", "acquired", "customers"],
        value_vars=["repeat_rate_90d", "repeat_rate_180d"],
        var_name="window",
        value_name="repeat_rate",
    ).dropna(subset=["repeat_rate"])
    long["window"] = long["window"].map(
        {"repeat_rate_90d": "within 90 days", "repeat_rate_180d": "within 180 days"}
    )
    long["acquisition_year"] = long["acquisition_year"].astype(str)
    chart = (
        alt.Chart(_source(long))
        .mark_bar()
        .encode(
            x=alt.X(
                "acquisition_year:N", title="year of the first order", axis=alt.Axis(labelAngle=0)
            ),
            xOffset=alt.XOffset("acquired:N", sort=["BF/CM", "rest of year"]),
            y=alt.Y("repeat_rate:Q", title="customers ordering again", axis=alt.Axis(format="%")),
            color=alt.Color(
                "acquired:N",
                title=None,
                scale=alt.Scale(
                    domain=["BF/CM", "rest of year"], range=[COLORS["accent"], COLORS["primary"]]
                ),
            ),
            column=alt.Column("window:N", title=None, sort=["within 90 days", "within 180 days"]),
            tooltip=[
                alt.Tooltip("acquisition_year:N", title="year of the first order"),
                alt.Tooltip("acquired:N", title="acquired"),
                alt.Tooltip("customers:Q", title="customers", format=","),
                alt.Tooltip("window:N", title="repeat"),
                alt.Tooltip("repeat_rate:Q", title="repeat rate", format=".1%"),
            ],
        )  # fmt: skip
        .properties(width=300, height=220)
    )
    figures = []
    mature = frame.dropna(subset=["repeat_rate_180d"])
    if not mature.empty:
        year = int(mature["acquisition_year"].max())
        for row in mature[mature["acquisition_year"] == year].itertuples():
            slug = "bfcm" if row.group_value == "bfcm" else "rest"
            for n in (90, 180):
                figures.append(
                    Figure(
                        f"repeat_{n}d_{slug}",
                        f"{row.acquired}, acquired {year}: repeat within {n} days "
                        f"({int(row.customers):,} customers)",
                        _f(getattr(row, f"repeat_rate_{n}d")),
                        "%",
                    )
                )
    return SectionOutput(chart, figures)


# fct_promo_cohorts as a growth lead reads it: readable headers, one unit each, sorted.
PROMO_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("comparison_type", "Comparison", "text"),
    ("group_value", "Group", "text"),
    ("acquisition_year", "Year acquired", "year"),
    ("customers", "New customers", "count"),
    ("share_of_year_new_customers", "Share of the year's new customers", "%"),
    ("repeat_rate_90d", "Repeat within 90 days", "%"),
    ("repeat_rate_180d", "Repeat within 180 days", "%"),
    ("full_price_second_order_share", "2nd order at full price", "%"),
    ("ltv_365d", "LTV 12 months (EUR)", "EUR"),
)


PROMO_COMPARISONS = {"bfcm": "BF/CM vs rest", "discount_band": "First-order discount"}
PROMO_GROUPS = {
    "bfcm": "BF/CM",
    "other": "rest of year",
    "none": "no discount",
    "lt_20": "under 20%",
    "20_to_40": "20% to 40%",
    "gte_40": "40% or more",
}


def promo_cohorts_table(con: duckdb.DuckDBPyConnection) -> SectionOutput:
    columns = tuple(c for c, _, _ in PROMO_COLUMNS)
    _require(con, "fct_promo_cohorts", (*columns, "is_baseline"))
    frame = _df(
        con,
        f"select {', '.join(columns)}, is_baseline from marts.fct_promo_cohorts "
        "order by comparison_type, is_baseline desc, group_value, acquisition_year",
    )
    # readable comparison and group names, groups in their natural order (baseline first)
    frame["group_order"] = (
        frame["group_value"]
        .map({g: i for i, g in enumerate(PROMO_GROUPS)})
        .fillna(len(PROMO_GROUPS))
    )
    frame = frame.sort_values(
        ["comparison_type", "is_baseline", "group_order", "group_value", "acquisition_year"],
        ascending=[True, False, True, True, True],
    )
    frame["comparison_type"] = frame["comparison_type"].map(lambda v: PROMO_COMPARISONS.get(v, v))
    frame["group_value"] = frame["group_value"].map(lambda v: PROMO_GROUPS.get(v, v))
    frame["group_value"] = frame["group_value"].where(
        ~frame["is_baseline"], frame["group_value"] + " (baseline)"
    )
    shown = pd.DataFrame()
    for column, header, unit in PROMO_COLUMNS:
        shown[header] = [_cell(v, unit) for v in frame[column]]
    figures = [Figure("rows", "Rows", len(frame))]
    return SectionOutput(None, figures, shown)


def _cell(value: Any, unit: str) -> str:
    """One table cell, rounded for reading: 12.3%, 1,234, 156.28; empty when not mature."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    if unit == "%":
        return f"{float(value):.1%}"
    if unit == "EUR":
        return f"{float(value):,.2f}"
    if unit == "count":
        return f"{int(value):,}"
    return str(value)


# ---------------------------------------------------------------------------------------------
# Sections on the area marts (drawn when the mart is in the warehouse)
# ---------------------------------------------------------------------------------------------

FIVE_NUMBERS: tuple[tuple[str, str, str], ...] = (
    ("blended_cac", "Blended CAC", "EUR"),
    ("cos", "COS (spend / net revenue)", "%"),
    ("median_days_to_second_order", "Median days from 1st to 2nd order", "days"),
    ("ltv_182d", "LTV at 6 months", "EUR"),
    ("ltv_365d", "LTV at 12 months", "EUR"),
    ("churn_6m", "Churn at 6 months", "%"),
    ("churn_12m", "Churn at 12 months", "%"),
)
# The five numbers' panels, in reading order: (title, y-axis format, [(column, series)]).
FIVE_PANELS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("1. Blended CAC (EUR per new customer)", ",.0f", (("blended_cac", "CAC"),)),
    ("2. COS (marketing spend / net revenue)", ".0%", (("cos", "COS"),)),
    (
        "3. Median days from 1st to 2nd order",
        ",.0f",
        (("median_days_to_second_order", "median days"),),
    ),
    (
        "4. LTV per customer (EUR), 6 then 12 months",
        ",.0f",
        (("ltv_182d", "6 months"), ("ltv_365d", "12 months")),
    ),
    (
        "5. Churn, 6 then 12 months after the first order",
        ".0%",
        (("churn_6m", "6 months"), ("churn_12m", "12 months")),
    ),
)


def _five_panel(title: str, fmt: str, series: tuple[tuple[str, str], ...]) -> alt.Chart:
    """One panel of the five numbers; its rows of the shared data are those of its title."""
    names = [name for _, name in series]
    color = (
        alt.Color(
            "series:N",
            title=None,
            sort=names,
            scale=alt.Scale(domain=names, range=[COLORS["accent"], COLORS["primary"]]),
            legend=alt.Legend(orient="bottom"),
        )
        if len(series) > 1
        else alt.value(COLORS["primary"])
    )
    return (
        alt.Chart(title=alt.TitleParams(title, fontSize=13, anchor="start"))
        .transform_filter(alt.datum.panel == title)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%Y-%m", labelAngle=-45)),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format=fmt)),
            color=color,
            tooltip=[
                alt.Tooltip("month:T", title="month", format="%Y-%m"),
                alt.Tooltip("series:N", title="measure"),
                alt.Tooltip("value:Q", title="value", format=",.3~f"),
            ],
        )
        .properties(width=270, height=130)
    )


def five_numbers(con: duckdb.DuckDBPyConnection) -> SectionOutput:
    metrics = tuple(m for m, _, _ in FIVE_NUMBERS)
    _require(con, "fct_kpis_monthly", ("month", "is_month_complete", *metrics))
    have = set(_columns(con, "fct_kpis_monthly"))
    # the cohort each cohort number was measured on, when the mart states it
    cohorts = [f"{m}_cohort_month" for m in metrics if f"{m}_cohort_month" in have]
    # complete months only: the month in progress has partial spend, customers and revenue
    # (its CAC and COS would be read as a trend break)
    frame = _df(
        con,
        f"select month, {', '.join((*metrics, *cohorts))} from marts.fct_kpis_monthly "
        "where is_month_complete",
    )
    _one_row_per(frame, ["month"], "fct_kpis_monthly")
    frame = frame.sort_values("month")
    parts = []
    for title, _, series in FIVE_PANELS:
        for column, name in series:
            part = frame[["month", column]].rename(columns={column: "value"}).dropna()
            parts.append(part.assign(panel=title, series=name, metric=column))
    long = pd.concat(parts, ignore_index=True)
    panels = [_five_panel(title, fmt, series) for title, fmt, series in FIVE_PANELS]
    # three panels, then two: every panel drawn, none empty, read left to right
    chart = alt.vconcat(
        alt.hconcat(*panels[:3], spacing=24),
        alt.hconcat(*panels[3:], spacing=24).resolve_legend(color="independent"),
        spacing=16,
        data=_source(long),
    ).resolve_scale(color="independent")
    figures = []
    for metric, label, unit in FIVE_NUMBERS:
        known = frame.dropna(subset=[metric])
        if known.empty:
            figures.append(Figure(metric, f"{label} (no mature month yet)", None, unit))
            continue
        last = known.iloc[-1]
        month = pd.Timestamp(last["month"]).strftime("%Y-%m")
        cohort = last.get(f"{metric}_cohort_month")
        note = (
            f" (customers acquired {pd.Timestamp(cohort).strftime('%Y-%m')})"
            if cohort is not None and not pd.isna(cohort)
            else ""
        )
        figures.append(Figure(metric, f"{label}, {month}{note}", _f(last[metric]), unit))
    return SectionOutput(chart, figures)


def cohort_retention(con: duckdb.DuckDBPyConnection) -> SectionOutput:
    cols = ("cohort_month", "months_since_first_order", "cohort_size", "active_customers",
            "retention_rate", "is_complete")  # fmt: skip
    _require(con, "fct_cohort_retention", cols)
    # month 0 is the month of the first order: every customer is active in it by definition
    # (100%), which would swamp the colour scale; the map starts at month 1
    frame = _df(
        con,
        f"select {', '.join(cols)} from marts.fct_cohort_retention "
        "where is_complete and retention_rate is not null and months_since_first_order >= 1",
    )
    _one_row_per(frame, ["cohort_month", "months_since_first_order"], "fct_cohort_retention")
    frame = frame.drop(columns=["is_complete"]).sort_values(
        ["cohort_month", "months_since_first_order"]
    )
    chart = (
        alt.Chart(_source(frame))
        .mark_rect()
        .encode(
            x=alt.X("months_since_first_order:O", title="months after the first order"),
            y=alt.Y("yearmonth(cohort_month):O", title="cohort (month of first order)"),
            color=alt.Color(
                "retention_rate:Q",
                title="share of the cohort ordering",
                scale=alt.Scale(scheme="blues", zero=True),
                legend=alt.Legend(format=".0%"),
            ),
            tooltip=[
                alt.Tooltip("yearmonth(cohort_month):O", title="cohort"),
                alt.Tooltip("months_since_first_order:O", title="months after the first order"),
                alt.Tooltip("cohort_size:Q", title="customers in the cohort", format=","),
                alt.Tooltip("active_customers:Q", title="customers ordering", format=","),
                alt.Tooltip("retention_rate:Q", title="share ordering", format=".1%"),
            ],
        )
        .properties(width=700, height=alt.Step(14))
    )
    month1 = frame[frame["months_since_first_order"] == 1]
    latest = month1.iloc[-1] if not month1.empty else None
    figures = [
        Figure("cohorts", "Cohorts", int(frame["cohort_month"].nunique())),
        Figure(
            "retention_month_1",
            "Ordering in month 1, latest complete cohort"
            + ("" if latest is None else f" ({pd.Timestamp(latest['cohort_month']):%Y-%m})"),
            None if latest is None else _f(latest["retention_rate"]),
            "%",
        ),
    ]
    return SectionOutput(chart, figures)


def _channel_name(channel: str) -> str:
    return "all channels" if channel == "all" else channel.replace("_", " ")


def _latest_per_channel(
    con: duckdb.DuckDBPyConnection, cols: tuple[str, ...], where: str
) -> pd.DataFrame:
    """Each channel's latest acquisition month of fct_acquisition_monthly that meets where."""
    _require(con, "fct_acquisition_monthly", cols)
    frame = _df(
        con,
        f"select {', '.join(cols)} from marts.fct_acquisition_monthly "
        f"where {where} order by channel, month",
    )
    _one_row_per(frame, ["month", "channel"], "fct_acquisition_monthly")
    return frame.groupby("channel", as_index=False).tail(1).reset_index(drop=True)


def _channel_bars(
    latest: pd.DataFrame,
    measures: dict[str, str],
    colors: list[str],
    titles: tuple[str, str],
    extra: tuple[str, ...] = (),
    extra_tooltips: tuple[alt.Tooltip, ...] = (),
) -> alt.Chart:
    """Grouped bars: one bar per measure (column -> shown name) for each channel's label;
    titles are the axis's and the label tooltip's."""
    long = latest.melt(
        id_vars=["label", "channel", "month", "new_customers", *extra],
        value_vars=list(measures),
        var_name="measure",
    )
    long["measure"] = long["measure"].map(measures)
    shown = list(measures.values())
    return (
        alt.Chart(_source(long))
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=titles[0]),
            x=alt.X("value:Q", title="EUR per new customer"),
            color=alt.Color("measure:N", title=None, scale=alt.Scale(domain=shown, range=colors)),
            yOffset=alt.YOffset("measure:N", sort=shown),
            tooltip=[
                alt.Tooltip("label:N", title=titles[1]),
                alt.Tooltip("new_customers:Q", title="new customers", format=","),
                alt.Tooltip("measure:N", title="measure"),
                alt.Tooltip("value:Q", title="EUR per new customer", format=",.2f"),
                *extra_tooltips,
            ],
        )
        .properties(width=600, height=alt.Step(12))
    )


def cac_vs_ltv_by_channel(con: duckdb.DuckDBPyConnection) -> SectionOutput:
    """CAC, LTV 6 and 12 months of each channel's latest acquisition month whose 12-month LTV
    is mature (fct_acquisition_monthly): CAC and LTV of the same customers."""
    cols = ("month", "channel", "new_customers", "cac", "ltv_182d", "ltv_365d", "ltv_to_cac_365d")
    # maturity is the mart's flag (the one window rule), never recomputed here
    _require(con, "fct_acquisition_monthly", ("is_window_365d_complete",))
    latest = _latest_per_channel(
        con, cols, "is_window_365d_complete and ltv_365d is not null and cac is not null"
    )
    latest["label"] = [
        f"{_channel_name(c)} ({pd.Timestamp(m):%Y-%m})"
        for c, m in zip(latest["channel"], latest["month"], strict=True)
    ]
    chart = _channel_bars(
        latest,
        {"cac": "CAC", "ltv_182d": "LTV 6 months", "ltv_365d": "LTV 12 months"},
        [COLORS["accent"], "#7fb3d5", COLORS["primary"]],
        ("channel (acquisition month)", "channel (acquisition month)"),
    )
    everything = latest[latest["channel"] == "all"]
    figures = [Figure("channels", "Channels", int((latest["channel"] != "all").sum()))]
    if not everything.empty:
        row = everything.iloc[0]
        month = pd.Timestamp(row["month"]).strftime("%Y-%m")
        figures += [
            Figure("cac_all", f"CAC, all channels, acquired {month}", _f(row["cac"]), "EUR"),
            Figure(
                "ltv_to_cac_365d_all",
                f"LTV 12 months / CAC, all channels, acquired {month}",
                _f(row["ltv_to_cac_365d"]),
            ),
        ]
    return SectionOutput(chart, figures)


# Margin view (issue 15): CM1 / CM2 / CM3 by month and LTV vs fully loaded CAC on margin.
MARGIN_MEASURES: tuple[tuple[str, str], ...] = (
    ("gross_margin", "CM1 gross margin"),
    ("contribution_margin", "CM2 contribution margin"),
    ("cm3", "CM3 after marketing"),
)


def margin_by_month(con: duckdb.DuckDBPyConnection) -> SectionOutput:
    """CM1, CM2 and CM3 of each month's valid orders (fct_kpis_monthly); months whose cost
    coverage is below var min_cost_coverage are null in the mart and are not drawn."""
    cols = ("month", "is_month_complete", "cost_coverage", "poas", *dict(MARGIN_MEASURES))
    _require(con, "fct_kpis_monthly", cols)
    frame = _df(con, f"select {', '.join(cols)} from marts.fct_kpis_monthly order by month")
    _one_row_per(frame, ["month"], "fct_kpis_monthly")
    labels = dict(MARGIN_MEASURES)
    long = frame.melt(
        id_vars=["month"], value_vars=list(labels), var_name="measure", value_name="value"
    ).dropna(subset=["value"])
    long["measure"] = long["measure"].map(labels)
    chart = (
        alt.Chart(_source(long))
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None),
            y=alt.Y("value:Q", title="EUR excl. VAT", axis=alt.Axis(format="~s")),
            color=alt.Color(
                "measure:N",
                title=None,
                scale=alt.Scale(
                    domain=list(labels.values()),
                    range=[COLORS["primary"], "#7fb3d5", COLORS["accent"]],
                ),
            ),
            tooltip=[
                alt.Tooltip("month:T", title="month", format="%Y-%m"),
                alt.Tooltip("measure:N", title="measure"),
                alt.Tooltip("value:Q", title="EUR", format=",.0f"),
            ],
        )
        .properties(width=600, height=220)
    )
    known = frame[frame["is_month_complete"] & frame["contribution_margin"].notna()]
    if known.empty:
        return SectionOutput(chart, [Figure("margin_months", "Months with known margins", 0)])
    last = known.iloc[-1]
    month = pd.Timestamp(last["month"]).strftime("%Y-%m")
    figures = [
        Figure(column, f"{label}, {month}", _f(last[column]), "EUR")
        for column, label in MARGIN_MEASURES
    ]
    figures += [
        Figure("poas", f"POAS (CM2 / spend), {month}", _f(last["poas"])),
        Figure("cost_coverage", f"Cost coverage, {month}", _f(last["cost_coverage"]), "%"),
        Figure("margin_months", "Months with known margins", len(known)),
    ]
    return SectionOutput(chart, figures)


def margin_ltv_vs_cac_by_channel(con: duckdb.DuckDBPyConnection) -> SectionOutput:
    """Fully loaded CAC and margin LTV 12 months of each channel's latest acquisition month
    where both are known (fct_acquisition_monthly), with that month's margin payback."""
    cols = (
        "month",
        "channel",
        "new_customers",
        "cac_fully_loaded",
        "margin_ltv_365d",
        "margin_ltv_to_cac_365d",
        "margin_payback_months",
        "payback_months_observed",
    )
    _require(con, "fct_acquisition_monthly", ("is_window_365d_complete",))
    latest = _latest_per_channel(
        con,
        cols,
        "is_window_365d_complete and margin_ltv_365d is not null and cac_fully_loaded > 0",
    )
    latest["payback"] = [
        f"{int(p)} months" if pd.notna(p) else f"not reached in {int(o)} months"
        for p, o in zip(
            latest["margin_payback_months"], latest["payback_months_observed"], strict=True
        )
    ]
    latest["label"] = [
        f"{_channel_name(c)} ({pd.Timestamp(m):%Y-%m}, payback {p})"
        for c, m, p in zip(latest["channel"], latest["month"], latest["payback"], strict=True)
    ]
    chart = _channel_bars(
        latest,
        {"cac_fully_loaded": "CAC fully loaded", "margin_ltv_365d": "Margin LTV 12 months"},
        [COLORS["accent"], COLORS["primary"]],
        ("channel (acquisition month, margin payback)", "channel"),
        extra=("payback",),
        extra_tooltips=(alt.Tooltip("payback:N", title="margin payback"),),
    )
    figures = [Figure("margin_channels", "Channels", int((latest["channel"] != "all").sum()))]
    for row in latest.itertuples():
        shown = _channel_name(row.channel)
        month = pd.Timestamp(row.month).strftime("%Y-%m")
        figures.append(
            Figure(
                f"margin_ltv_to_cac_365d_{row.channel}",
                f"Margin LTV 12 months / CAC fully loaded, {shown}, acquired {month}",
                _f(row.margin_ltv_to_cac_365d),
            )
        )
    return SectionOutput(chart, figures)


def customer_base(con: duckdb.DuckDBPyConnection) -> SectionOutput:
    cols = ("month", "new_customers", "returning_customers", "reactivated_customers")
    _require(con, "fct_customer_base_monthly", cols)
    # the mart is cut by segment_type / segment_value: the 'all' rows hold every customer
    segmented = "segment_type" in _columns(con, "fct_customer_base_monthly")
    where = " where segment_type = 'all'" if segmented else ""
    frame = _df(con, f"select {', '.join(cols)} from marts.fct_customer_base_monthly{where}")
    _one_row_per(frame, ["month"], "fct_customer_base_monthly")
    frame = frame.sort_values("month")
    long = frame.melt(id_vars=["month"], var_name="buyers", value_name="customers")
    long["buyers"] = long["buyers"].str.replace("_customers", "", regex=False)
    chart = (
        alt.Chart(_source(long))
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title=None),
            y=alt.Y("customers:Q", title="buyers in the month", stack="zero"),
            color=alt.Color(
                "buyers:N",
                scale=alt.Scale(
                    domain=["new", "returning", "reactivated"],
                    range=[COLORS["accent"], COLORS["primary"], "#7fb3d5"],
                ),
            ),
            tooltip=["yearmonth(month):O", "buyers:N", "customers:Q"],
        )
        .properties(width=700, height=260)
    )
    last = frame.iloc[-1]
    month = pd.Timestamp(last["month"]).strftime("%Y-%m")
    figures = [
        Figure(f"{kind}_last_month", f"{kind.capitalize()} buyers, {month}", int(last[col]))
        for kind, col in (
            ("new", "new_customers"),
            ("returning", "returning_customers"),
            ("reactivated", "reactivated_customers"),
        )
    ]
    return SectionOutput(chart, figures)


def first_products(con: duckdb.DuckDBPyConnection) -> SectionOutput:
    table = "fct_first_product_performance"
    _require(con, table, ("first_product_id", "customers", "is_below_min_sample"))
    have = set(_columns(con, table))
    # the mart is stratified (stratum_type / stratum_value): the 'all' rows are the headline
    where = "stratum_type = 'all'" if "stratum_type" in have else "true"
    horizon = next(
        (
            n
            for n in (365, 180, 90)
            if {f"repeat_rate_{n}d", f"repeat_rate_{n}d_ci_low", f"repeat_rate_{n}d_ci_high"}
            <= have
            and con.execute(
                f"select count(repeat_rate_{n}d) from marts.{table} where {where}"
            ).fetchone()[0]
        ),
        None,
    )
    if horizon is None:
        raise SectionError(f"marts.{table}: no repeat rate with intervals for any product")
    rate = f"repeat_rate_{horizon}d"
    name_column = next((c for c in ("first_product_name", "product_name") if c in have), None)
    name = f", {name_column} as product_name" if name_column else ""
    # Ranked products (at or above the minimum sample) first, by rate; the products below the
    # minimum sample are drawn after them, greyed and unranked: their wide intervals show why.
    frame = _df(
        con,
        f"""
        select first_product_id{name}, customers, not is_below_min_sample as is_ranked,
            {rate} as repeat_rate, {rate}_ci_low as ci_low, {rate}_ci_high as ci_high
        from marts.{table}
        where {where} and {rate} is not null
        order by is_below_min_sample, {rate} desc, first_product_id
        """,
    )
    _one_row_per(frame, ["first_product_id"], table)
    frame["label"] = (
        frame["product_name"].fillna(frame["first_product_id"])
        if name
        else frame["first_product_id"]
    )
    # a product whose id or name starts like a spreadsheet formula (= + - @, escaped with a
    # quote in staging) is an export defect, not a product to rank: left out and counted
    formula_like = frame["label"].astype(str).str.match(FORMULA_LIKE) | frame[
        "first_product_id"
    ].astype(str).str.match(FORMULA_LIKE)
    left_out = int(formula_like.sum())
    frame = frame[~formula_like].reset_index(drop=True)
    frame["sample"] = frame["is_ranked"].map({True: "ranked", False: "not ranked (small sample)"})
    ranked = frame[frame["is_ranked"]]
    order = frame["label"].tolist()
    base = alt.Chart(_source(frame)).encode(
        y=alt.Y("label:N", sort=order, title=f"first product (ranked by {horizon}-day repeat)")
    )
    chart = (
        base.mark_rule(color=COLORS["muted"]).encode(
            x=alt.X(
                "ci_low:Q",
                title=f"repeat within {horizon} days (95% interval)",
                axis=alt.Axis(format="%"),
            ),
            x2="ci_high:Q",
        )  # fmt: skip
        + base.mark_point(filled=True, size=60).encode(
            x="repeat_rate:Q",
            color=alt.Color(
                "sample:N",
                title=None,
                scale=alt.Scale(
                    domain=["ranked", "not ranked (small sample)"],
                    range=[COLORS["primary"], COLORS["muted"]],
                ),
            ),
            tooltip=[
                "label:N",
                "sample:N",
                "customers:Q",
                alt.Tooltip("repeat_rate:Q", format=".1%"),
                alt.Tooltip("ci_low:Q", format=".1%"),
                alt.Tooltip("ci_high:Q", format=".1%"),
            ],
        )  # fmt: skip
    ).properties(width=600, height=alt.Step(16))
    top = ranked.iloc[0] if not ranked.empty else None
    figures = [
        Figure("ranked_products", "Ranked first products (above the minimum sample)", len(ranked)),
        Figure("unranked_products", "Products below the minimum sample", len(frame) - len(ranked)),
        Figure(
            "formula_like_products",
            "Left out: name starts like a spreadsheet formula (bad input in the export)",
            left_out,
        ),
        Figure("top_product", "Top first product", None if top is None else str(top["label"])),
        Figure(
            "top_product_rate",
            f"Its repeat rate within {horizon} days",
            None if top is None else _f(top["repeat_rate"]),
            "%",
        ),
    ]
    return SectionOutput(chart, figures)


SECTIONS: tuple[Section, ...] = (
    Section(
        "five_numbers",
        "The five numbers",
        ("fct_kpis_monthly",),
        "1. Blended CAC, 2. COS net of returns, 3. median delay to the 2nd order, 4. LTV at 6 "
        "then 12 months, 5. churn at 6 then 12 months, by month; the figures are the latest "
        "complete month, and for a cohort number the cohort it was measured on.",
        five_numbers,
    ),
    Section(
        "sales",
        "Sales by month",
        ("fct_kpis_monthly", "fct_customer_base_monthly"),
        "Net revenue excl. VAT in the finance view (valid orders of the month minus returns "
        "refunded in the month) and new customers from fct_kpis_monthly; valid orders and "
        "buyers from fct_customer_base_monthly. The last month may be partial; the figures "
        "are the latest complete month.",
        sales_by_month,
    ),
    Section(
        "retention",
        "Cohort retention",
        ("fct_cohort_retention",),
        "Share of each cohort (month of first valid order) ordering in month k after it "
        "(period activity, not cumulative repeat), from month 1: month 0 is 100% by "
        "definition and is left out so the colours show the months after. Incomplete months "
        "are blank, never 0.",
        cohort_retention,
    ),
    Section(
        "ltv_curves",
        "LTV at 6 and 12 months by acquisition channel",
        ("fct_cohort_value",),
        "Net revenue per customer (EUR excl. VAT) within 6 and 12 months of the first order "
        "(first order included), by cohort and acquisition channel, from the cohorts whose "
        "window is complete (fct_cohort_value).",
        ltv_by_channel,
    ),
    Section(
        "cac_vs_ltv",
        "CAC vs LTV at 6 and 12 months by channel",
        ("fct_acquisition_monthly",),
        "EUR per new customer, for each channel's latest acquisition month whose 12-month LTV "
        "is mature: the CAC and the LTV of the same new customers (fct_acquisition_monthly).",
        cac_vs_ltv_by_channel,
    ),
    Section(
        "margin_by_month",
        "Margin by month: CM1, CM2, CM3",
        ("fct_kpis_monthly",),
        "Gross margin (CM1 = net revenue - COGS), contribution margin (CM2 = CM1 - shipping "
        "paid, payment fees and fulfilment) and CM3 (CM2 - the month's marketing spend) of "
        "the month's valid orders, EUR excl. VAT. A month whose cost coverage is below the "
        "minimum is not drawn (an unknown cost is never counted as 0).",
        margin_by_month,
    ),
    Section(
        "margin_ltv_vs_cac",
        "Margin LTV vs fully loaded CAC by channel, with payback",
        ("fct_acquisition_monthly",),
        "EUR per new customer, for each channel's latest acquisition month whose 12-month "
        "margin LTV is known: the fully loaded CAC (unattributed spend allocated to channels "
        "pro rata) and the contribution margin (CM2) of the same customers within 12 months; "
        "the label gives the month the cohort's cumulative CM2 reached the CAC.",
        margin_ltv_vs_cac_by_channel,
    ),
    Section(
        "customer_base",
        "New, returning and reactivated buyers per month",
        ("fct_customer_base_monthly",),
        "Buyers of each month split into new, returning (bought in the previous 12 months) and "
        "reactivated (bought before, not in the previous 12 months).",
        customer_base,
    ),
    Section(
        "first_products",
        "First-product ranking",
        ("fct_first_product_performance",),
        "First products ranked by the repeat rate of the customers they brought, with 95% "
        "Wilson intervals (headline rows, every customer); products below the minimum "
        "sample are drawn greyed after the ranked ones and are not ranked; a product whose "
        "name starts like a spreadsheet formula (an export defect) is left out and counted.",
        first_products,
    ),
    Section(
        "bfcm",
        "BF/CM vs rest",
        ("fct_promo_cohorts",),
        "Customers acquired in the Black Friday / Cyber Monday windows against the rest of "
        "their year: share ordering again within 90 and 180 days of the first order, over "
        "customers whose window is complete (fct_promo_cohorts).",
        bfcm_vs_rest,
    ),
    Section(
        "promo_cohorts",
        "Promo and BF/CM cohorts",
        ("fct_promo_cohorts",),
        "Every comparison of fct_promo_cohorts, baseline group first, by year of the first "
        "order; '–' = window not complete yet. Money in EUR excl. VAT.",
        promo_cohorts_table,
    ),
)


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #222; background: #f6f7f9; }
header { background: #1f5f8b; color: white; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 24px; }
header p { margin: 0; opacity: 0.9; }
main { padding: 16px 32px; max-width: 1100px; }
section { background: white; border-radius: 6px; padding: 16px 20px; margin: 16px 0;
          box-shadow: 0 1px 2px rgba(0,0,0,0.08); }
section h2 { margin: 0 0 6px 0; font-size: 19px; }
p.definition { color: #555; margin: 0 0 10px 0; font-size: 14px; }
p.missing { color: #8a6d3b; background: #fcf8e3; padding: 8px 12px; border-radius: 4px; }
table { border-collapse: collapse; font-size: 14px; margin-top: 8px; }
th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
nav a { color: white; margin-right: 12px; font-size: 13px; }
"""


def _figures_html(figures: list[Figure]) -> str:
    rows = "".join(
        f'<tr data-figure="{html.escape(f.key)}" data-value="{html.escape(json.dumps(f.value))}">'
        f"<th>{html.escape(f.label)}</th><td class='num'>{html.escape(f.formatted())}</td></tr>"
        for f in figures
    )
    return f'<table class="figures">{rows}</table>'


def _frame_html(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{_num_class(v)}>{html.escape(str(v))}</td>"  # numbers right-aligned
            for v in row
        )
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f'<table class="mart"><tr>{head}</tr>{body}</table>'


def _num_class(value: object) -> str:
    """Right-align a cell that is a number (1,234 / 12.5% / 156.28) or '–' (not yet)."""
    return ' class="num"' if re.fullmatch(r"–|-?[\d,]+(\.\d+)?%?", str(value)) else ""


def _script_json(value: object) -> str:
    return json.dumps(value, default=str).replace("</", "<\\/")


def render_html(
    database: Path, sections: tuple[Section, ...] = SECTIONS
) -> tuple[str, dict[str, str]]:
    """The report's HTML and each section's status (rendered / missing / error)."""
    import vl_convert as vlc

    alt.data_transformers.disable_max_rows()
    status: dict[str, str] = {}
    specs: dict[str, dict[str, Any]] = {}
    blocks: list[str] = []
    with duckdb.connect(str(database), read_only=True) as con:
        marts = {
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        as_of = con.execute("select max(as_of_date) from marts.dim_customers").fetchone()
        for s in sections:
            head = (
                f'<section id="{s.key}" data-section="{s.key}" data-status="{{status}}">'
                f"<h2>{html.escape(s.title)}</h2>"
                f'<p class="definition">{html.escape(s.description)}</p>'
            )
            missing = [m for m in s.needs if m not in marts]
            if missing:
                status[s.key] = "missing"
                names = ", ".join(f"marts.{m}" for m in missing)
                blocks.append(
                    head.format(status="missing")
                    + f'<p class="missing">Not in this warehouse yet: needs {names}.</p>'
                    + "</section>"
                )
                continue
            try:
                out = s.build(con)
            except SectionError as err:
                status[s.key] = "error"
                blocks.append(
                    head.format(status="error")
                    + f'<p class="missing">Cannot draw: {html.escape(str(err))}.</p></section>'
                )
                continue
            status[s.key] = "rendered"
            body = ""
            if out.chart is not None:
                specs[s.key] = out.chart.to_dict()
                body += f'<div class="chart" id="chart-{s.key}"></div>'
            if out.table is not None:
                body += _frame_html(out.table)
            blocks.append(head.format(status="rendered") + body + _figures_html(out.figures))
            blocks[-1] += "</section>"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    as_of_text = str(as_of[0]) if as_of and as_of[0] else "n/a"
    nav = "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections)
    bundle = vlc.javascript_bundle()
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>DTC customer economics report, as of {html.escape(as_of_text)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Customer economics</h1>
<p>As of {html.escape(as_of_text)} &middot; money in EUR excl. VAT &middot; generated
{generated} from {html.escape(database.name)}</p>
<nav>{nav}</nav>
</header>
<main>
{"".join(blocks)}
</main>
<script>{bundle}</script>
<script>
const dtcSpecs = {_script_json(specs)};
window.dtcCharts = {{}};
window.dtcReady = Promise.all(Object.entries(dtcSpecs).map(([key, spec]) =>
  vegaEmbed("#chart-" + key, spec, {{renderer: "svg", actions: false}})
    .then((result) => {{ window.dtcCharts[key] = result.view; }})
)).then(() => "ok", (err) => {{ document.body.dataset.chartError = String(err); throw err; }});
</script>
</body>
</html>
"""
    return page, status


def write_report(database: Path, out: Path) -> dict[str, str]:
    """Render the report to `out` (written to a temporary name, then renamed)."""
    page, status = render_html(database)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return status


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="report.py", description="Render the self-contained HTML report from the marts."
    )
    p.add_argument(
        "--database",
        type=Path,
        default=Path(os.environ.get("DTC_SERVING_PATH", "warehouse/serving.duckdb")),
        help="serving file or warehouse (default: $DTC_SERVING_PATH or warehouse/serving.duckdb)",
    )
    p.add_argument("--out", type=Path, default=Path("reports/report.html"), help="HTML file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.database.is_file():
        print(f"report: {args.database}: no such file (run `make build`)", file=sys.stderr)
        return 2
    try:
        status = write_report(args.database, args.out)
    except duckdb.Error as err:
        print(f"report: cannot read {args.database}: {err}", file=sys.stderr)
        return 2
    drawn = [k for k, v in status.items() if v == "rendered"]
    waiting = [k for k, v in status.items() if v != "rendered"]
    print(f"report: {args.out} ({len(drawn)} sections drawn: {', '.join(drawn)})")
    if waiting:
        print(f"report: not drawn (mart not built or not readable): {', '.join(waiting)}")
    return 0
