"""The Shopify connector source (docs/sources/shopify.md): equivalence and bad input.

The fixture store is converted to Shopify connector tables (shopify_convert), loaded with
load_shopify and built with var source_system = shopify_connector. Every mart must equal the
contract build of the same store once the store is reduced to what the connector shape can
carry; the reductions are the listed differences, each checked on its own:

1. No gift flag in Shopify: a line is a gift when its discount covers its whole price. The
   reduced store sets is_gift to that rule; the test counts, from the raw CSV, which lines
   change and checks the connector build's staging differs from the raw flag on exactly them.
2. Only completed / cancelled / test statuses exist: any other status becomes completed.
3. Costs: the connector has the current cost per variant (inventory_item.cost), no cost at the
   time of sale and no carrier cost: a line's unit_cost is its product's cost, shipping_cost
   is unknown. (No mart reads costs yet: issue 15; the staging columns are checked here.)

The same connector tables, synced straight into a DuckDB database (typed, no loader, another
schema: vars shopify_schema), build the same marts as the loader's build.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from _shopify_helpers import (
    convert,
    dbt_build,
    load,
    load_refused,
    mart_differences,
    marts,
    read_csv,
    shopify_env,
    write_csv,
)
from conftest import FIXTURE_RAW, build_warehouse

SHOPIFY_VARS = "{source_system: shopify_connector}"


def _is_full_discount(line: dict[str, str]) -> bool:
    discount = float(line["discount_amount"] or 0)
    return discount >= float(line["unit_price"]) * int(line["quantity"])


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("true", "t", "yes", "1")


def reduce_store(src: Path, out: Path) -> dict[str, list[str]]:
    """Copy src to out reduced to what the connector carries; ids changed per difference."""
    shutil.copytree(src, out)
    changed: dict[str, list[str]] = {"is_gift": [], "status": [], "unit_cost": []}
    with (src / "products.csv").open(newline="") as f:
        product_cost = {p["product_id"]: p["unit_cost"] for p in csv.DictReader(f)}
    fields, lines = read_csv(src / "order_lines.csv")
    for line in lines:
        gift = _is_full_discount(line)
        if gift != _truthy(line["is_gift"] or "false"):
            changed["is_gift"].append(line["order_line_id"])
        line["is_gift"] = "true" if gift else "false"
        # the variant's current cost (the converter's inventory_item is the product's cost)
        cost = product_cost.get(line["product_id"], "")
        if (line["unit_cost"] or "") != cost:
            changed["unit_cost"].append(line["order_line_id"])
        line["unit_cost"] = cost
    write_csv(out / "order_lines.csv", fields, lines)
    fields, orders = read_csv(src / "orders.csv")
    for order in orders:
        status = order["status"].strip().lower()
        if status not in ("", "completed", "cancelled", "test"):
            changed["status"].append(order["order_id"])
            order["status"] = "completed"
        order["shipping_cost"] = ""
    write_csv(out / "orders.csv", fields, orders)
    return changed


def build_shopify(connector_dir: Path, database: Path, work: Path) -> Path:
    env = shopify_env(database, work)
    load("scripts/load_shopify.py", connector_dir, database, env)
    dbt_build(SHOPIFY_VARS, env, work)
    return database


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    work = tmp_path_factory.mktemp("shopify_eq")
    changed = reduce_store(FIXTURE_RAW, work / "reduced")
    (work / "contract").mkdir()
    # the two builds share nothing (own database, target, logs, temp and serving files):
    # the contract build runs in a thread while the connector export is made and built.
    # The contract build is the comparison's expected side: seeds and models only (the
    # connector build, whose marts must equal it, runs every data test)
    pool = ThreadPoolExecutor(max_workers=1)
    contract_build = pool.submit(
        build_warehouse,
        work / "reduced",
        work / "contract.duckdb",
        work / "contract",
        data_tests=False,
    )
    connector_dir = work / "connector"
    convert(connector_dir, work)
    (work / "shopify").mkdir()
    try:
        shopify_db = build_shopify(connector_dir, work / "connector_build.duckdb", work / "shopify")
    finally:
        contract_db = contract_build.result()
        pool.shutdown()
    return {
        "changed": changed,
        "contract": contract_db,
        "shopify": shopify_db,
        "connector_dir": connector_dir,
    }


def test_every_mart_equals_the_contract_build(builds: dict) -> None:
    expected = marts(builds["contract"])
    assert len(expected) >= 15
    problems = mart_differences(expected, marts(builds["shopify"]))
    assert not problems, "\n".join(problems)


def test_connector_money_is_fixed_point_from_staging_on(builds: dict) -> None:
    """The Shopify staging models read the connector's amounts straight into the money type
    (DECIMAL(18,4), docs/decisions.md): no double in between, where a sum (shipping lines)
    or a comparison (is_gift: discount >= price x quantity) would be inexact."""
    con = duckdb.connect(str(builds["shopify"]), read_only=True)
    try:
        columns = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'staging' and table_name like 'stg_shopify__%'"
        ).fetchall()
    finally:
        con.close()
    amounts = {
        (table, column): data_type
        for table, column, data_type in columns
        if column in ("unit_price", "discount_amount", "unit_cost", "shipping_amount", "amount")
    }
    assert len(amounts) == 6, amounts  # order lines 3, products 1, orders 1, refunds 1
    assert set(amounts.values()) == {"DECIMAL(18,4)"}, amounts
    doubles = {(t, c) for t, c, data_type in columns if data_type == "DOUBLE"}
    assert doubles <= {("stg_shopify__order_lines", "tax_rate")}, doubles


def test_listed_difference_gift_flag(builds: dict) -> None:
    # independent count from the raw CSV: fully discounted lines not flagged as gifts
    with (FIXTURE_RAW / "order_lines.csv").open(newline="") as f:
        lines = list(csv.DictReader(f))
    expected = sorted(
        line["order_line_id"]
        for line in lines
        if _is_full_discount(line) and not _truthy(line["is_gift"] or "false")
    )
    assert len(expected) == 5  # the fixture has 5 such lines (43 gifts are fully discounted)
    assert sorted(builds["changed"]["is_gift"]) == expected
    con = duckdb.connect(str(builds["shopify"]), read_only=True)
    staged = dict(
        con.execute("select order_line_id, is_gift from staging.stg_shop__order_lines").fetchall()
    )
    con.close()
    differ = sorted(
        line["order_line_id"]
        for line in lines
        if staged[line["order_line_id"]] != _truthy(line["is_gift"] or "false")
    )
    assert differ == expected


def test_listed_difference_costs(builds: dict) -> None:
    # inventory_item.cost reaches the staging columns the margin models read (issue 15):
    # products carry their cost, each line its variant's (here: its product's) current cost
    with (FIXTURE_RAW / "products.csv").open(newline="") as f:
        product_cost = {
            p["product_id"]: (float(p["unit_cost"]) if p["unit_cost"] else None)
            for p in csv.DictReader(f)
        }
    with (FIXTURE_RAW / "order_lines.csv").open(newline="") as f:
        lines = list(csv.DictReader(f))
    assert sum(cost is not None for cost in product_cost.values()) >= 30
    con = duckdb.connect(str(builds["shopify"]), read_only=True)
    staged_products = {
        pid: (None if cost is None else float(cost))
        for pid, cost in con.execute(
            "select product_id, unit_cost from staging.stg_shop__products"
        ).fetchall()
    }
    staged_lines = dict(
        con.execute("select order_line_id, unit_cost from staging.stg_shop__order_lines").fetchall()
    )
    shipping_costs = con.execute(
        "select count(*) from staging.stg_shop__orders where shipping_cost is not null"
    ).fetchone()
    con.close()
    assert sorted(staged_products) == sorted(product_cost)
    for pid, cost in product_cost.items():
        assert (staged_products[pid] is None) == (cost is None), pid
        if cost is not None:
            assert staged_products[pid] == pytest.approx(cost, abs=0.00005), pid
    for line in lines:
        expected = product_cost[line["product_id"]]
        got = staged_lines[line["order_line_id"]]
        assert (got is None) == (expected is None), line["order_line_id"]
        if expected is not None:
            assert float(got) == pytest.approx(expected, abs=0.00005), line["order_line_id"]
    assert shipping_costs == (0,)  # carrier cost: not in the connector's tables
    assert len(builds["changed"]["unit_cost"]) > 0  # the fixture has line costs of its own


def test_listed_difference_status(builds: dict) -> None:
    # the fixture has only completed / cancelled / test / empty: nothing to reduce
    assert builds["changed"]["status"] == []


def _load(connector_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return load_refused("scripts/load_shopify.py", connector_dir, tmp_path)


@pytest.fixture()
def connector_copy(builds: dict, tmp_path: Path) -> Path:
    out = tmp_path / "connector"
    shutil.copytree(builds["connector_dir"], out)
    return out


def test_missing_table_is_refused(connector_copy: Path, tmp_path: Path) -> None:
    (connector_copy / "order_line.csv").unlink()
    done = _load(connector_copy, tmp_path)
    assert done.returncode == 2
    assert "table order_line: breaks rule 'required table'" in done.stderr


def test_renamed_column_is_refused(connector_copy: Path, tmp_path: Path) -> None:
    path = connector_copy / "order_line_refund.csv"
    text = path.read_text().split("\n", 1)
    path.write_text(text[0].replace("subtotal", "refund_subtotal") + "\n" + text[1])
    done = _load(connector_copy, tmp_path)
    assert done.returncode == 2
    assert "order_line_refund.csv: breaks rule 'required column': column 'subtotal'" in done.stderr
    assert "did you rename 'refund_subtotal'?" in done.stderr


def test_refund_pointing_at_no_line_is_refused(connector_copy: Path, tmp_path: Path) -> None:
    path = connector_copy / "order_line_refund.csv"
    fields, rows = read_csv(path)
    rows[0]["order_line_id"] = "L_NO_SUCH_LINE"
    write_csv(path, fields, rows)
    done = _load(connector_copy, tmp_path)
    assert done.returncode == 2
    assert (
        "order_line_refund.csv: column 'order_line_id' breaks rule 'exists in order_line.id' "
        "on 1 row(s), e.g. ['L_NO_SUCH_LINE']"
    ) in done.stderr


def test_load_creates_the_warehouse_folder(builds: dict, tmp_path: Path) -> None:
    # a fresh clone has no warehouse/ folder: `make build SOURCE_SYSTEM=shopify_connector`
    # must create it, as the contract loader does
    from dtc_economics.load_shopify import load_shopify

    database = tmp_path / "not" / "yet" / "dtc.duckdb"
    counts = load_shopify(builds["connector_dir"], database, "shop")
    assert database.exists()
    con = duckdb.connect(str(database), read_only=True)
    orders = con.execute('select count(*) from shop."order"').fetchone()[0]
    con.close()
    assert orders == counts["order"] > 0


def test_converter_is_deterministic(builds: dict, tmp_path: Path) -> None:
    out = tmp_path / "again"
    convert(out, tmp_path)
    first = sorted(p.name for p in builds["connector_dir"].iterdir())
    assert sorted(p.name for p in out.iterdir()) == first
    for name in first:
        assert (out / name).read_bytes() == (builds["connector_dir"] / name).read_bytes(), name


def test_connector_tables_read_in_place_without_the_loader(
    builds: dict, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # a sync's typed tables in another schema of the warehouse, no loader: vars select them
    work = tmp_path_factory.mktemp("shopify_in_place")
    database = work / "synced.duckdb"
    con = duckdb.connect(str(database))
    con.execute("create schema shop_sync")
    con.execute("create schema raw")
    for path in sorted(builds["connector_dir"].glob("*.csv")):
        if path.stem == "marketing_spend":
            continue
        con.execute(
            f'create table shop_sync."{path.stem}" as '
            f"select * from read_csv('{path}', header = true)"
        )
    con.execute(
        "create table raw.marketing_spend as select * from "
        f"read_csv('{FIXTURE_RAW / 'marketing_spend.csv'}', header = true)"
    )
    typed = con.execute(
        "select data_type from information_schema.columns where table_schema = 'shop_sync' "
        "and table_name = 'order' and column_name = 'created_at'"
    ).fetchone()
    con.close()
    assert typed == ("TIMESTAMP",)  # typed as a sync writes it, unlike the loader's text
    in_place_vars = "{source_system: shopify_connector, shopify_schema: shop_sync}"
    dbt_build(in_place_vars, shopify_env(database, work), work)
    problems = mart_differences(marts(builds["shopify"]), marts(database))
    assert not problems, "\n".join(problems)
