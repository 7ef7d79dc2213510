"""Write one CSV per CRM audience from the built warehouse (`make audiences`).

Reads ``marts.fct_audiences`` (grain: customer x audience, as of ``as_of_date``) from a
DuckDB file opened read-only (by default the serving copy BI tools read) and writes, for each
audience, ``<out-dir>/<audience>.csv`` with the columns an email tool imports:

    customer_id, email_hash, reason

* No clear email: the mart carries only the loader's salted hash (``email_hash``); a value
  that looks like an email in any written column stops the export (exit 2) with the
  audience, customer and column named, and nothing is written.
* Every audience gets a file, an empty one a header-only file: the known audiences below
  plus any other value found in the mart (an audience added to the model later gets its
  file without a code change). A member without an email hash is written with an empty
  ``email_hash`` and counted in the summary, never dropped.
* Text is escaped for spreadsheets as in the serving copy (a leading ``'`` before ``=``,
  ``+``, ``-``, ``@``, tab or carriage return; OWASP CSV injection).
* Rows are sorted by customer id; each file is written to a temporary name and renamed, so
  a failed export leaves the previous files as they were.

Usage: ``scripts/export_audiences.py --database SERVING --out-dir DIR`` (exit 0 written,
2 refused or failed).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dtc_economics.publish import FORMULA_PREFIXES

# The audiences of fct_audiences (models/marts/predictions/_audiences__docs.md), in order.
KNOWN_AUDIENCES: tuple[str, ...] = (
    "cooldown_do_not_contact",
    "slow_activators_to_nudge",
    "at_risk_high_value",
    "lapsed_reactivation",
    "bfcm_one_timers",
    "predicted_high_value_new",
    "never_repays_cac",
)
COLUMNS: tuple[str, ...] = ("customer_id", "email_hash", "reason")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_AUDIENCE_NAME = re.compile(r"[a-z][a-z0-9_]*")


class ExportError(Exception):
    """The export was refused or failed; no file was changed."""


@dataclass(frozen=True)
class AudienceFile:
    """One written CSV."""

    audience: str
    path: Path
    rows: int
    rows_without_email_hash: int


def escape_formula(value: str) -> str:
    """The value with a leading quote when a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def read_audiences(database: Path) -> tuple[str, dict[str, list[tuple[str, str, str]]]]:
    """(as_of_date, audience -> sorted rows (customer_id, email_hash, reason)) from the mart."""
    if not database.is_file():
        raise ExportError(f"{database}: no such warehouse file (run `make build` first)")
    with duckdb.connect(str(database), read_only=True) as con:
        found = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'marts' and table_name = 'fct_audiences'"
        ).fetchall()[0][0]
        if not found:
            raise ExportError(
                f"{database}: table marts.fct_audiences not found (it is built on DuckDB by "
                "`make build`; rebuild, or publish the serving copy)"
            )
        rows = con.execute(
            "select audience, customer_id, email_hash, reason, cast(as_of_date as varchar) "
            "from marts.fct_audiences order by audience, customer_id"
        ).fetchall()
    as_of_dates = {r[4] for r in rows}
    if len(as_of_dates) > 1:
        raise ExportError(f"{database}: fct_audiences mixes as_of_dates {sorted(as_of_dates)}")
    by_audience: dict[str, list[tuple[str, str, str]]] = {a: [] for a in KNOWN_AUDIENCES}
    for audience, customer_id, email_hash, reason, _ in rows:
        if not _AUDIENCE_NAME.fullmatch(audience or ""):
            raise ExportError(
                f"{database}: fct_audiences.audience {audience!r} (customer {customer_id}) "
                "is not a file-safe name ([a-z][a-z0-9_]*)"
            )
        by_audience.setdefault(audience, []).append((customer_id, email_hash or "", reason or ""))
    return (as_of_dates.pop() if as_of_dates else ""), by_audience


def check_no_email(audience: str, rows: list[tuple[str, str, str]]) -> None:
    """Refuse a row whose text looks like an email (naming audience, customer and column)."""
    for row in rows:
        for column, value in zip(COLUMNS, row, strict=True):
            if EMAIL.search(value):
                raise ExportError(
                    f"fct_audiences: audience {audience}, customer {row[0]}, column {column} "
                    "looks like an email address; no clear email may leave the warehouse"
                )


def write_csv(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """Write header + rows to a temporary file beside `path`, then rename it over `path`."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(tuple(escape_formula(v) for v in row) for row in rows)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def export_audiences(database: Path, out_dir: Path) -> tuple[str, list[AudienceFile]]:
    """Check every audience first, then write one CSV per audience; return what was written."""
    as_of_date, by_audience = read_audiences(database)
    for audience, rows in by_audience.items():
        check_no_email(audience, rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for audience, rows in by_audience.items():
        path = out_dir / f"{audience}.csv"
        write_csv(path, rows)
        without_hash = sum(1 for _, email_hash, _ in rows if not email_hash)
        written.append(AudienceFile(audience, path, len(rows), without_hash))
    return as_of_date, written


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Write one CSV per CRM audience (customer_id, email_hash, reason) from "
        "marts.fct_audiences."
    )
    parser.add_argument(
        "--database",
        type=Path,
        required=True,
        help="DuckDB file holding marts.fct_audiences (opened read-only), e.g. the serving copy",
    )
    parser.add_argument(
        "--out-dir", type=Path, required=True, help="folder for the <audience>.csv files"
    )
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        as_of_date, written = export_audiences(args.database, args.out_dir)
    except (ExportError, duckdb.Error, OSError) as err:
        print(f"audiences: {err}", file=sys.stderr)
        return 2
    print(f"audiences as of {as_of_date or 'n/a'} -> {args.out_dir}")
    for f in written:
        note = (
            f" ({f.rows_without_email_hash} without an email hash)"
            if f.rows_without_email_hash
            else ""
        )
        print(f"  {f.audience:<28} {f.rows:>8,} rows{note}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
