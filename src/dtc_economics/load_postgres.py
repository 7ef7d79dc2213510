"""Load a store's exports into PostgreSQL's ``raw`` schema for the dbt ``postgres`` target.

The same rules as the DuckDB load apply, because it *is* the DuckDB load: the folder is
validated and typed by ``dtc_economics.loader`` into a DuckDB file (a temporary one, or the
warehouse you name), then every table of its ``raw`` schema is copied into PostgreSQL with
``COPY ... FROM STDIN`` in **one** PostgreSQL transaction: a refused, failed or interrupted
load leaves the previous raw tables as they were. Existing tables with the same columns are
truncated and refilled (dbt's staging views on them survive); others are replaced.

Connection: libpq's environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE;
defaults 127.0.0.1:5432, dtc/dtc, database dtc as created by scripts/ci_services.sh) or
``--dsn``. Usage::

    scripts/load_postgres.py --raw-dir tests/fixtures/store_small
    scripts/load_postgres.py --from-duckdb warehouse/dtc.duckdb   # copy an already loaded raw

Exit 0 loaded, 2 refused / failed (nothing changed in PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from dtc_economics import loader

PG_DEFAULTS: dict[str, str] = {
    "PGHOST": "127.0.0.1",
    "PGPORT": "5432",
    "PGUSER": "dtc",
    "PGPASSWORD": "dtc",
    "PGDATABASE": "dtc",
}

# DuckDB column type -> PostgreSQL column type (the raw contract's types, plus the manifest's).
PG_TYPES: dict[str, str] = {
    "VARCHAR": "text",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
    "DOUBLE": "double precision",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "BOOLEAN": "boolean",
}
_LIST_RE = re.compile(r".+\[\]")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def pg_connect_kwargs(dsn: str | None = None) -> dict[str, str]:
    """psycopg2.connect keyword arguments: the DSN, else libpq env vars with our defaults."""
    if dsn:
        return {"dsn": dsn}
    env = {k: os.environ.get(k) or v for k, v in PG_DEFAULTS.items()}
    return {
        "host": env["PGHOST"],
        "port": env["PGPORT"],
        "user": env["PGUSER"],
        "password": env["PGPASSWORD"],
        "dbname": env["PGDATABASE"],
    }


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class RawColumn:
    name: str
    duckdb_type: str

    @property
    def pg_type(self) -> str:
        if _LIST_RE.fullmatch(self.duckdb_type):
            return "jsonb"  # e.g. _load_manifest.columns_extra (VARCHAR[])
        try:
            return PG_TYPES[self.duckdb_type]
        except KeyError:
            raise ValueError(f"no PostgreSQL type for DuckDB type {self.duckdb_type}") from None

    @property
    def select_expr(self) -> str:
        if self.pg_type == "jsonb":
            return f"cast(to_json({_q(self.name)}) as varchar) as {_q(self.name)}"
        return _q(self.name)


def raw_tables(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, list[RawColumn]]:
    """Tables of `schema` in the DuckDB file and their columns, in order."""
    rows = con.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where schema_name = ? and database_name = current_database() "
        "order by table_name, column_index",
        [schema],
    ).fetchall()
    tables: dict[str, list[RawColumn]] = {}
    for table, column, dtype in rows:
        tables.setdefault(table, []).append(RawColumn(column, dtype))
    return tables


def _existing_columns(cur: Any, schema: str, table: str) -> list[tuple[str, str]]:
    cur.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s and c.relkind = 'r' and a.attnum > 0 "
        "and not a.attisdropped order by a.attnum",
        (schema, table),
    )
    return [(str(n), str(t)) for n, t in cur.fetchall()]


def copy_raw_to_postgres(
    duckdb_path: Path, pg: Any, schema: str = "raw", work_dir: Path | None = None
) -> dict[str, int]:
    """Copy every table of `schema` from the DuckDB file into PostgreSQL, in one transaction.

    `pg` is an open psycopg2 connection (not in autocommit); returns rows per table.
    """
    counts: dict[str, int] = {}
    with (
        duckdb.connect(str(duckdb_path), read_only=True) as con,
        tempfile.TemporaryDirectory(dir=work_dir, prefix="load_pg_") as tmp,
    ):
        tables = raw_tables(con, schema)
        if not tables:
            raise ValueError(f"{duckdb_path}: no tables in schema {schema!r}")
        try:
            with pg.cursor() as cur:
                cur.execute(f"create schema if not exists {_q(schema)}")
                for table, columns in tables.items():
                    target = f"{_q(schema)}.{_q(table)}"
                    wanted = [(c.name, c.pg_type) for c in columns]
                    if _existing_columns(cur, schema, table) == wanted:
                        cur.execute(f"truncate table {target}")
                    else:
                        cur.execute(f"drop table if exists {target} cascade")
                        cols = ", ".join(f"{_q(n)} {t}" for n, t in wanted)
                        cur.execute(f"create table {target} ({cols})")
                    csv_path = Path(tmp) / f"{table}.csv"
                    select = ", ".join(c.select_expr for c in columns)
                    # NULL -> unquoted empty field; '' -> "" (quoted): PostgreSQL's CSV rules.
                    con.execute(
                        f"copy (select {select} from {_q(schema)}.{_q(table)}) to "
                        f"'{csv_path}' (format csv, header false, force_quote *)"
                    )
                    with open(csv_path, encoding="utf-8") as f:
                        cur.copy_expert(
                            f"copy {target} from stdin with (format csv, header false)", f
                        )
                    cur.execute(f"select count(*) from {target}")
                    counts[table] = int(cur.fetchone()[0])
                    expected = con.execute(
                        f"select count(*) from {_q(schema)}.{_q(table)}"
                    ).fetchone()
                    if expected is None or counts[table] != int(expected[0]):
                        raise RuntimeError(f"{table}: copied {counts[table]} of {expected} rows")
            pg.commit()
        except BaseException:
            pg.rollback()
            raise
    return counts


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="load_postgres.py",
        description="Validate a folder of store exports (same rules as load_raw.py) and load it "
        "into PostgreSQL's raw schema in one transaction.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--raw-dir", type=Path, help="folder with <table>.csv|.parquet")
    source.add_argument(
        "--from-duckdb", type=Path, help="copy the raw schema of an already loaded DuckDB file"
    )
    p.add_argument("--schema", default="raw", help="raw schema name (raw)")
    p.add_argument("--dsn", default=None, help="libpq DSN (default: PG* environment variables)")
    p.add_argument(
        "--work-dir", type=Path, default=None, help="folder for the temporary DuckDB stage"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not _IDENT_RE.fullmatch(args.schema):
        print(f"load_postgres: not a plain SQL identifier: {args.schema!r}", file=sys.stderr)
        return 2
    import psycopg2  # imported here: only the postgres target needs it

    with tempfile.TemporaryDirectory(dir=args.work_dir, prefix="load_pg_stage_") as tmp:
        if args.raw_dir is not None:
            stage = Path(tmp) / "stage.duckdb"
            try:
                loader.load_raw(args.raw_dir, stage, args.schema, temp_dir=Path(tmp) / "spill")
            except loader.LoadRefused as refused:
                for v in refused.violations:
                    print(f"  {v.message}", file=sys.stderr)
                print(
                    f"load_postgres: refused {args.raw_dir}: {len(refused.violations)} "
                    "problem(s); nothing was written to PostgreSQL.",
                    file=sys.stderr,
                )
                return 2
        else:
            stage = args.from_duckdb
        try:
            pg = psycopg2.connect(**pg_connect_kwargs(args.dsn))
        except psycopg2.OperationalError as err:
            print(f"load_postgres: cannot connect to PostgreSQL: {err}".rstrip(), file=sys.stderr)
            print("  start it with scripts/ci_services.sh or set PGHOST etc.", file=sys.stderr)
            return 2
        try:
            counts = copy_raw_to_postgres(stage, pg, args.schema, Path(tmp))
        except (psycopg2.Error, duckdb.Error, RuntimeError, ValueError) as err:
            print(
                f"load_postgres: failed ({str(err).strip().splitlines()[0]}); rolled back: "
                "PostgreSQL keeps its previous raw tables.",
                file=sys.stderr,
            )
            return 2
        finally:
            pg.close()
    for table, rows in counts.items():
        print(f"  {table:<20} {rows:>10,} rows -> postgres {args.schema}.{table}")
    return 0
