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
FAILED = ("error", "fail", "runtime error", "skipped")


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
        have = {
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = 'fct_kpis_monthly'"
            ).fetchall()
        }
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


def formatted(value: float | None, unit: str) -> str:
    if value is None or math.isnan(value):
        return "n/a (no mature month yet)"
    if unit == "%":
        return f"{value:.1%}"
    if unit == "EUR":
        return f"{value:,.2f} EUR"
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
    serving = args.serving.resolve()
    print(f"\nServing copy (open this one, read-only): {serving}")
    print(f"  DuckDB CLI 1.5+:  duckdb -readonly '{serving}'")
    print(f"  Python:           duckdb.connect('{serving}', read_only=True)")
    print(f"The build warehouse {args.database.resolve()} is the build's private file.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
