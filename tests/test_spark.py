"""The spark target builds the same marts as DuckDB, row for row (docs/spark.md).

Loads the fixture store into a fresh Spark warehouse (Hive catalog with a Derby metastore in a
temporary folder) with scripts/load_spark.py, runs `dbt build --target spark` once (seeds,
models and data tests; unit tests are run on DuckDB), then reads every Spark mart's Parquet
files with DuckDB (no second JVM) and compares them with the DuckDB fixture build.

Needs Java 17 (JAVA_HOME or `java` on PATH) and pyspark + dbt-spark; set DTC_SKIP_SPARK=1 to
skip deliberately. Takes a few minutes: one JVM per command (load, build).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dtc_economics.load_spark import spark_conf

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_RAW = ROOT / "tests" / "fixtures" / "store_small"
BIN = Path(sys.executable).parent
REL_TOLERANCE = 1e-6  # doubles: relative (sums added in another order, another engine)
ABS_TOLERANCE = 1e-9  # doubles near zero
# Spark-built column (as DuckDB reads its Parquet) -> contract data_type (house rules)
CONTRACT_TYPES = {
    "VARCHAR": "varchar",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "DOUBLE": "double precision",
    "DECIMAL(18,4)": "numeric(18,4)",  # money (type_money)
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
}


def java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home:
        return (Path(home) / "bin" / "java").exists()
    return shutil.which("java") is not None


pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(
        os.environ.get("DTC_SKIP_SPARK") == "1", reason="DTC_SKIP_SPARK=1 (deliberate)"
    ),
    pytest.mark.skipif(
        not java_available(),
        reason="no Java: set JAVA_HOME to a Java 17 JDK (or DTC_SKIP_SPARK=1 to skip)",
    ),
]


@dataclass(frozen=True)
class SparkBuild:
    tables: Path  # spark.sql.warehouse.dir: <database>.db/<table>/*.parquet
    manifest: dict[str, Any]


def run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}")


def spark_env(spark_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(ROOT),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DTC_SPARK_DIR=str(spark_dir),
        PYTHONPATH=str(ROOT / "src"),
    )
    return env


@pytest.fixture(scope="module")
def spark_build(tmp_path_factory: pytest.TempPathFactory) -> SparkBuild:
    """Fixture store -> Spark raw tables -> `dbt build --target spark` (one dbt command)."""
    work = tmp_path_factory.mktemp("spark_build")
    env = spark_env(work / "spark")
    run(
        [
            sys.executable,
            "scripts/load_spark.py",
            "--raw-dir",
            str(FIXTURE_RAW),
            "--work-dir",
            str(work),
        ],
        env,
    )
    # `build` seeds too; unit tests need no Spark-specific proof (the SQL they test is
    # compared here on real data) and cost a Spark job each: run on DuckDB only.
    run(
        [
            str(BIN / "dbt"),
            "build",
            "--quiet",
            "--target",
            "spark",
            "--exclude-resource-type",
            "unit_test",
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        env,
    )
    manifest = json.loads((work / "target" / "manifest.json").read_text(encoding="utf-8"))
    return SparkBuild(Path(spark_conf(ROOT, env)["spark.sql.warehouse.dir"]), manifest)


def duckdb_marts(warehouse: Path) -> dict[str, list[str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name from duckdb_columns() where schema_name = 'marts' "
            "order by table_name, column_index"
        ).fetchall()
    marts: dict[str, list[str]] = {}
    for table, column in rows:
        marts.setdefault(table, []).append(column)
    return marts


def spark_parquet(build: SparkBuild, schema: str, table: str) -> str:
    folder = build.tables / f"{schema}.db" / table
    assert folder.is_dir(), f"{schema}.{table}: no Spark table folder {folder}"
    return f"read_parquet('{folder}/*.parquet')"


def spark_marts(build: SparkBuild) -> dict[str, dict[str, Any]]:
    """Mart models of the spark build (enabled, materialized in schema marts)."""
    return {
        n["name"]: n
        for n in build.manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }


def primary_key(node: dict[str, Any]) -> list[str]:
    for constraint in node.get("constraints", []):
        if constraint["type"] == "primary_key":
            return list(constraint["columns"])
    return []


def _value_key(v: Any) -> tuple[Any, ...]:
    if v is None:
        return (0, "")
    if isinstance(v, float | Decimal):
        return (1, round(float(v), 6))
    if isinstance(v, datetime):
        return (1, v.replace(tzinfo=None))
    return (1, v)


def equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float | Decimal) or isinstance(b, float | Decimal):
        return math.isclose(float(a), float(b), rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    if isinstance(a, date) and isinstance(b, date):
        return a == b
    return bool(a == b)


def sort_rows(rows: list[tuple[Any, ...]], key_index: list[int]) -> list[tuple[Any, ...]]:
    """By primary key first (exact), then by the whole row (floats rounded)."""
    return sorted(
        rows,
        key=lambda r: (
            tuple(_value_key(r[i]) for i in key_index),
            tuple(_value_key(v) for v in r),
        ),
    )


def test_spark_builds_every_duckdb_mart_but_the_python_predictions(
    spark_build: SparkBuild, fixture_warehouse: Path
) -> None:
    duck = set(duckdb_marts(fixture_warehouse))
    spark = set(spark_marts(spark_build))
    # the Shopify connector's staging is off on every target unless source_system says so
    skipped = {
        n["name"]
        for nodes in spark_build.manifest["disabled"].values()
        for n in nodes
        if n["resource_type"] == "model"
        and not n["original_file_path"].startswith("models/staging/shopify/")
    }
    assert {"fct_orders", "fct_order_lines", "fct_returns", "dim_customers"} <= spark
    assert skipped == {
        "fct_customer_predictions",
        "fct_prediction_calibration",
        "fct_base_future_value",
        "fct_base_future_value_monthly",
        "fct_audiences",  # ranks the predictions (predicted_high_value_new): same folder
        "int_customers_purchases_summarised",  # the predictions' input, DuckDB only too
        "int_predictions_fitted",  # the fits (Python), DuckDB only too
        "int_customer_months_predicted",  # the monthly predictions (Python), DuckDB only
    }, "only the DuckDB-only predictions and their inputs may be disabled on Spark"
    assert spark == duck - skipped
    built = {p.name for p in (spark_build.tables / "marts.db").iterdir() if p.is_dir()}
    assert built == spark, "every enabled mart has a Spark table"


def test_spark_marts_equal_the_duckdb_marts_row_for_row(
    spark_build: SparkBuild, fixture_warehouse: Path
) -> None:
    duck_marts = duckdb_marts(fixture_warehouse)
    nodes = spark_marts(spark_build)
    differences: dict[str, str] = {}
    with duckdb.connect(str(fixture_warehouse), read_only=True) as dk:
        for table, node in sorted(nodes.items()):
            columns = duck_marts[table]
            source = spark_parquet(spark_build, "marts", table)
            described = dk.execute(f"describe select * from {source}").fetchall()
            if [r[0] for r in described] != columns:
                differences[table] = f"columns {[r[0] for r in described]} != {columns}"
                continue
            select = ", ".join(f'"{c}"' for c in columns)
            keys = [columns.index(c) for c in primary_key(node)]
            assert keys, f"{table}: no primary key constraint to sort by"
            dk_rows = sort_rows(dk.execute(f"select {select} from marts.{table}").fetchall(), keys)
            sp_rows = sort_rows(dk.execute(f"select {select} from {source}").fetchall(), keys)
            assert dk_rows, f"{table}: empty on the fixture store (the test would prove nothing)"
            if len(sp_rows) != len(dk_rows):
                differences[table] = f"{len(sp_rows)} rows on Spark, {len(dk_rows)} on DuckDB"
                continue
            mismatches = [
                (columns[i], d[i], s[i])
                for d, s in zip(dk_rows, sp_rows, strict=True)
                for i in range(len(columns))
                if not equal(d[i], s[i])
            ]
            if mismatches:
                differences[table] = f"{len(mismatches)} values differ: {mismatches[:5]}"
    assert not differences, "\n".join(f"{t}: {d}" for t, d in differences.items())


def test_spark_marts_have_the_contract_types(spark_build: SparkBuild, fixture_db: Any) -> None:
    """Contracts are not enforced on Spark (docs/spark.md): check the built types here."""
    nodes = spark_marts(spark_build)
    wrong: list[tuple[str, str, str, str]] = []
    for table, node in sorted(nodes.items()):
        source = spark_parquet(spark_build, "marts", table)
        described = fixture_db.execute(f"describe select * from {source}").fetchall()
        built = {str(r[0]): str(r[1]) for r in described}
        for name, column in node["columns"].items():
            declared = (column.get("data_type") or "").lower()
            actual = CONTRACT_TYPES.get(built.get(name, "missing"), built.get(name, "missing"))
            if actual != declared:
                wrong.append((table, name, declared, built.get(name, "missing")))
    assert not wrong, f"{len(wrong)} Spark columns differ from the contract: {wrong[:10]}"


def test_spark_runs_the_not_null_tests_of_not_null_constraints(spark_build: SparkBuild) -> None:
    """Spark enforces no contract: a column whose not_null constraint DuckDB and PostgreSQL
    enforce (their builds skip its test) has its not_null data test in the Spark build,
    which ran and passed it (the fixture fails on any failed test)."""
    manifest = spark_build.manifest
    tested = {
        (node["attached_node"], node["column_name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") == "not_null"
    }
    constrained = [
        (node["unique_id"], name)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        for name, column in node["columns"].items()
        if any(k["type"] == "not_null" for k in column.get("constraints", []))
    ]
    assert len(constrained) > 100, "the marts are expected to declare not_null constraints"
    missing = [c for c in constrained if c not in tested]
    assert not missing, f"not_null constraints without a not_null test on Spark: {missing}"


def test_the_comparison_detects_a_difference() -> None:
    """Control for the comparison itself: 1e-4 relative is a difference, 1e-9 is rounding."""
    assert equal(100.0, 100.0 + 1e-7) and not equal(100.0, 100.01)
    assert equal(Decimal("0.1"), 0.1) and not equal(0.0, 1e-6)
    assert not equal(None, 0.0) and equal(None, None)
    assert not equal(date(2024, 1, 1), date(2024, 1, 2)) and not equal("a", "b")
    rows = sort_rows([(2, 0.5), (1, None), (1, 0.25)], [0])
    assert rows == [(1, None), (1, 0.25), (2, 0.5)]


def test_loader_and_dbt_share_one_absolute_spark_catalog() -> None:
    conf = spark_conf(ROOT, {"DTC_SPARK_DIR": "/data/spark"})
    assert conf["spark.sql.catalogImplementation"] == "hive"
    assert conf["spark.sql.warehouse.dir"] == "/data/spark/tables"
    assert (
        "databaseName=/data/spark/metastore_db;"
        in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    )
    assert conf["spark.sql.session.timeZone"] == "UTC"


def test_a_refused_folder_writes_nothing_to_spark(tmp_path: Path) -> None:
    bad = tmp_path / "bad_store"
    shutil.copytree(FIXTURE_RAW, bad)
    orders = bad / "orders.csv"
    lines = orders.read_text(encoding="utf-8").splitlines()
    orders.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")  # duplicate key
    spark_dir = tmp_path / "spark"
    done = subprocess.run(
        [sys.executable, "scripts/load_spark.py", "--raw-dir", str(bad)],
        cwd=ROOT,
        env=spark_env(spark_dir),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    assert "unique primary key" in done.stderr and "nothing was written" in done.stderr
    assert not spark_dir.exists(), "refused before Spark started: no metastore created"
