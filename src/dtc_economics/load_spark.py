"""Load a store's exports into Spark's ``raw`` database for the dbt ``spark`` target.

The same rules as the DuckDB load apply, because it *is* the DuckDB load: the folder is
validated and typed by ``dtc_economics.loader`` into a temporary DuckDB file, each table of
its ``raw`` schema is exported to Parquet, and Spark reads the Parquet into a Hive table of
the same name. A refused folder writes nothing. Spark's Hive catalog has no transactions:
every table is first written under a staging name and the previous tables are only replaced
once all of them were written, so a failed write leaves the previous raw tables as they were
(an interruption during the final renames can leave a mix; rerun the load).

The Spark session uses the ``spark`` target's ``server_side_parameters`` from profiles.yml
(Hive catalog, Derby metastore and table folder under ``DTC_SPARK_DIR``), so the loader and
dbt see the same catalog. Usage::

    DTC_SPARK_DIR=$PWD/warehouse/spark scripts/load_spark.py --raw-dir tests/fixtures/store_small
    scripts/load_spark.py --from-duckdb warehouse/dtc.duckdb   # copy an already loaded raw

Exit 0 loaded, 2 refused / failed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import yaml
from jinja2 import Environment, StrictUndefined

from dtc_economics import loader

ROOT = Path(__file__).resolve().parents[2]
PROFILE = "dtc_economics"
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STAGING_PREFIX = "_loading_"

# DuckDB column type -> Spark column type (the raw contract's types, plus the manifest's).
SPARK_TYPES: dict[str, str] = {
    "VARCHAR": "string",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
    "DOUBLE": "double",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "BOOLEAN": "boolean",
    "VARCHAR[]": "array<string>",
}


def spark_conf(
    profiles_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The spark target's server_side_parameters from profiles.yml, env_var() rendered.

    One source of truth: dbt and the loader open the same Hive metastore and table folder.
    `environ` defaults to os.environ (DTC_SPARK_DIR etc.).
    """
    env_vars = os.environ if environ is None else environ
    folder = profiles_dir or Path(env_vars.get("DBT_PROFILES_DIR") or ROOT)
    profile = yaml.safe_load((folder / "profiles.yml").read_text(encoding="utf-8"))
    raw = profile[PROFILE]["outputs"]["spark"]["server_side_parameters"]

    def env_var(name: str, default: str | None = None) -> str:
        value = env_vars.get(name, default)
        if value is None:
            raise KeyError(f"environment variable {name} is not set")
        return value

    jinja = Environment(undefined=StrictUndefined)
    jinja.globals["env_var"] = env_var
    return {str(k): jinja.from_string(str(v)).render() for k, v in raw.items()}


def spark_session(conf: dict[str, str]) -> Any:
    """A Hive-enabled SparkSession with `conf` (starts the JVM: a few seconds)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("dtc_load_spark").enableHiveSupport()
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def raw_columns(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, list[tuple[str, str]]]:
    """Tables of `schema` in the DuckDB file and their (column, Spark type), in order."""
    rows = con.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where schema_name = ? and database_name = current_database() "
        "order by table_name, column_index",
        [schema],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        try:
            spark_type = SPARK_TYPES[dtype]
        except KeyError:
            raise ValueError(f"{table}.{column}: no Spark type for DuckDB type {dtype}") from None
        tables.setdefault(table, []).append((column, spark_type))
    return tables


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def copy_raw_to_spark(
    duckdb_path: Path, spark: Any, schema: str = "raw", work_dir: Path | None = None
) -> dict[str, int]:
    """Copy every table of `schema` from the DuckDB file into Spark's `schema` database.

    Each table goes DuckDB -> Parquet -> Spark, cast to the contract's types (Spark would
    read DuckDB's timestamps as timestamp_ntz), into a staging table; the staging tables
    replace the previous ones only when all were written and counted. Returns rows per table.
    """
    counts: dict[str, int] = {}
    with (
        duckdb.connect(str(duckdb_path), read_only=True) as con,
        tempfile.TemporaryDirectory(dir=work_dir, prefix="load_spark_") as tmp,
    ):
        tables = raw_columns(con, schema)
        if not tables:
            raise ValueError(f"{duckdb_path}: no tables in schema {schema!r}")
        spark.sql(f"create database if not exists {_q(schema)}")
        staged: list[str] = []
        try:
            for table, columns in tables.items():
                # Spark skips files named _* or .* (e.g. _load_manifest): prefix the name
                parquet = Path(tmp) / f"table_{table}.parquet"
                con.execute(
                    f'copy (select * from "{schema}"."{table}") to \'{parquet}\' (format parquet)'
                )
                frame = spark.read.parquet(str(parquet)).selectExpr(
                    *(f"cast({_q(c)} as {t}) as {_q(c)}" for c, t in columns)
                )
                stage = f"{_q(schema)}.{_q(STAGING_PREFIX + table)}"
                spark.sql(f"drop table if exists {stage}")
                staged.append(table)
                frame.write.format("parquet").mode("overwrite").saveAsTable(stage)
                counts[table] = int(spark.table(stage).count())
                expected = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
                if expected is None or counts[table] != int(expected[0]):
                    raise RuntimeError(f"{table}: copied {counts[table]} of {expected} rows")
        except BaseException:
            for table in staged:
                spark.sql(f"drop table if exists {_q(schema)}.{_q(STAGING_PREFIX + table)}")
            raise
        for table in tables:
            target = f"{_q(schema)}.{_q(table)}"
            spark.sql(f"drop table if exists {target}")
            spark.sql(f"alter table {_q(schema)}.{_q(STAGING_PREFIX + table)} rename to {target}")
    return counts


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="load_spark.py",
        description="Validate a folder of store exports (same rules as load_raw.py) and load it "
        "into Spark's raw database (Hive catalog of the spark target in profiles.yml).",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--raw-dir", type=Path, help="folder with <table>.csv|.parquet")
    source.add_argument(
        "--from-duckdb", type=Path, help="copy the raw schema of an already loaded DuckDB file"
    )
    p.add_argument("--schema", default="raw", help="raw database name (raw)")
    p.add_argument(
        "--profiles-dir",
        type=Path,
        default=None,
        help="folder of profiles.yml (default: $DBT_PROFILES_DIR, else the project root)",
    )
    p.add_argument(
        "--work-dir", type=Path, default=None, help="folder for the temporary DuckDB stage"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not _IDENT_RE.fullmatch(args.schema):
        print(f"load_spark: not a plain SQL identifier: {args.schema!r}", file=sys.stderr)
        return 2
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        print("load_spark: no Java found (set JAVA_HOME to a Java 17 JDK)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(dir=args.work_dir, prefix="load_spark_stage_") as tmp:
        if args.raw_dir is not None:
            stage = Path(tmp) / "stage.duckdb"
            try:
                loader.load_raw(args.raw_dir, stage, args.schema, temp_dir=Path(tmp) / "spill")
            except loader.LoadRefused as refused:
                for v in refused.violations:
                    print(f"  {v.message}", file=sys.stderr)
                print(
                    f"load_spark: refused {args.raw_dir}: {len(refused.violations)} "
                    "problem(s); nothing was written to Spark.",
                    file=sys.stderr,
                )
                return 2
        else:
            stage = args.from_duckdb
        from pyspark.errors import PySparkException

        spark = spark_session(spark_conf(args.profiles_dir))
        try:
            counts = copy_raw_to_spark(stage, spark, args.schema, Path(tmp))
        except (duckdb.Error, PySparkException, RuntimeError, ValueError) as err:
            print(
                f"load_spark: failed ({str(err).strip().splitlines()[0]}); Spark keeps its "
                "previous raw tables.",
                file=sys.stderr,
            )
            return 2
        finally:
            spark.stop()
    for table, rows in counts.items():
        print(f"  {table:<20} {rows:>10,} rows -> spark {args.schema}.{table}")
    return 0
