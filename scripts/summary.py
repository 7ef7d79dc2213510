"""Print the outcome of `make build`: dbt's tally, the five numbers and the serving copy.

Reads dbt's ``target/run_results.json`` (passed / warned / failed, and for each warning the
test's description, which says why it may warn), the five numbers of the latest complete
month from ``marts.fct_kpis_monthly`` (each with the month it comes from: a number needs a
mature cohort, so LTV 12 months is older than CAC), and names the serving copy BI tools and
notebooks open read-only. Exit 1 when the build failed (the serving copy was not updated).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import duckdb

# (column of fct_kpis_monthly, label, unit): the five numbers in reading order, 6 before 12
FIVE_NUMBERS: tuple[tuple[str, str, str], ...] = (
    ("blended_cac", "Blended CAC", "EUR"),
    ("cos", "COS (spend / net revenue)", "%"),
    ("median_days_to_second_order", "Median days 1st -> 2nd order", "days"),
    ("ltv_182d", "LTV 6 months", "EUR"),
    ("ltv_365d", "LTV 12 months", "EUR"),
    ("churn_6m", "Churn 6 months", "%"),
    ("churn_12m", "Churn 12 months", "%"),
)
# (column of fct_kpis_monthly, label, unit): margin economics of the latest complete month
# whose margins are known (issue 15); absent or all null = the store exports no costs
MARGIN_NUMBERS: tuple[tuple[str, str, str], ...] = (
    ("gross_margin", "CM1 gross margin", "EUR"),
    ("contribution_margin", "CM2 contribution margin", "EUR"),
    ("cm3", "CM3 (CM2 - marketing spend)", "EUR"),
    ("contribution_margin_rate", "CM2 / net revenue", "%"),
    ("poas", "POAS (CM2 / spend)", "x"),
    ("cost_coverage", "Cost coverage", "%"),
)
FAILED = ("error", "fail", "runtime error", "skipped")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The columns of marts.<table> (empty when it does not exist)."""
    sql = (
        "select column_name from information_schema.columns "
        "where table_schema = 'marts' and table_name = ?"
    )
    return {c for (c,) in con.execute(sql, [table]).fetchall()}


def tally(run_results: Path, manifest: Path | None) -> tuple[dict[str, int], list[str]]:
    """Counts per status and one line per warning or failure (test name: why)."""
    results = json.loads(run_results.read_text())["results"]
    nodes = json.loads(manifest.read_text())["nodes"] if manifest and manifest.is_file() else {}
    counts: dict[str, int] = {}
    lines: list[str] = []
    for r in results:
        status = str(r["status"])
        counts[status] = counts.get(status, 0) + 1
        if status in ("warn", *FAILED):
            node = nodes.get(r["unique_id"], {})
            why = (node.get("description") or "").strip() or "(no description)"
            name = r["unique_id"].split(".")[2]  # test.<project>.<name>.<hash>
            found = f" ({r['failures']} rows)" if r.get("failures") else ""
            lines.append(f"  {status.upper()} {name}{found}: {' '.join(why.split())}")
    return counts, lines


def five_numbers(database: Path) -> list[tuple[str, str, float | None, str, str]]:
    """(label, month, value, unit, cohort note) of each number: the latest complete month
    where it is known, and for cohort numbers the cohort month it was measured on."""
    out: list[tuple[str, str, float | None, str, str]] = []
    with duckdb.connect(str(database), read_only=True) as con:
        have = _columns(con, "fct_kpis_monthly")
        for column, label, unit in FIVE_NUMBERS:
            cohort = f"{column}_cohort_month"
            cohort_sql = f"strftime({cohort}, '%Y-%m')" if cohort in have else "null"
            row = con.execute(
                f"select strftime(month, '%Y-%m'), {column}, {cohort_sql} "
                f"from marts.fct_kpis_monthly where is_month_complete and {column} is not null "
                "order by month desc limit 1"
            ).fetchone()
            if row is None:
                out.append((label, "-", None, unit, ""))
                continue
            note = f"(customers acquired {row[2]})" if row[2] else ""
            out.append((label, row[0], float(row[1]), unit, note))
    return out


def margin_numbers(database: Path) -> tuple[str, list[tuple[str, float | None, str]]] | None:
    """(month, [(label, value, unit)]) of the latest complete month with a known CM2, or
    None when fct_kpis_monthly has no margin columns or no month with known margins."""
    with duckdb.connect(str(database), read_only=True) as con:
        have = _columns(con, "fct_kpis_monthly")
        if not {c for c, _, _ in MARGIN_NUMBERS} <= have:
            return None
        row = con.execute(
            "select strftime(month, '%Y-%m'), "
            + ", ".join(c for c, _, _ in MARGIN_NUMBERS)
            + " from marts.fct_kpis_monthly where is_month_complete "
            "and contribution_margin is not null order by month desc limit 1"
        ).fetchone()
    if row is None:
        return None
    values = [None if v is None else float(v) for v in row[1:]]
    pairs = zip(MARGIN_NUMBERS, values, strict=True)
    return row[0], [(label, v, unit) for (_, label, unit), v in pairs]


def margin_by_channel(database: Path) -> list[tuple[str, float, float, str, float | None]]:
    """Per channel with a fully loaded CAC: (channel, margin LTV 12 months per customer and
    fully loaded CAC, each weighted by new customers over the acquisition months where both
    are known, median margin payback months over the months with a CAC, share of the
    channel's customers with a known repayment who have not repaid their CAC)."""
    with duckdb.connect(str(database), read_only=True) as con:
        have = _columns(con, "fct_acquisition_monthly")
        if not {"margin_ltv_365d", "cac_fully_loaded", "margin_payback_months"} <= have:
            return []
        rows = con.execute(
            """
            with cells as (
                select
                    channel,
                    sum(case when margin_ltv_365d is not null
                        then margin_ltv_365d * new_customers end)
                    / nullif(sum(case when margin_ltv_365d is not null
                        then new_customers end), 0) as margin_ltv_365d,
                    sum(case when margin_ltv_365d is not null
                        then cac_fully_loaded * new_customers end)
                    / nullif(sum(case when margin_ltv_365d is not null
                        then new_customers end), 0) as cac_fully_loaded,
                    median(margin_payback_months) as payback,
                    count(margin_payback_months) as paid_back,
                    count(*) as months
                from marts.fct_acquisition_monthly
                where cac_fully_loaded > 0 and channel not in ('all', 'unattributed')
                group by channel
            ),
            repaid as (
                select
                    acquisition_channel as channel,
                    avg(case when has_repaid_cac then 0.0 else 1.0 end) as not_repaid
                from marts.dim_customers
                where has_repaid_cac is not null
                group by acquisition_channel
            )
            select cells.channel, cells.margin_ltv_365d, cells.cac_fully_loaded,
                cells.payback, cells.paid_back, cells.months, repaid.not_repaid
            from cells left join repaid on cells.channel = repaid.channel
            where cells.margin_ltv_365d is not null
            order by cells.channel
            """
        ).fetchall()
    out = []
    for channel, ltv, cac, payback, paid_back, months, not_repaid in rows:
        when = (
            f"median {payback:.0f} months where reached ({paid_back} of {months} cohorts)"
            if payback is not None
            else f"not reached (0 of {months} cohorts)"
        )
        out.append((channel, float(ltv), float(cac), when, not_repaid))
    return out


def formatted(value: float | None, unit: str) -> str:
    if value is None or math.isnan(value):
        return "n/a (no mature month yet)"
    if unit == "%":
        return f"{value:.1%}"
    if unit == "EUR":
        return f"{value:,.2f} EUR"
    if unit == "x":
        return f"{value:,.2f}"
    return f"{value:,.0f} days"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, required=True, help="build warehouse file")
    parser.add_argument("--serving", type=Path, required=True, help="serving copy (published)")
    parser.add_argument("--run-results", type=Path, default=Path("target/run_results.json"))
    args = parser.parse_args(argv)
    failed = False
    if args.run_results.is_file():
        counts, lines = tally(args.run_results, args.run_results.with_name("manifest.json"))
        failed = any(counts.get(s) for s in FAILED)
        print("\ndbt build: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        for line in lines:
            print(line)
    if failed:
        print(f"\nBuild failed: the serving copy {args.serving.resolve()} was not updated.")
        return 1
    print("\nThe five numbers (latest complete month where each is known; EUR excl. VAT):")
    for label, month, value, unit, note in five_numbers(args.database):
        print(f"  {label:<30} {month:>7}  {formatted(value, unit):<12} {note}".rstrip())
    margins = margin_numbers(args.database)
    if margins is None:
        print(
            "\nMargins: n/a (no month whose costs cover var min_cost_coverage of net revenue: "
            "unit_cost and shipping_cost, docs/raw_contract.md)"
        )
    else:
        month, numbers = margins
        print(f"\nMargins ({month}, latest complete month with known costs; EUR excl. VAT):")
        for label, value, unit in numbers:
            print(f"  {label:<30} {formatted(value, unit)}")
        channels = margin_by_channel(args.database)
        if channels:
            print("  By channel: margin LTV 12 months vs fully loaded CAC, margin payback")
            for channel, ltv, cac, when, not_repaid in channels:
                share = "" if not_repaid is None else f", {not_repaid:.0%} not repaid"
                print(
                    f"    {channel:<13} {ltv:>8,.2f} vs {cac:>7,.2f} EUR"
                    f" (x{ltv / cac:.2f}), payback {when}{share}"
                )
    serving = args.serving.resolve()
    print(f"\nServing copy (open this one, read-only): {serving}")
    print(f"  DuckDB CLI 1.5+:  duckdb -readonly '{serving}'")
    print(f"  Python:           duckdb.connect('{serving}', read_only=True)")
    print(f"The build warehouse {args.database.resolve()} is the build's private file.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
