"""bench/reference_core.sql (plain DuckDB SQL, written from the doc blocks) equals the marts.

Two independent computations of the core outputs (customers, LTV 182/365 per cohort, cohort
retention, CAC per channel-month, first-product repeat) agree on the fixture store. The
reference is also the floor `make bench` times the build against. The second test shows the
comparison can fail: each definition broken on purpose in the script makes it differ.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dtc_economics import bench_reference


def _run(warehouse: Path, sql: Path) -> dict:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        bench_reference.run_reference(con, sql)
        return bench_reference.compare_with_marts(con)
    finally:
        con.close()


def test_reference_script_is_plain_sql():
    text = bench_reference.REFERENCE_SQL.read_text(encoding="utf-8")
    assert "{{" not in text and "{%" not in text, "no Jinja: the reference runs without dbt"
    assert "marts." not in text and "intermediate." not in text, "reads raw tables only"


def test_reference_equals_the_marts(fixture_warehouse):
    result = _run(fixture_warehouse, bench_reference.REFERENCE_SQL)
    for name, output in result["outputs"].items():
        assert output["rows_reference"] > 0, name
        assert output["equal"], (name, output)
    # the fixture exercises what makes the numbers hard: incomplete windows on both sides
    con = duckdb.connect(str(fixture_warehouse), read_only=True)
    try:
        bench_reference.run_reference(con)
        nulls, values = con.execute(
            "select count(*) filter (where ltv_365d is null), count(ltv_365d) from ref_customers"
        ).fetchone()
    finally:
        con.close()
    assert nulls > 0 and values > 0


# each definition, broken in the reference script: the comparison must see it
BROKEN = {
    "refund cap per line removed": (
        "coalesce(l.paid_amount, 0) - coalesce(",
        "1e9 + coalesce(",
    ),
    "zero-value orders counted as valid": (
        "and i.gross_sales - i.discounts > 0 as is_valid_order",
        "as is_valid_order",
    ),
    "LTV window 182 days includes day 182": (
        "f.first_order_date < 182",
        "f.first_order_date <= 182",
    ),
    "no email matching in the identity rule": ("e.customer_id,\n", "null,\n"),
    "VAT not backed out": ("then 1 + cast(", "then 0 + cast("),
    "order-level refunds spread equally": (
        "then r.amount * l.paid_amount / p.paid",
        "then r.amount / p.lines",
    ),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_a_broken_definition_differs_from_the_marts(fixture_warehouse, tmp_path, broken):
    text = bench_reference.REFERENCE_SQL.read_text(encoding="utf-8")
    old, new = BROKEN[broken]
    assert old in text, f"the script no longer contains {old!r}: update this test"
    script = tmp_path / "broken.sql"
    script.write_text(text.replace(old, new), encoding="utf-8")
    assert not _run(fixture_warehouse, script)["equal"], broken
