"""Run ``bench/reference_core.sql`` (plain DuckDB SQL) and compare its outputs with the marts.

The script computes the core outputs (customers, LTV 182/365 per cohort, cohort retention,
CAC per channel-month, first-product repeat) from the raw tables with the definitions of
the doc blocks. It is the reference the build is timed against (``make bench``) and an
independent check of the marts (tests/test_reference_core.py).

``python -m dtc_economics.bench_reference --database WAREHOUSE [--compare] [--out JSON]``
opens the warehouse read-only (the outputs are temporary tables), runs the script and, with
``--compare``, compares each output with its mart (exit 1 when they differ).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_SQL = ROOT / "bench" / "reference_core.sql"
ABS_TOLERANCE = 1e-6  # rates and counts: a millionth (double sums in another order)
REL_TOLERANCE = 1e-9
# Money: the marts hold DECIMAL(18,4) rounded per order line (docs/decisions.md, exact money);
# the script sums doubles, within 0.0001 per line of them (0.0005 per customer measured on a
# 2k store), so half a cent. A definition drift (VAT, refund cap, windows) moves euros.
MONEY_TOLERANCE = 0.005
MONEY_COLUMNS = frozenset(
    {"first_order_net_revenue", "net_revenue", "ltv_182d", "ltv_365d", "spend", "cac"}
)


@dataclass(frozen=True)
class Comparison:
    """One reference output and the mart rows it must equal."""

    name: str
    reference_sql: str
    mart_sql: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]


ACQUISITION_CELLS = "channel <> 'all' and (coalesce(spend, 0) <> 0 or new_customers > 0)"

COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "customers",
        "select * from ref_customers",
        "select * from marts.dim_customers",
        ("customer_id",),
        (
            "first_order_date",
            "cohort_month",
            "acquisition_channel",
            "first_order_net_revenue",
            "first_product_id",
            "order_count",
            "net_revenue",
            "days_to_second_order",
            "ltv_182d",
            "ltv_365d",
        ),
    ),
    Comparison(
        "cohort_value",
        "select * from ref_cohort_value",
        "select * from marts.fct_cohort_value where segment_type = 'all' and segment_value = 'all'",
        ("cohort_month",),
        ("customers", "is_window_182d_complete", "is_window_365d_complete", "ltv_182d", "ltv_365d"),
    ),
    Comparison(
        "cohort_retention",
        "select * from ref_cohort_retention",
        "select * from marts.fct_cohort_retention where is_complete",
        ("cohort_month", "months_since_first_order"),
        ("cohort_size", "active_customers", "retention_rate"),
    ),
    Comparison(
        "acquisition",
        f"select * from ref_acquisition where {ACQUISITION_CELLS}",
        f"select * from marts.fct_acquisition_monthly where {ACQUISITION_CELLS}",
        ("month", "channel"),
        ("spend", "new_customers", "cac"),
    ),
    Comparison(
        "first_products",
        "select * from ref_first_products",
        "select * from marts.fct_first_product_performance where stratum_type = 'all'",
        ("first_product_id",),
        (
            "customers",
            "customers_complete_90d",
            "repeat_customers_90d",
            "customers_complete_180d",
            "repeat_customers_180d",
            "customers_complete_365d",
            "repeat_customers_365d",
        ),
    ),
)


def run_reference(con: duckdb.DuckDBPyConnection, sql_path: Path = REFERENCE_SQL) -> float:
    """Execute the reference script on con (seed paths resolved from the project root)."""
    con.execute(f"set file_search_path = '{ROOT.as_posix()}'")
    start = time.perf_counter()
    con.execute(sql_path.read_text(encoding="utf-8"))
    return time.perf_counter() - start


def _values_differ(a: pd.Series, b: pd.Series, tolerance: float = ABS_TOLERANCE) -> np.ndarray:
    """Cell by cell: True where the values differ (nulls equal nulls; numbers to tolerance)."""
    a_null, b_null = a.isna().to_numpy(), b.isna().to_numpy()
    differ = a_null != b_null
    both = ~a_null & ~b_null
    numeric = pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b)
    if numeric and not (pd.api.types.is_bool_dtype(a) or pd.api.types.is_bool_dtype(b)):
        x = a.astype(float).to_numpy()
        y = b.astype(float).to_numpy()
        with np.errstate(invalid="ignore"):
            close = np.abs(x - y) <= tolerance + REL_TOLERANCE * np.abs(y)
        return differ | (both & ~close)
    same = a.astype(str).to_numpy() == b.astype(str).to_numpy()
    return differ | (both & ~same)


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
        elif out[column].dtype == object:
            sample = out[column].dropna()
            if len(sample) and hasattr(sample.iloc[0], "isoformat"):
                out[column] = out[column].map(lambda v: None if v is None else v.isoformat())
    return out


def compare_one(con: duckdb.DuckDBPyConnection, comparison: Comparison) -> dict[str, Any]:
    """Rows only on one side and differing cells per column, for one output."""
    wanted = [*comparison.keys, *comparison.columns]
    ref = _normalise(con.execute(comparison.reference_sql).df()[wanted])
    mart = _normalise(con.execute(comparison.mart_sql).df()[wanted])
    keys = list(comparison.keys)
    merged = ref.merge(mart, on=keys, how="outer", suffixes=("_ref", "_mart"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    mismatches = {
        column: int(
            _values_differ(
                both[f"{column}_ref"],
                both[f"{column}_mart"],
                MONEY_TOLERANCE if column in MONEY_COLUMNS else ABS_TOLERANCE,
            ).sum()
        )
        for column in comparison.columns
    }
    only_ref = int((merged["_merge"] == "left_only").sum())
    only_mart = int((merged["_merge"] == "right_only").sum())
    return {
        "rows_reference": len(ref),
        "rows_mart": len(mart),
        "only_reference": only_ref,
        "only_mart": only_mart,
        "mismatches": mismatches,
        "equal": only_ref == 0 and only_mart == 0 and not any(mismatches.values()),
    }


def compare_with_marts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Every reference output against its mart (run_reference first, same connection)."""
    outputs = {c.name: compare_one(con, c) for c in COMPARISONS}
    return {"equal": all(o["equal"] for o in outputs.values()), "outputs": outputs}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench_reference",
        description="Run bench/reference_core.sql on a warehouse (read-only) and optionally "
        "compare its outputs with the marts.",
    )
    p.add_argument("--database", type=Path, required=True, help="DuckDB warehouse (raw schema)")
    p.add_argument("--sql", type=Path, default=REFERENCE_SQL, help="the reference script")
    p.add_argument("--compare", action="store_true", help="compare with the marts")
    p.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 2.0GB")
    p.add_argument("--temp-dir", type=Path, default=None, help="DuckDB spill folder")
    p.add_argument("--out", type=Path, default=None, help="write the comparison as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.database.exists():
        print(f"bench_reference: no such warehouse: {args.database}", file=sys.stderr)
        return 2
    config: dict[str, str] = {}
    if args.memory_limit:
        config["memory_limit"] = args.memory_limit
    if args.temp_dir:
        args.temp_dir.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(args.temp_dir)
    con = duckdb.connect(str(args.database), read_only=True, config=config)
    try:
        seconds = run_reference(con, args.sql)
        doc: dict[str, Any] = {"seconds": seconds}
        if args.compare:
            doc["comparison"] = compare_with_marts(con)
    finally:
        con.close()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if args.compare and not doc["comparison"]["equal"]:
        bad = {k: v for k, v in doc["comparison"]["outputs"].items() if not v["equal"]}
        print(f"bench_reference: outputs differ from the marts: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
