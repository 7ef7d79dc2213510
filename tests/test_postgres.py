"""The PostgreSQL target builds the same marts as DuckDB, and BI reads the marts only.

Needs a PostgreSQL server: CI starts one with scripts/ci_services.sh (loopback, role dtc,
database dtc_test, read-only role dtc_bi). This module FAILS when the server is unreachable,
so CI cannot pass without running it; set DTC_SKIP_POSTGRES=1 to skip it deliberately.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dtc_economics.load_postgres import PG_DEFAULTS, copy_raw_to_postgres

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        os.environ.get("DTC_SKIP_POSTGRES") == "1", reason="DTC_SKIP_POSTGRES=1 (deliberate)"
    ),
]

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_RAW = ROOT / "tests" / "fixtures" / "store_small"
BIN = Path(sys.executable).parent
TOLERANCE = 1e-6  # absolute; plus 1e-9 relative for large sums summed in another order
TEST_DATABASE = os.environ.get("DTC_PG_TEST_DATABASE", "dtc_test")
BI_ROLE = os.environ.get("DTC_PG_BI_ROLE", "dtc_bi")
BI_PASSWORD = os.environ.get("DTC_PG_BI_PASSWORD", "dtc_bi")
MARTS_DIR = ROOT / "models" / "marts"
# Mart folders that dbt_project.yml enables on DuckDB only (Python models): not built on
# PostgreSQL, so not compared. Every other mart under models/marts must match.
DUCKDB_ONLY_FOLDERS = {"predictions"}


def project_marts() -> tuple[set[str], set[str]]:
    """(portable marts, DuckDB-only marts): every model file under models/marts, by folder."""
    portable: set[str] = set()
    duckdb_only: set[str] = set()
    for model in MARTS_DIR.glob("*/*"):
        if model.suffix in {".sql", ".py"}:
            folder = model.parent.name
            (duckdb_only if folder in DUCKDB_ONLY_FOLDERS else portable).add(model.stem)
    return portable, duckdb_only


def pg_env() -> dict[str, str]:
    env = dict(os.environ)
    for key, default in PG_DEFAULTS.items():
        env[key] = os.environ.get(key) or default
    env["PGDATABASE"] = TEST_DATABASE
    return env


def connect(user: str | None = None, password: str | None = None) -> Any:
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - requirements-dev.txt installs dbt-postgres
        pytest.fail("psycopg2 missing: install requirements-dev.txt (dbt-postgres)")
    env = pg_env()
    try:
        return psycopg2.connect(
            host=env["PGHOST"],
            port=env["PGPORT"],
            user=user or env["PGUSER"],
            password=password or env["PGPASSWORD"],
            dbname=TEST_DATABASE,
            connect_timeout=5,
        )
    except psycopg2.OperationalError as err:
        pytest.fail(
            f"PostgreSQL unreachable ({str(err).strip()}): run scripts/ci_services.sh, or set "
            "DTC_SKIP_POSTGRES=1 to skip the PostgreSQL tests deliberately"
        )


def run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@pytest.fixture(scope="module")
def pg_warehouse(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Load the fixture store into PostgreSQL and run dbt seed + build --target postgres."""
    con = connect()  # fails fast with a clear message
    try:
        with con.cursor() as cur:  # start clean: no table left over from an earlier run
            cur.execute("drop schema if exists raw, staging, intermediate, marts, seeds cascade")
        con.commit()
    finally:
        con.close()
    work = tmp_path_factory.mktemp("pg_build")
    env = pg_env()
    env.update(
        DBT_PROFILES_DIR=str(ROOT),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        PYTHONPATH=str(ROOT / "src"),
    )
    dbt_args = [
        "--target",
        "postgres",
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    run(
        [
            sys.executable,
            "scripts/load_postgres.py",
            "--raw-dir",
            str(FIXTURE_RAW),
            "--work-dir",
            str(work),
        ],
        env,
    )
    run([str(BIN / "dbt"), "seed", "--quiet", *dbt_args], env)
    run([str(BIN / "dbt"), "build", "--quiet", *dbt_args], env)
    return TEST_DATABASE


@pytest.fixture()
def pg(pg_warehouse: str) -> Iterator[Any]:
    con = connect()
    con.autocommit = True
    try:
        yield con
    finally:
        con.close()


def pg_rows(con: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with con.cursor() as cur:
        cur.execute(sql)
        return [d[0] for d in cur.description], cur.fetchall()


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


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # Nulls first, then by value; floats rounded so that 1e-12 noise cannot reorder rows.
    return tuple(
        (0, "") if v is None else (1, round(v, 6) if isinstance(v, float) else v) for v in row
    )


def equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=TOLERANCE)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    if isinstance(a, date) and isinstance(b, date):
        return a == b
    return a == b


def test_postgres_builds_every_duckdb_mart_with_the_same_rows(
    pg: Any, fixture_warehouse: Path
) -> None:
    portable, duckdb_only = project_marts()
    assert {"fct_orders", "dim_customers", "fct_kpis_monthly", "fct_rfm_segments"} <= portable
    all_marts = duckdb_marts(fixture_warehouse)
    assert set(all_marts) == portable | duckdb_only, "the DuckDB build lacks a project mart"
    marts = {t: c for t, c in all_marts.items() if t in portable}
    _, pg_tables = pg_rows(
        pg, "select table_name from information_schema.tables where table_schema = 'marts'"
    )
    assert {t for (t,) in pg_tables} == portable
    compared: dict[str, int] = {}
    with duckdb.connect(str(fixture_warehouse), read_only=True) as dk:
        for table, columns in sorted(marts.items()):
            select = ", ".join(f'"{c}"' for c in columns)
            dk_rows = sorted(
                dk.execute(f"select {select} from marts.{table}").fetchall(), key=_sort_key
            )
            pg_columns, rows = pg_rows(pg, f"select {select} from marts.{table}")
            assert pg_columns == columns, table
            pg_sorted = sorted(rows, key=_sort_key)
            assert len(pg_sorted) == len(dk_rows), f"{table}: row counts differ"
            assert dk_rows, f"{table}: empty on the fixture store (the test would prove nothing)"
            mismatches = [
                (columns[i], d[i], p[i])
                for d, p in zip(dk_rows, pg_sorted, strict=True)
                for i in range(len(columns))
                if not equal(d[i], p[i])
            ]
            assert not mismatches, f"{table}: {len(mismatches)} values differ: {mismatches[:5]}"
            compared[table] = len(dk_rows)
    assert set(compared) == portable
    print(f"PostgreSQL = DuckDB on {len(compared)} marts: {compared}")


def test_the_comparison_detects_a_difference() -> None:
    """Control for the comparison itself: 1e-4 apart is a difference, 1e-9 is rounding."""
    assert equal(100.0, 100.0 + 1e-9) and not equal(100.0, 100.0001)
    assert not equal(None, 0.0) and equal(None, None)
    assert not equal(date(2024, 1, 1), date(2024, 1, 2))


def test_mart_comments_and_primary_keys_reach_postgres(pg: Any, fixture_warehouse: Path) -> None:
    portable, _ = project_marts()
    marts = {t: c for t, c in duckdb_marts(fixture_warehouse).items() if t in portable}
    _, rows = pg_rows(
        pg,
        "select c.relname, c.relkind, obj_description(c.oid, 'pg_class'), "
        "count(col_description(c.oid, a.attnum)), count(a.attnum) "
        "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped "
        "where n.nspname = 'marts' and c.relkind in ('r', 'v') "
        "group by c.relname, c.relkind, c.oid",
    )
    assert {r[0] for r in rows} == set(marts)
    for table, _, comment, commented, total in rows:
        assert comment, f"marts.{table}: no table comment (persist_docs)"
        assert commented == total == len(marts[table]), f"marts.{table}: columns uncommented"
    # PostgreSQL keeps no constraint on a view: every mart table declares its primary key, and
    # the only views are the marts whose model says so (fct_orders_valid, a view of fct_orders)
    tables = {table for table, kind, *_ in rows if kind == "r"}
    views = {table for table, kind, *_ in rows if kind == "v"}
    assert views == {name for name in marts if _is_view_on_postgres(name)}, (
        "only marts materialized as views may be views"
    )
    _, keys = pg_rows(
        pg,
        "select table_name from information_schema.table_constraints "
        "where table_schema = 'marts' and constraint_type = 'PRIMARY KEY'",
    )
    assert {t for (t,) in keys} == tables, "every mart table declares its primary key"


def portable_mart_rows(warehouse: Path, sql: str) -> set[tuple[Any, ...]]:
    """Rows of a DuckDB catalog query whose first column is a mart PostgreSQL builds too."""
    portable, _ = project_marts()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {row for row in con.execute(sql).fetchall() if row[0] in portable}


def test_not_null_constraints_reach_postgres(pg: Any, fixture_warehouse: Path) -> None:
    """The contracts' not_null constraints and primary keys make the same columns NOT NULL
    on PostgreSQL as on DuckDB (where tests/test_constraints.py checks them against the
    manifest): their not_null data tests run on Spark only."""
    expected = portable_mart_rows(
        fixture_warehouse,
        "select table_name, column_name from duckdb_columns() "
        "where schema_name = 'marts' and not is_nullable",
    )
    _, pg_not_null = pg_rows(
        pg,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and is_nullable = 'NO'",
    )
    assert len(expected) > 100, "the marts are expected to declare not_null columns"
    assert set(pg_not_null) == expected


def test_check_constraints_reach_postgres(pg: Any, fixture_warehouse: Path) -> None:
    """The contracts' check constraints (the table marts' row rules) are on the same tables on
    PostgreSQL as on DuckDB, as many per table: their data tests run on Spark only, so the
    database is the check (tests/test_project_conventions.py ties each to its test)."""
    expected = portable_mart_rows(
        fixture_warehouse,
        "select table_name, count(*) from duckdb_constraints() "
        "where schema_name = 'marts' and constraint_type = 'CHECK' group by table_name",
    )
    _, pg_checks = pg_rows(
        pg,
        "select c.relname, count(*) from pg_constraint k "
        "join pg_class c on c.oid = k.conrelid "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'marts' and k.contype = 'c' group by c.relname",
    )
    assert sum(n for _, n in expected) > 200, "the marts are expected to declare checks"
    assert set(pg_checks) == expected


def _is_view_on_postgres(name: str) -> bool:
    """The model's config makes it a view outside Spark (`materialized=(... else 'view')`)."""
    sql = next(MARTS_DIR.glob(f"*/{name}.sql")).read_text(encoding="utf-8")
    config = re.search(r"materialized=\(?([^)\n]*)", sql)
    return bool(config) and config.group(1).rstrip().endswith("'view'")


def test_bi_role_reads_the_marts_and_nothing_else(pg_warehouse: str) -> None:
    from psycopg2 import errors

    con = connect(BI_ROLE, BI_PASSWORD)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute("select count(*) from marts.fct_orders")
            assert cur.fetchone()[0] > 0
            cur.execute("select count(*) from marts.dim_customers")
            assert cur.fetchone()[0] > 0
            refused = [
                "select * from raw.orders limit 1",
                "select * from staging.stg_shop__orders limit 1",
                "select * from intermediate.int_as_of_date",
                "select * from seeds.channel_mapping limit 1",
                # writes go to a table mart: fct_orders is a view of its hub, which
                # PostgreSQL would refuse to write for another reason than privileges
                "insert into marts.dim_customers (customer_id) values ('x')",
                "update marts.dim_customers set order_count = 0",
                "delete from marts.dim_customers",
                "truncate marts.dim_customers",
                "drop table marts.dim_customers",
                "drop view marts.fct_orders",
                "create table marts.bi_scratch (x int)",
                "create table public.bi_scratch (x int)",
                "create schema bi_scratch",
                "create temporary table bi_scratch (x int)",
            ]
            for sql in refused:
                with pytest.raises(errors.InsufficientPrivilege):
                    cur.execute(sql)
    finally:
        con.close()


def test_a_failed_postgres_load_keeps_the_previous_raw_tables(
    pg: Any, pg_warehouse: str, tmp_path: Path
) -> None:
    _, before = pg_rows(pg, "select count(*), sum(length(order_id)) from raw.orders")
    # A DuckDB stage whose last table has a type the loader cannot map: the copy fails after
    # the other tables were rewritten, inside the one transaction.
    stage = tmp_path / "stage.duckdb"
    with duckdb.connect(str(stage)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.orders as select 'only-one' as order_id")
        con.execute("create table raw.zz_unmappable as select [1, 2]::int[] as x, {'a': 1} as s")
    target = connect()
    try:
        with pytest.raises(ValueError, match="no PostgreSQL type"):
            copy_raw_to_postgres(stage, target, "raw", tmp_path)
    finally:
        target.close()
    _, after = pg_rows(pg, "select count(*), sum(length(order_id)) from raw.orders")
    assert after == before and before[0][0] > 1


def test_a_refused_folder_changes_nothing_in_postgres(
    pg: Any, pg_warehouse: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad_store"
    shutil.copytree(FIXTURE_RAW, bad)
    orders = bad / "orders.csv"
    lines = orders.read_text(encoding="utf-8").splitlines()
    orders.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")  # duplicate key
    _, before = pg_rows(pg, "select count(*) from raw.orders")
    env = pg_env()
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run(
        [sys.executable, "scripts/load_postgres.py", "--raw-dir", str(bad)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "unique primary key" in done.stderr and "nothing was written" in done.stderr
    _, after = pg_rows(pg, "select count(*) from raw.orders")
    assert after == before


def test_reloading_from_a_duckdb_warehouse_keeps_the_staging_views(
    pg: Any, pg_warehouse: str, fixture_warehouse: Path
) -> None:
    from dtc_economics import load_postgres

    env = pg_env()
    dsn = (
        f"host={env['PGHOST']} port={env['PGPORT']} user={env['PGUSER']} "
        f"password={env['PGPASSWORD']} dbname={TEST_DATABASE}"
    )
    code = load_postgres.main(["--from-duckdb", str(fixture_warehouse), "--dsn", dsn])
    assert code == 0
    with duckdb.connect(str(fixture_warehouse), read_only=True) as con:
        expected = con.execute("select count(*) from raw.order_lines").fetchone()
    _, rows = pg_rows(pg, "select count(*) from raw.order_lines")
    assert rows[0] == expected
    # same columns -> truncate + COPY, so dbt's staging views on raw are still there
    _, views = pg_rows(pg, "select count(*) from staging.stg_shop__order_lines")
    assert views[0] == expected
