"""The not_null and check constraints of the marts reach the database and DuckDB enforces them.

A mart column whose contract declares `constraints: [{type: not_null}]` (a table mart with an
enforced contract) has no not_null data test on DuckDB or PostgreSQL: the database refuses the
null at write time (docs/decisions.md, "Key tests where the database enforces the key", and
its not-null extension). These tests check that the constraint is in the built tables and that
a null planted upstream fails the build, naming the table and the column, and leaves the
previous mart in place. tests/test_postgres.py checks the same on PostgreSQL.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import ParsedProject
from test_project_conventions import constrained_columns

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
# (mart, not_null column, the intermediate table the mart copies it from)
PLANTED = [
    ("dim_customers", "acquisition_channel", "int_customers_enriched"),
    ("fct_returns", "refund_date", "int_refunds_dated"),
]
# (mart, column, the intermediate table the mart copies it from, a value its check refuses):
# the row rules (accepted_range, accepted_values, expression_is_true) of the table marts are
# check constraints on DuckDB and PostgreSQL, their data tests Spark-only
BROKEN_RULE = ("fct_first_product_performance", "customers", "int_first_products_aggregated", 0)


def declared_not_null(node: dict) -> set[str]:
    """Columns the contract makes NOT NULL: a not_null constraint or the primary key."""
    return constrained_columns(node, "primary_key") | constrained_columns(node, "not_null")


def test_declared_not_null_columns_are_not_null_in_the_warehouse(
    parsed_project: ParsedProject, fixture_db: duckdb.DuckDBPyConnection
) -> None:
    """Every table mart's NOT NULL columns are exactly its declared not_null constraints and
    primary key columns (views keep no constraint)."""
    rows = fixture_db.execute(
        "select table_name, column_name from duckdb_columns() "
        "where schema_name = 'marts' and not is_nullable"
    ).fetchall()
    built: dict[str, set[str]] = {}
    for table, column in rows:
        built.setdefault(table, set()).add(column)
    declared = {
        node["name"]: declared_not_null(node)
        for node in parsed_project.manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["fqn"][1] == "marts"
        and node["config"]["materialized"] == "table"
        and node["config"]["contract"]["enforced"]
    }
    assert sum(map(len, declared.values())) > 100, "the marts are expected to declare not_null"
    assert built == {t: c for t, c in declared.items() if c}


@pytest.fixture(scope="module")
def planted_null_run(
    fixture_warehouse: Path, parsed_project: ParsedProject
) -> Iterator[tuple[subprocess.CompletedProcess, Path]]:
    """A copy of the fixture warehouse with one null planted in each PLANTED input and the
    BROKEN_RULE value in its input, and `dbt run` of the marts that copy those columns. The
    copy takes the name and place of the session's parse (conftest.parsed_project), so the
    run reuses that parse."""
    database = parsed_project.database
    shutil.copyfile(fixture_warehouse, database)
    with duckdb.connect(str(database)) as con:
        for _, column, parent in PLANTED:
            con.execute(
                f"update intermediate.{parent} set {column} = null "
                f"where customer_id = (select min(customer_id) from intermediate.{parent})"
            )
            assert con.execute(
                f"select count(*) from intermediate.{parent} where {column} is null"
            ).fetchone()[0], f"{parent}.{column}: no null planted"
        mart, column, parent, value = BROKEN_RULE
        con.execute(f"update intermediate.{parent} set {column} = {value}")
    marts = [mart for mart, _, _ in PLANTED] + [BROKEN_RULE[0]]
    done = subprocess.run(
        [str(BIN / "dbt"), "run", "--select", *marts, *parsed_project.paths],
        cwd=ROOT,
        env=parsed_project.env,
        capture_output=True,
        text=True,
    )
    yield done, database
    database.unlink(missing_ok=True)  # the session's parse keeps no warehouse of its own
    database.with_name(database.name + ".wal").unlink(missing_ok=True)


def test_a_null_in_a_not_null_column_fails_the_build(
    planted_null_run: tuple[subprocess.CompletedProcess, Path], fixture_warehouse: Path
) -> None:
    done, database = planted_null_run
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    for mart, column, _ in PLANTED:
        # dbt-duckdb writes the contract's DDL into <mart>__dbt_tmp, then renames it
        assert f"NOT NULL constraint failed: {mart}__dbt_tmp.{column}" in output, output
        assert f"Failure in model {mart} " in output, output
    # the refused build left the previous marts in place
    with duckdb.connect(str(database), read_only=True) as con:
        with duckdb.connect(str(fixture_warehouse), read_only=True) as before:
            for mart, column, _ in PLANTED:
                count = f"select count(*), count({column}) from marts.{mart}"
                assert con.execute(count).fetchone() == before.execute(count).fetchone()


def test_a_row_breaking_a_check_constraint_fails_the_build(
    planted_null_run: tuple[subprocess.CompletedProcess, Path], fixture_warehouse: Path
) -> None:
    done, database = planted_null_run
    output = done.stdout + done.stderr
    mart = BROKEN_RULE[0]
    assert f'CHECK constraint failed on table "{mart}__dbt_tmp"' in output, output
    assert f"Failure in model {mart} " in output, output
    with duckdb.connect(str(database), read_only=True) as con:
        with duckdb.connect(str(fixture_warehouse), read_only=True) as before:
            count = f"select count(*), min(customers) from marts.{mart}"
            assert con.execute(count).fetchone() == before.execute(count).fetchone()
            assert con.execute(count).fetchone()[1] >= 1
