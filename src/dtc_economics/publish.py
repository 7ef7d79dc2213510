"""Publish the marts into a serving DuckDB file that BI tools read (README: Serving the marts).

DuckDB allows one writer or many readers of a file, never both: a BI tool holding the build
warehouse blocks ``dbt build`` and the build blocks the tool. So ``make publish`` (run at the
end of ``make build``) copies the serving schemas (``marts``, ``seeds``) of the warehouse into
``warehouse/serving.duckdb``:

* written in the storage format of ``--storage-version`` (default ``v1.5.0``), so DuckDB 1.5.x
  readers such as Metabase's DuckDB driver open it (DuckDB 2.0's default format is not
  readable before 2.0);
* with each table's columns, types, NOT NULL and primary keys, and the table and column
  comments that dbt's ``persist_docs`` wrote (BI tools show them as descriptions); a view
  in those schemas is published as a table holding its rows (the serving file is
  self-contained: it has no staging schema a view could read), with its contract's primary
  key as recorded in the warehouse's ``meta.view_primary_keys``;
* plus ``meta.publish_info`` (one row: when, from where, which storage version, row counts);
* into a temporary file in the same folder that is checked (row counts) and then atomically
  renamed over the previous serving file (``os.replace``). A failed or interrupted publish
  leaves the previous serving file as it was and removes its temporary file.

* with every text column escaped for spreadsheets (ids included): a value starting with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, so a CSV
  download from a BI tool never runs a formula (OWASP "CSV injection"); already escaped
  values start with ``'`` and are left as they are.

One implementation, two callers: ``dbt build`` / ``dbt run`` publish at their end through the
on-run-end macro ``publish_serving_copy``, which calls the SQL function ``dtc_publish`` that
:mod:`dtc_economics.dbt_plugin` registers on dbt's own DuckDB connection (the warehouse is
then read through that connection, as dbt holds its write lock); ``make publish`` and this
module's command line attach the warehouse read-only instead. Both run
:func:`publish_catalog`.

Usage: ``scripts/publish.py --database WAREHOUSE --out SERVING`` (exit 0 published, 2 failed).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dtc_economics import DEFAULT_MEMORY_LIMIT

DEFAULT_SCHEMAS: tuple[str, ...] = ("marts", "seeds")
# Oldest DuckDB release line that must read the serving file: Metabase's DuckDB driver embeds
# DuckDB 1.5.x. 'v1.5.0' is the newest format every 1.5.x reader understands.
DEFAULT_STORAGE_VERSION = "v1.5.0"
INFO_SCHEMA = "meta"
# in the warehouse: the views' contract primary keys (macro record_view_primary_keys)
VIEW_KEYS_TABLE = "view_primary_keys"
INFO_TABLE = "publish_info"

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VERSION_RE = re.compile(r"v\d+\.\d+\.\d+")
_SRC, _DST = "publish_src", "publish_dst"
# First characters a spreadsheet runs as a formula (OWASP CSV injection): = + - @ tab CR.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


class PublishError(Exception):
    """The publish could not complete; the previous serving file is unchanged."""


@dataclass(frozen=True)
class TableCopy:
    """One copied table and its row count."""

    schema: str
    name: str
    rows: int


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str | None) -> str:
    return "null" if text is None else "'" + text.replace("'", "''") + "'"


def temp_path_for(out: Path) -> Path:
    """Temporary file next to the serving file (same filesystem: os.replace is atomic)."""
    return out.with_name(f".{out.name}.tmp-{os.getpid()}")


def _remove_quietly(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _tables(con: duckdb.DuckDBPyConnection, src: str, schema: str) -> list[tuple[str, str | None]]:
    """Tables and views of the schema; a view is published as a table (a snapshot of it)."""
    return con.execute(
        "select table_name, comment from duckdb_tables() "
        "where database_name = ? and schema_name = ? "
        "union all select view_name, comment from duckdb_views() "
        "where database_name = ? and schema_name = ? and not internal order by 1",
        [src, schema, src, schema],
    ).fetchall()


def _columns(
    con: duckdb.DuckDBPyConnection, src: str, schema: str, table: str
) -> list[tuple[str, str, bool]]:
    return con.execute(
        "select column_name, data_type, is_nullable from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? order by column_index",
        [src, schema, table],
    ).fetchall()


def _view_keys(con: duckdb.DuckDBPyConnection, src: str, schema: str, table: str) -> list:
    """A view's contract primary key, from meta.view_primary_keys (macro
    record_view_primary_keys: DuckDB views hold no constraints); none without that table."""
    recorded = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? "
        f"and schema_name = 'meta' and table_name = '{VIEW_KEYS_TABLE}'",
        [src],
    ).fetchone()
    if not recorded or not recorded[0]:
        return []
    return con.execute(
        f"select key_columns from {_q(src)}.meta.{VIEW_KEYS_TABLE} "
        "where schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchall()


def _create_table_sql(con: duckdb.DuckDBPyConnection, src: str, schema: str, table: str) -> str:
    keys = con.execute(
        "select constraint_column_names from duckdb_constraints() "
        "where database_name = ? and schema_name = ? and table_name = ? "
        "and constraint_type = 'PRIMARY KEY'",
        [src, schema, table],
    ).fetchall() or _view_keys(con, src, schema, table)
    parts = [
        f"{_q(name)} {dtype}" + ("" if nullable else " not null")
        for name, dtype, nullable in _columns(con, src, schema, table)
    ]
    for (key_columns,) in keys:
        parts.append("primary key (" + ", ".join(_q(c) for c in key_columns) + ")")
    return f"create table {_DST}.{_q(schema)}.{_q(table)} (\n    " + ",\n    ".join(parts) + "\n)"


def escaped_text_sql(column: str) -> str:
    """SQL for `column` (a quoted name) with a leading quote when it starts a formula."""
    prefixes = ", ".join(f"chr({ord(c)})" for c in FORMULA_PREFIXES)
    quote = "''''"
    return f"case when left({column}, 1) in ({prefixes}) then {quote} || {column} else {column} end"


def _select_escaped(con: duckdb.DuckDBPyConnection, src: str, schema: str, table: str) -> str:
    """Select of every column, text columns escaped (FORMULA_PREFIXES), others as they are."""
    items = [
        escaped_text_sql(_q(name)) + f" as {_q(name)}" if dtype == "VARCHAR" else _q(name)
        for name, dtype, _ in _columns(con, src, schema, table)
    ]
    return "select " + ", ".join(items) + f" from {_q(src)}.{_q(schema)}.{_q(table)}"


def _copy_comments(
    con: duckdb.DuckDBPyConnection, src: str, schema: str, table: str, comment: str | None
) -> None:
    target = f"{_DST}.{_q(schema)}.{_q(table)}"
    if comment:
        con.execute(f"comment on table {target} is {_lit(comment)}")
    for column, col_comment in con.execute(
        "select column_name, comment from duckdb_columns() where database_name = ? "
        "and schema_name = ? and table_name = ? and comment is not null and comment <> ''",
        [src, schema, table],
    ).fetchall():
        con.execute(f"comment on column {target}.{_q(column)} is {_lit(col_comment)}")


def _copy_table(
    con: duckdb.DuckDBPyConnection, src: str, schema: str, table: str, comment: str | None
) -> int:
    con.execute(_create_table_sql(con, src, schema, table))
    con.execute(
        f"insert into {_DST}.{_q(schema)}.{_q(table)} {_select_escaped(con, src, schema, table)}"
    )
    _copy_comments(con, src, schema, table, comment)
    row = con.execute(f"select count(*) from {_DST}.{_q(schema)}.{_q(table)}").fetchone()
    return int(row[0]) if row else 0


CopyTable = Callable[[duckdb.DuckDBPyConnection, str, str, str, str | None], int]


def _check_arguments(schemas: tuple[str, ...], storage_version: str) -> None:
    for schema in schemas:
        if not _IDENT_RE.fullmatch(schema):
            raise PublishError(f"schema must be a plain SQL identifier, got {schema!r}")
    if not _VERSION_RE.fullmatch(storage_version):
        raise PublishError(f"storage version must look like v1.5.0, got {storage_version!r}")


def publish_catalog(
    con: duckdb.DuckDBPyConnection,
    src: str,
    out: Path,
    schemas: tuple[str, ...] = DEFAULT_SCHEMAS,
    storage_version: str = DEFAULT_STORAGE_VERSION,
    *,
    source_label: str | None = None,
    copy_table: CopyTable | None = None,
) -> list[TableCopy]:
    """Copy `schemas` of the attached catalog `src` into the serving file `out`, atomically.

    `con` sees the warehouse as catalog `src` (dbt's own connection, or a read-only attach).
    The copy goes to a temporary file next to `out` that is renamed over it only once every
    table is written and its row count checked; on any failure the temporary file is removed
    and `out` is left as it was. A reader holding `out` open keeps its (old) file: the rename
    replaces the name, not the file it has open. `copy_table` replaces the per-table copy
    (tests inject failures with it).
    """
    copy = copy_table or _copy_table
    out = Path(out)
    _check_arguments(schemas, storage_version)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(out)
    _remove_quietly(tmp)
    copied: list[TableCopy] = []
    attached = False
    try:
        con.execute(f"attach {_lit(str(tmp))} as {_DST} (storage_version {_lit(storage_version)})")
        attached = True
        found = {
            s
            for (s,) in con.execute(
                "select schema_name from duckdb_schemas() where database_name = ?", [src]
            ).fetchall()
        }
        missing = [s for s in schemas if s not in found]
        if "marts" in schemas and "marts" in missing:
            raise PublishError(f"{source_label or src}: no `marts` schema (run `dbt build` first)")
        con.execute("begin transaction")
        for schema in schemas:
            if schema in missing:
                continue
            con.execute(f"create schema {_DST}.{_q(schema)}")
            for table, comment in _tables(con, src, schema):
                rows = copy(con, src, schema, table, comment)
                copied.append(TableCopy(schema, table, rows))
        _write_info(con, source_label or src, storage_version, copied)
        con.execute("commit")
        _check_counts(con, src, copied)
        con.execute(f"detach {_DST}")
        attached = False
        os.replace(tmp, out)
    except BaseException:
        if attached:
            _quietly(con, "rollback")
            _quietly(con, f"detach {_DST}")
        _remove_quietly(tmp)
        raise
    return copied


def _quietly(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    try:
        con.execute(sql)
    except duckdb.Error:
        pass


def publish(
    database: Path,
    out: Path,
    schemas: tuple[str, ...] = DEFAULT_SCHEMAS,
    storage_version: str = DEFAULT_STORAGE_VERSION,
    *,
    copy_table: CopyTable | None = None,
    memory_limit: str | None = None,
    temp_directory: Path | None = None,
) -> list[TableCopy]:
    """Copy `schemas` of the warehouse file `database` into the serving file `out`, atomically.

    The warehouse is attached read-only (refused with a clear message while a build holds
    it); the copy itself is :func:`publish_catalog`. DuckDB is held to `memory_limit`
    (default: $DBT_DUCKDB_MEMORY_LIMIT or 1.8GB, as the build) and spills above it to
    `temp_directory` (default: $DBT_DUCKDB_TEMP_DIR, else a `tmp` folder beside `out`).
    """
    database, out = Path(database), Path(out)
    _check_arguments(schemas, storage_version)
    if not database.is_file():
        raise PublishError(f"{database}: no such warehouse file (run `make build` first)")
    if out.resolve() == database.resolve():
        raise PublishError("the serving file must not be the warehouse file")
    # the build's memory settings: without a limit a DuckDB connection may take 80% of the
    # RAM (the 1M store's publish peaked at 2.97 GB)
    limit = memory_limit or os.environ.get("DBT_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    spill = temp_directory or Path(os.environ.get("DBT_DUCKDB_TEMP_DIR") or out.parent / "tmp")
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"set memory_limit = {_lit(limit)}")
        con.execute(f"set temp_directory = {_lit(str(spill))}")
        try:
            con.execute(f"attach {_lit(str(database))} as {_SRC} (read_only)")
        except duckdb.Error as err:
            raise PublishError(
                f"{database}: cannot open the warehouse read-only ({str(err).splitlines()[0]}); "
                "is a build still running?"
            ) from None
        return publish_catalog(
            con,
            _SRC,
            out,
            schemas,
            storage_version,
            source_label=str(database.resolve()),
            copy_table=copy_table,
        )
    finally:
        con.close()


def summary_line(copied: list[TableCopy], out: Path, storage_version: str) -> str:
    """The one log line of a publish: what was written where, and how to open it."""
    rows = sum(t.rows for t in copied)
    path = Path(out).resolve()
    cli = f"duckdb -readonly {shlex.quote(str(path))}"
    return (
        f"publish: serving copy {path} written ({len(copied)} tables, {rows:,} rows, DuckDB "
        f"storage {storage_version}); open it read-only ({cli}); resync BI tools to see the "
        "new data"
    )


def _write_info(
    con: duckdb.DuckDBPyConnection, source: str, storage_version: str, copied: list[TableCopy]
) -> None:
    con.execute(f"create schema {_DST}.{INFO_SCHEMA}")
    con.execute(
        f"create table {_DST}.{INFO_SCHEMA}.{INFO_TABLE} (published_at timestamp, "
        "source_warehouse varchar, storage_version varchar, written_by_duckdb varchar, "
        "tables integer, total_rows bigint)"
    )
    con.execute(
        f"insert into {_DST}.{INFO_SCHEMA}.{INFO_TABLE} values (?, ?, ?, ?, ?, ?)",
        [
            datetime.now(UTC).replace(tzinfo=None),
            source,
            storage_version,
            duckdb.__version__,
            len(copied),
            sum(t.rows for t in copied),
        ],
    )
    con.execute(
        f"comment on table {_DST}.{INFO_SCHEMA}.{INFO_TABLE} is "
        "'One row: when this serving file was published (UTC), from which warehouse, in which "
        "DuckDB storage version. Resync the BI tool after a newer publish.'"
    )


def _check_counts(con: duckdb.DuckDBPyConnection, src: str, copied: list[TableCopy]) -> None:
    for t in copied:
        n = con.execute(f"select count(*) from {_q(src)}.{_q(t.schema)}.{_q(t.name)}").fetchone()
        if n is None or int(n[0]) != t.rows:
            raise PublishError(f"{t.schema}.{t.name}: copied {t.rows} rows, source has {n}")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="publish.py",
        description="Copy the marts of the warehouse into the serving DuckDB file BI tools read.",
    )
    p.add_argument(
        "--database",
        type=Path,
        default=Path(os.environ.get("DBT_DUCKDB_PATH", "warehouse/dtc.duckdb")),
        help="build warehouse (default: $DBT_DUCKDB_PATH or warehouse/dtc.duckdb)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ.get("DTC_SERVING_PATH", "warehouse/serving.duckdb")),
        help="serving file (default: $DTC_SERVING_PATH or warehouse/serving.duckdb)",
    )
    p.add_argument(
        "--schemas",
        default=",".join(DEFAULT_SCHEMAS),
        help="comma-separated schemas to copy (default: marts,seeds)",
    )
    p.add_argument(
        "--storage-version",
        default=DEFAULT_STORAGE_VERSION,
        help=f"DuckDB storage format of the serving file (default {DEFAULT_STORAGE_VERSION})",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    schemas = tuple(s.strip() for s in args.schemas.split(",") if s.strip())
    try:
        copied = publish(args.database, args.out, schemas, args.storage_version)
    except PublishError as err:
        print(f"publish: {err}; the previous serving file is unchanged.", file=sys.stderr)
        return 2
    except duckdb.Error as err:
        print(
            f"publish: failed ({str(err).splitlines()[0]}); the previous serving file is "
            "unchanged.",
            file=sys.stderr,
        )
        return 2
    print(summary_line(copied, args.out, args.storage_version))
    return 0
