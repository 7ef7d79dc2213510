"""Exact money: fixed-point DECIMAL marts, refunds that net to exactly 0, bit-identical rebuilds.

Money columns are DECIMAL(18,4) (macro type_money; docs/decisions.md, "Money is
fixed-point"). With exact sums, (1) a fully refunded order nets to exactly 0, not to -6e-14,
and (2) two builds of the same input give the same bits in every mart, whatever order the
parallel sums ran in.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import BIN, FIXTURE_RAW, ROOT, run

MONEY_TYPE = "DECIMAL(18,4)"


def _money(value: float) -> Decimal:
    """A raw double as the staging layer reads it: rounded to 4 decimals."""
    return Decimal(repr(value)).quantize(Decimal("0.0001"))


def fully_refunded_orders_from_raw(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Orders whose refunds cover every paid line, computed from the raw tables only.

    Kept simple so it is independent of the allocation SQL: either every refund of the
    order is order-level and together they reach what the order paid, or every refund is
    line-level and each paid line's refunds reach what was paid for it. Refunds dated before
    their order or naming another order's line (quarantined) disqualify the order.
    """
    lines = con.execute(
        "select order_id, order_line_id, quantity, unit_price, "
        "coalesce(discount_amount, 0), coalesce(is_gift, false) from raw.order_lines"
    ).fetchall()
    refunds = con.execute(
        "select r.order_id, r.order_line_id, r.amount, r.refunded_at >= o.ordered_at "
        "from raw.refunds as r join raw.orders as o on r.order_id = o.order_id"
    ).fetchall()
    paid_per_line: dict[str, tuple[str, Decimal]] = {}
    for order_id, line_id, quantity, price, discount, is_gift in lines:
        listed = _money(price) * quantity
        paid = Decimal(0) if is_gift else listed - min(_money(discount), listed)
        paid_per_line[line_id] = (order_id, paid)
    paid_per_order: dict[str, Decimal] = {}
    for order_id, paid in paid_per_line.values():
        paid_per_order[order_id] = paid_per_order.get(order_id, Decimal(0)) + paid
    by_order: dict[str, list[tuple[str | None, Decimal, bool]]] = {}
    for order_id, line_id, amount, dated_ok in refunds:
        by_order.setdefault(order_id, []).append((line_id or None, _money(amount), dated_ok))
    full = set()
    for order_id, pieces in by_order.items():
        paid = paid_per_order.get(order_id, Decimal(0))
        if paid <= 0 or not all(ok for _, _, ok in pieces):
            continue
        if any(line and paid_per_line.get(line, ("",))[0] != order_id for line, _, _ in pieces):
            continue
        if all(line is None for line, _, _ in pieces):
            if sum(amount for _, amount, _ in pieces) >= paid:
                full.add(order_id)
        elif all(line is not None for line, _, _ in pieces):
            per_line: dict[str, Decimal] = {}
            for line, amount, _ in pieces:
                per_line[line] = per_line.get(line, Decimal(0)) + amount
            order_lines = [
                (line, line_paid)
                for line, (owner, line_paid) in paid_per_line.items()
                if owner == order_id and line_paid > 0
            ]
            if all(per_line.get(line, Decimal(0)) >= p for line, p in order_lines):
                full.add(order_id)
    return full


def test_fully_refunded_orders_net_exactly_zero(fixture_warehouse: Path) -> None:
    con = duckdb.connect(str(fixture_warehouse), read_only=True)
    try:
        expected = fully_refunded_orders_from_raw(con)
        rows = con.execute(
            "select order_id, net_revenue, returns, net_sales_before_returns, is_fully_refunded "
            "from marts.fct_orders"
        ).fetchall()
    finally:
        con.close()
    assert len(expected) >= 5, "the fixture should hold fully refunded orders"
    by_id = {order_id: rest for order_id, *rest in rows}
    for order_id in sorted(expected):
        net, returns, net_before, flagged = by_id[order_id]
        assert isinstance(net, Decimal), type(net)
        assert net == 0 and str(net) == "0.0000", (order_id, net)
        assert returns == net_before, (order_id, returns, net_before)
        assert flagged, order_id


def _declared_money_columns() -> dict[str, list[str]]:
    """Mart -> columns whose contract data_type is numeric(18,4)."""
    found: dict[str, list[str]] = {}
    for path in (ROOT / "models" / "marts").rglob("_*__models.yml"):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            for column in model.get("columns", []):
                if str(column.get("data_type", "")).replace(" ", "") == "numeric(18,4)":
                    found.setdefault(model["name"], []).append(column["name"])
    return found


def test_money_columns_are_fixed_point_decimal(fixture_warehouse: Path) -> None:
    declared = _declared_money_columns()
    assert {"fct_orders", "fct_order_lines", "dim_customers", "fct_acquisition_monthly"} <= set(
        declared
    )
    con = duckdb.connect(str(fixture_warehouse), read_only=True)
    try:
        types = {
            (table, column): data_type
            for table, column, data_type in con.execute(
                "select table_name, column_name, data_type from information_schema.columns "
                "where table_schema = 'marts'"
            ).fetchall()
        }
    finally:
        con.close()
    wrong = {
        (table, column): types.get((table, column))
        for table, columns in declared.items()
        for column in columns
        if types.get((table, column)) != MONEY_TYPE
    }
    assert not wrong, wrong


# Fixed-point columns that are not money: the discount-depth inputs of an order, kept at 12
# decimals so that a 40%-off order's ratio is 0.4 after rounding (int_order_lines_priced).
RATIO_INPUTS = {"non_gift_gross_sales", "non_gift_discounts"}


def test_fixed_point_columns_leave_every_model_as_money(fixture_warehouse: Path) -> None:
    """Every DECIMAL column of staging, intermediate and marts is the money type.

    A sum of money in DuckDB widens to DECIMAL(38,4); the money rule (docs/decisions.md)
    casts it back before it leaves the model, so the layers between the contracts keep the
    same type as the marts. Views count too: what they expose is what their readers get.
    """
    con = duckdb.connect(str(fixture_warehouse), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns "
            "where table_schema in ('staging', 'intermediate', 'marts') "
            "and data_type like 'DECIMAL%'"
        ).fetchall()
    finally:
        con.close()
    layers = {schema for schema, *_ in columns}
    assert {"staging", "intermediate", "marts"} <= layers, layers
    wrong = sorted(
        (schema, table, column, data_type)
        for schema, table, column, data_type in columns
        if data_type != MONEY_TYPE and column not in RATIO_INPUTS
    )
    assert not wrong, wrong


def mart_hashes(database: Path) -> dict[str, tuple[int, str]]:
    """Per mart: row count and an order-independent md5 of every row's full text.

    A row's text is DuckDB's rendering of the whole row (doubles print with all the digits
    that identify their bits), the rows are sorted, then hashed together.
    """
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by table_name"
            ).fetchall()
        ]
        return {
            t: con.execute(
                f"select count(*), md5(coalesce(string_agg(r, chr(10) order by r), '')) "
                f'from (select cast(m as varchar) as r from marts."{t}" as m)'
            ).fetchone()
            for t in tables
        }
    finally:
        con.close()


def _build(work: Path, raw_dir: Path = FIXTURE_RAW) -> Path:
    """Load raw_dir (default: the fixture store) and build seeds and every model (no tests)
    into work/warehouse.duckdb: one dbt command, one parse."""
    database = work / "warehouse.duckdb"
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(ROOT),
        DBT_DUCKDB_PATH=str(database),
        DBT_DUCKDB_TEMP_DIR=str(work / "tmp"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    paths = ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    loader = [sys.executable, "scripts/load_raw.py", "--raw-dir", str(raw_dir)]
    run([*loader, "--database", str(database)], env)
    no_tests = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    run([str(BIN / "dbt"), "build", "--quiet", *no_tests, *paths], env)
    return database


@pytest.fixture(scope="module")
def two_builds(
    fixture_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict, dict]:
    """The session's fixture warehouse (a build of FIXTURE_RAW) and a second, separate build
    of the same input: two builds in two processes, with no state shared between them."""
    second = _build(tmp_path_factory.mktemp("build_two"))
    return mart_hashes(fixture_warehouse), mart_hashes(second)


def test_two_builds_give_bit_identical_marts(two_builds: tuple[dict, dict]) -> None:
    first, second = two_builds
    assert len(first) >= 15 and all(rows > 0 for rows, _ in first.values()), first
    differing = sorted(t for t in first if first[t] != second.get(t))
    assert set(first) == set(second)
    assert differing == [], differing


@pytest.fixture(scope="module")
def two_demo_builds(
    demo_store: Path, demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict, dict]:
    """The session's demo warehouse and a second build of the same generated store. The
    fixture store fits in one DuckDB row group (122,880 rows), so its builds aggregate on one
    thread; the demo store's 150,000-odd order lines do not, so here the parallel sums run in
    whatever order the threads finish: the case where double sums differed between builds."""
    second = _build(tmp_path_factory.mktemp("demo_build_two"), demo_store)
    return mart_hashes(demo_warehouse), mart_hashes(second)


def test_two_builds_of_a_multithreaded_store_give_bit_identical_marts(
    two_demo_builds: tuple[dict, dict], demo_warehouse: Path
) -> None:
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        ((lines,),) = con.execute("select count(*) from raw.order_lines").fetchall()
    assert lines > 122_880, "the demo store no longer spans two row groups"
    first, second = two_demo_builds
    assert len(first) >= 15 and all(rows > 0 for rows, _ in first.values()), first
    assert set(first) == set(second)
    differing = sorted(t for t in first if first[t] != second[t])
    assert differing == [], differing


def test_mart_hash_sees_a_last_digit_change(tmp_path: Path) -> None:
    """The hash bites: one money value changed by 0.0001 changes its mart's hash."""
    database = tmp_path / "one.duckdb"
    con = duckdb.connect(str(database))
    con.execute("create schema marts")
    con.execute("create table marts.t as select 1 as k, 10.0000::decimal(18,4) as amount")
    con.close()
    before = mart_hashes(database)
    con = duckdb.connect(str(database))
    con.execute("update marts.t set amount = amount + 0.0001")
    con.close()
    assert mart_hashes(database)["t"] != before["t"]
