"""Load a folder of Shopify connector tables into a DuckDB warehouse (docs/sources/shopify.md).

The folder holds one file per connector table, named as the connector names it
(``order.csv``, ``order_line.parquet``, ...; the list is ``shopify_tables.TABLES``), plus an
optional ``marketing_spend`` file in the raw contract's shape. Every file is checked before
anything is written: a missing required table, a missing (e.g. renamed) column, an unreadable
timestamp or number, a duplicate id or an id pointing at no parent row (a refunded line that
is not among the order lines, for example) refuses the load with a message naming the file,
column, rule and first offending rows. Then the tables replace the ``shopify`` schema in one
transaction; values are kept as text except timestamps, stored as UTC timestamps.

Marketing spend is not a Shopify table: a ``marketing_spend`` file in the raw contract's shape
is checked (required columns, types, amount not negative) and written to
``raw.marketing_spend`` in the same transaction (an empty typed table without a file).

Usage: ``scripts/load_shopify.py --raw-dir DIR --database PATH [--schema shopify]``
(exit 0 loaded, 2 refused).
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path

import duckdb

from dtc_economics import contract, loader
from dtc_economics.contract import Table
from dtc_economics.shopify_tables import BY_NAME, TABLES, ShopifyTable

MAX_SHOWN = 5
SPEND = "marketing_spend"
# (table, email column): the load adds ``email_hash``, the raw contract loader's hash of the
# email (salted with $DTC_PII_SALT), so the salt never reaches dbt (docs/sources/shopify.md)
HASHED_EMAILS = (("order", "email"), ("customer", "email"))


class ShopifyLoadRefused(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _find_files(raw_dir: Path) -> tuple[dict[str, Path], list[str], list[str]]:
    """Connector table -> file; problems; ignored file names."""
    files: dict[str, Path] = {}
    problems: list[str] = []
    ignored: list[str] = []
    for path in sorted(raw_dir.iterdir()):
        if not path.is_file() or path.suffix.lower() not in (".csv", ".parquet"):
            continue
        name = path.stem.lower()
        if name not in BY_NAME and name != SPEND:
            ignored.append(path.name)
            continue
        if name in files:
            problems.append(
                f"{path.name} and {files[name].name}: breaks rule 'one file per table' "
                f"(which one is meant for table {name} is ambiguous)"
            )
            continue
        files[name] = path
    contract_shaped = any(n in ("orders.csv", "orders.parquet") for n in ignored)
    hint = (
        "; this folder looks like the raw contract (orders, order_lines): build it with "
        "SOURCE_SYSTEM=contract, or convert it with scripts/contract_to_shopify.py"
        if contract_shaped
        else ""
    )
    for table in TABLES:
        if table.required and table.name not in files:
            problems.append(
                f"table {table.name}: breaks rule 'required table': no {table.name}.csv or "
                f"{table.name}.parquet in {raw_dir} (files are named as the connector names "
                f"its tables){hint}"
            )
    return files, problems, ignored


def _read_sql(path: Path) -> str:
    if path.suffix.lower() == ".parquet":
        return f"select * from read_parquet({_lit(str(path))})"
    return (
        f"select * from read_csv({_lit(str(path))}, header = true, all_varchar = true, "
        f"auto_detect = true)"
    )


def _stage(con: duckdb.DuckDBPyConnection, table: ShopifyTable, path: Path) -> list[str]:
    """Create temp table s_<name> with every column as text (timestamps typed); problems."""
    try:
        rel = con.sql(_read_sql(path))
        found = list(rel.columns)
    except duckdb.Error as err:
        first = str(err).splitlines()[0]
        return [f"{path.name}: breaks rule 'well-formed file': {first}"]
    lowered = {c.strip().lower(): c for c in found}
    problems = []
    for col in table.columns:
        if col not in lowered:
            close = difflib.get_close_matches(col, list(lowered), n=1)
            hint = f"; did you rename {lowered[close[0]]!r}?" if close else ""
            problems.append(
                f"{path.name}: breaks rule 'required column': column {col!r} is missing "
                f"(found: {', '.join(found)}){hint}"
            )
    if problems:
        return problems
    selects = []
    for col in table.all_columns:
        src = f"cast({_q(lowered[col])} as varchar)" if col in lowered else "cast(null as varchar)"
        selects.append(f"{src} as {_q(col)}")
    for col, orig in lowered.items():
        if col not in table.all_columns:
            selects.append(f"cast({_q(orig)} as varchar) as {_q(col)}")
    con.execute(
        f"create temp table {_q('s_' + table.name)} as "
        f"select {', '.join(selects)} from ({_read_sql(path)})"
    )
    return problems


def _empty(con: duckdb.DuckDBPyConnection, table: ShopifyTable) -> None:
    cols = ", ".join(f"{_q(c)} varchar" for c in table.all_columns)
    con.execute(f"create temp table {_q('s_' + table.name)} ({cols})")


def _bad_rows(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, list[str]]:
    rows = con.execute(sql).fetchall()
    return len(rows), [str(r[0]) for r in rows[:MAX_SHOWN]]


def _check(con: duckdb.DuckDBPyConnection, files: dict[str, Path]) -> list[str]:
    problems: list[str] = []
    for table in TABLES:
        t = _q("s_" + table.name)
        fname = files[table.name].name if table.name in files else f"{table.name} (no file)"
        for col in table.timestamps:
            n, shown = _bad_rows(
                con,
                f"select {_q(col)} from {t} where nullif(trim({_q(col)}), '') is not null "
                f"and try_cast({_q(col)} as timestamptz) is null",
            )
            if n:
                problems.append(
                    f"{fname}: column {col!r} breaks rule 'ISO-8601 timestamp' on {n} row(s), "
                    f"e.g. {shown}"
                )
        for col in table.numbers:
            n, shown = _bad_rows(
                con,
                f"select {_q(col)} from {t} where nullif(trim({_q(col)}), '') is not null "
                f"and try_cast(trim({_q(col)}) as double) is null",
            )
            if n:
                problems.append(
                    f"{fname}: column {col!r} breaks rule 'decimal number' on {n} row(s), "
                    f"e.g. {shown}"
                )
        if table.key:
            k = _q(table.key)
            n, shown = _bad_rows(con, f"select {k} from {t} where nullif(trim({k}), '') is null")
            if n:
                problems.append(
                    f"{fname}: column {table.key!r} breaks rule 'primary key not empty' "
                    f"on {n} row(s)"
                )
            n, shown = _bad_rows(
                con, f"select {k} from {t} group by {k} having count(*) > 1 order by {k}"
            )
            if n:
                problems.append(
                    f"{fname}: column {table.key!r} breaks rule 'unique primary key': "
                    f"{n} value(s) on several rows, e.g. {shown}"
                )
        for col, (parent, pcol) in table.references.items():
            n, shown = _bad_rows(
                con,
                f"select c.{_q(col)} from {t} as c where nullif(trim(c.{_q(col)}), '') is not "
                f"null and not exists (select 1 from {_q('s_' + parent)} as p "
                f"where p.{_q(pcol)} = c.{_q(col)}) order by 1",
            )
            if n:
                problems.append(
                    f"{fname}: column {col!r} breaks rule 'exists in {parent}.{pcol}' on "
                    f"{n} row(s), e.g. {shown}"
                )
    return problems


def _spend_table() -> Table:
    return next(t for t in contract.TABLES if t.name == SPEND)


def _stage_spend(con: duckdb.DuckDBPyConnection, files: dict[str, Path]) -> list[str]:
    """Temp table s_spend: the raw contract's marketing_spend, typed (empty without a file)."""
    table = _spend_table()
    typed = {c.name: loader.DUCKDB_TYPES[c.type] for c in table.columns}
    if SPEND not in files:
        cols = ", ".join(f"{_q(n)} {t}" for n, t in typed.items())
        con.execute(f"create temp table s_spend ({cols})")
        return []
    path = files[SPEND]
    try:
        found = list(con.sql(_read_sql(path)).columns)
    except duckdb.Error as err:
        return [f"{path.name}: breaks rule 'well-formed file': {str(err).splitlines()[0]}"]
    lowered = {c.strip().lower(): c for c in found}
    problems = [
        f"{path.name}: breaks rule 'required column': column {c.name!r} is missing "
        f"(found: {', '.join(found)})"
        for c in table.columns
        if c.required and c.name not in lowered
    ]
    if problems:
        return problems
    text = {
        n: f"nullif(trim(cast({_q(lowered[n])} as varchar)), '')" if n in lowered else "null"
        for n in typed
    }
    con.execute(
        "create temp table s_spend_text as select "
        + ", ".join(f"{text[n]} as {_q(n)}" for n in typed)
        + f" from ({_read_sql(path)})"
    )
    for c in table.columns:
        if typed[c.name] == "VARCHAR":
            continue
        n, shown = _bad_rows(
            con,
            f"select {_q(c.name)} from s_spend_text where {_q(c.name)} is not null "
            f"and try_cast({_q(c.name)} as {typed[c.name]}) is null",
        )
        if n:
            problems.append(
                f"{path.name}: column {c.name!r} is not a {typed[c.name].lower()} on {n} "
                f"row(s), e.g. {shown}"
            )
    for c in table.columns:
        if c.required:
            n, _ = _bad_rows(con, f"select 1 from s_spend_text where {_q(c.name)} is null")
            if n:
                problems.append(f"{path.name}: column {c.name!r} is empty on {n} row(s)")
    if problems:
        return problems
    n, shown = _bad_rows(
        con, "select amount from s_spend_text where try_cast(amount as double) < 0"
    )
    if n:
        return [f"{path.name}: column 'amount' breaks rule 'not negative' on {n} row(s)"]
    con.execute(
        "create temp table s_spend as select "
        + ", ".join(f"cast({_q(n)} as {t}) as {_q(n)}" for n, t in typed.items())
        + " from s_spend_text"
    )
    return []


def load_shopify(raw_dir: Path, database: Path, schema: str = "shopify") -> dict[str, int]:
    """Validate then load; returns rows per table. Raises ShopifyLoadRefused."""
    if not raw_dir.is_dir():
        raise ShopifyLoadRefused([f"{raw_dir}: breaks rule 'raw folder exists'"])
    files, problems, ignored = _find_files(raw_dir)
    if problems:
        raise ShopifyLoadRefused(problems)
    if ignored:
        print(
            f"load_shopify: note: ignored {', '.join(ignored)} (not a table this project reads)",
            file=sys.stderr,
        )
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for table in TABLES:
        if table.name in files:
            problems += _stage(con, table, files[table.name])
        else:
            _empty(con, table)
    if problems:
        raise ShopifyLoadRefused(problems)
    problems = _check(con, files) + _stage_spend(con, files)
    if problems:
        raise ShopifyLoadRefused(problems)
    counts: dict[str, int] = {}
    Path(database).parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no warehouse/
    con.execute(f"attach {_lit(str(database))} as wh")
    con.execute("begin transaction")
    con.execute(f"create schema if not exists wh.{_q(schema)}")
    con.execute("create schema if not exists wh.raw")
    con.execute("create or replace table wh.raw.marketing_spend as select * from s_spend")
    opts = loader.LoadOptions(pii_salt=os.environ.get("DTC_PII_SALT", ""))
    for table in TABLES:
        src = _q("s_" + table.name)
        cols = [r[0] for r in con.execute(f"describe {src}").fetchall()]
        selects = [
            f"cast(cast({_q(c)} as timestamptz) as timestamp) as {_q(c)}"
            if c in table.timestamps
            else _q(c)
            for c in cols
            if c != "email_hash"
        ]
        selects += [
            f"{loader._hash_sql(_q(email), opts)} as email_hash"
            for name, email in HASHED_EMAILS
            if name == table.name
        ]
        con.execute(
            f"create or replace table wh.{_q(schema)}.{_q(table.name)} as "
            f"select {', '.join(selects)} from {src}"
        )
        counts[table.name] = con.execute(f"select count(*) from {src}").fetchone()[0]  # type: ignore[index]
    con.execute("commit")
    con.close()
    return counts


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="load_shopify.py",
        description="Validate a folder of Shopify connector tables and load it into the DuckDB "
        "warehouse (exit 0 loaded, 2 refused).",
    )
    p.add_argument("--raw-dir", required=True, type=Path, help="folder with <table>.csv|.parquet")
    p.add_argument("--database", required=True, type=Path, help="DuckDB warehouse file")
    p.add_argument("--schema", default="shopify", help="target schema (var shopify_schema)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        counts = load_shopify(args.raw_dir, args.database, args.schema)
    except ShopifyLoadRefused as refused:
        print(
            f"load_shopify: refused {args.raw_dir}: {len(refused.problems)} problem(s); "
            f"{args.database} was not changed.",
            file=sys.stderr,
        )
        for problem in refused.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    width = max(len(name) for name in counts)
    for name, n in counts.items():
        print(f"{args.schema}.{name:<{width}}  {n:>10,} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
