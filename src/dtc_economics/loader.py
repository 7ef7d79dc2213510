"""Raw loader: validate a folder of store exports against the contract, then load it atomically.

The folder holds one file per contract table (``<table>.csv`` or ``<table>.parquet``). Every
file is read with DuckDB as text, checked with set-based SQL against the rules in ``RULES``
and typed per ``contract.py``; only when *no* rule is broken does the loader open a single
transaction on the warehouse file that replaces every table of the ``raw`` schema and writes
``raw._load_manifest``. A refused, failed or interrupted load leaves the previous raw tables
untouched.

Usage: ``scripts/load_raw.py --raw-dir DIR --database PATH [--schema raw]`` (exit 0 loaded,
2 refused / warehouse locked). ``docs/loader.md`` documents the rules (``rules_markdown()``).
"""

from __future__ import annotations

import argparse
import codecs
import csv
import gzip
import io
import os
import re
import shutil
import sys
import tempfile
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dtc_economics import contract
from dtc_economics.contract import Column, Table

# ---------------------------------------------------------------------------------------------
# Rules: the one list of what refuses a load. Messages say "breaks rule '<name>'"; docs/loader.md
# renders this table (rules_markdown()) and the tests check the bad-input corpus against it.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str  # as printed in messages: "breaks rule '<name>'"
    applies_to: str  # where the rule is checked
    refuses_when: str  # what refuses the load


HUGE_LIMIT = 1e12  # |number| above this is refused as 'not huge'

R_RAW_DIR = "raw folder exists"
R_ONE_FILE = "one file per table"
R_REQUIRED_TABLE = "required table"
R_HEADER = "header row"
R_WELL_FORMED = "well-formed file"
R_UNIQUE_COLUMNS = "unique column names"
R_REQUIRED_COLUMN = "required column"
R_TIMESTAMP = "ISO-8601 timestamp"
R_DATE = "ISO-8601 date"
R_DOUBLE = "decimal number"
R_INTEGER = "integer"
R_BOOLEAN = "boolean"
R_HUGE = "no huge value"
R_PK_PRESENT = "primary key not empty"
R_PK_UNIQUE = "unique primary key"
R_POSITIVE = "greater than 0"
R_NON_NEGATIVE = "not negative"
R_WAREHOUSE_LOCK = "warehouse not locked"
R_WAREHOUSE_WRITABLE = "warehouse folder writable"
R_INVISIBLE = "no invisible character"
R_WHOLE_ID = "whole-number id"
R_ID_SPELLING = "one spelling per id"
R_STATUS = "known order status"
R_PLAUSIBLE_YEAR = "plausible year"
R_NOT_FUTURE = "not after the export"
R_RATE = "rate between 0 and 1"
R_COST_TO_PRICE = "unit cost within the price multiple"
R_DISCOUNT_TO_LINE = "discount within the line"
R_SCIENTIFIC_ID = "id not in scientific notation"
R_STORE_NOT_EMPTY = "store not empty"
R_NULL_MARKER = "no null marker"
R_VALUE_PRESENT = "value present"
R_RETURN_TO_LINE = "returns within the line"

# Characters refused inside identifiers (RE2 class): C0/C1 controls incl. tab, no-break and
# zero-width spaces, soft hyphen, bidi marks, word joiner, BOM. Shown as U+XXXX with position.
_INVISIBLE_CLASS = (
    r"[\x00-\x1f\x7f-\x{a0}\x{ad}\x{1680}\x{2000}-\x{200f}\x{2028}-\x{202f}"
    r"\x{205f}-\x{2064}\x{3000}\x{feff}]"
)
_INVISIBLE_PY = re.compile(
    "[\x00-\x1f\x7f-\xa0\xad\u1680\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]"
)
CANONICAL_STATUSES = ("completed", "cancelled", "refunded", "test", "pending")
STATUS_VOCABULARY = Path(__file__).resolve().parents[2] / "seeds" / "order_status_vocabulary.csv"
DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project.yml"
# Dated columns checked for plausible years and dates after the export (table, column).
EVENT_DATES = (
    ("orders", "ordered_at"),
    ("refunds", "refunded_at"),
    ("marketing_spend", "spend_date"),
)
PLAUSIBLE_DATES = (*EVENT_DATES, ("customers", "created_at"))
# Tables whose exact duplicate rows are quarantined (table, columns ignored when comparing).
DEDUPLICATED = {"refunds": ("refund_id",), "marketing_spend": ()}
# Email columns the loader hashes (md5 of '<salt>:' || lower(trim(email)), salt from
# $DTC_PII_SALT) into a column after the contract columns: (table, email column, hash column).
HASHED_EMAILS = (
    ("orders", "customer_email", "customer_email_hash"),
    ("customers", "email", "email_hash"),
)

# Value bounds the contract states in words ("Units, > 0", ">= 0"): (table, column, rule, bad).
# ``bad`` is a SQL predicate on the typed value ``{v}``.
VALUE_BOUNDS: tuple[tuple[str, str, str, str], ...] = (
    ("order_lines", "quantity", R_POSITIVE, "{v} <= 0"),
    ("order_lines", "unit_price", R_NON_NEGATIVE, "{v} < 0"),
    ("order_lines", "discount_amount", R_NON_NEGATIVE, "{v} < 0"),
    ("refunds", "amount", R_NON_NEGATIVE, "{v} < 0"),
    ("refunds", "quantity", R_NON_NEGATIVE, "{v} < 0"),
    ("marketing_spend", "amount", R_NON_NEGATIVE, "{v} < 0"),
    ("orders", "shipping_amount", R_NON_NEGATIVE, "{v} < 0"),
    ("orders", "shipping_cost", R_NON_NEGATIVE, "{v} < 0"),
    ("order_lines", "unit_cost", R_NON_NEGATIVE, "{v} < 0"),
    ("products", "unit_cost", R_NON_NEGATIVE, "{v} < 0"),
    ("order_lines", "tax_rate", R_RATE, "{v} < 0 OR {v} > 1"),
)
RULE_HINTS = {
    R_RATE: "a rate is a fraction: 20 % VAT is written 0.20, not 20",
    R_INVISIBLE: "remove the character (often pasted from a spreadsheet or a web page)",
    R_WHOLE_ID: "the Parquet column holds floating-point ids; write ids as text or integers",
    R_COST_TO_PRICE: "a unit cost is excl. VAT per unit in the shop currency: check the unit "
    "(cents vs euros) or the column mapping; a real outlier can pass with "
    "--max-unit-cost-to-price",
    R_DISCOUNT_TO_LINE: "discount_amount is the line's whole discount in the order's tax basis, "
    "at most unit_price x quantity: check whether the export repeats the order's discount on "
    "every line, gives a per-unit discount, or maps another column",
    R_RETURN_TO_LINE: "refunds.quantity is the units a refund returns, at most what its line "
    "sold over all its refunds: check for a refund exported twice under two ids, or a column "
    "holding another number",
    R_VALUE_PRESENT: "remove the total or blank rows the export added, or fill the column",
    R_NULL_MARKER: "the export marks empty fields with a word: export them empty, or load with "
    "--null-markers-as-empty ($DTC_NULL_MARKERS_AS_EMPTY=1) to read them as empty (counted in "
    "raw._load_changes)",
    R_SCIENTIFIC_ID: "a spreadsheet turned a long numeric id into scientific notation, which "
    "drops its last digits and can merge distinct ids: export the file again without opening "
    "it in a spreadsheet (or with the id columns formatted as text)",
}
DEFAULT_MAX_UNIT_COST_TO_PRICE = 10.0
# A line's discount may exceed unit_price x quantity by rounding only (half a cent).
DISCOUNT_TOLERANCE = 0.005
# What a spreadsheet writes for a long number: digits, optional decimals, E+ and an exponent.
_SCIENTIFIC_ID = r"[0-9]+(\.[0-9]+)?[eE]\+[0-9]+"
# What databases, spreadsheets and scripts write for an empty field (compared trimmed, in any
# case): SQL's NULL, MySQL's \N, C's (null), N/A and Excel's #N/A, pandas' nan, Python's None,
# JavaScript's undefined. In a text column a marker would load as a value; in a typed column
# it would be refused as not a number, date or boolean, under a rule that does not say why.
NULL_MARKERS_SHOWN = ("NULL", "\\N", "(null)", "N/A", "#N/A", "NaN", "None", "undefined")
NULL_MARKERS = tuple(m.lower() for m in NULL_MARKERS_SHOWN)
# Every column but free text (what it says stays) and orders.status (its vocabulary rule).
_NULL_MARKER_EXEMPT = {("orders", "status"), ("refunds", "reason"), ("products", "product_name")}

TYPE_RULES: dict[str, str] = {
    contract.TIMESTAMP: R_TIMESTAMP,
    contract.DATE: R_DATE,
    contract.DOUBLE: R_DOUBLE,
    contract.INTEGER: R_INTEGER,
    contract.BOOLEAN: R_BOOLEAN,
}

DUCKDB_TYPES: dict[str, str] = {
    contract.VARCHAR: "VARCHAR",
    contract.TIMESTAMP: "TIMESTAMP",
    contract.DATE: "DATE",
    contract.DOUBLE: "DOUBLE",
    contract.INTEGER: "INTEGER",
    contract.BOOLEAN: "BOOLEAN",
}


def _columns_of_type(*types: str) -> str:
    cols = [f"{t.name}.{c.name}" for t in contract.TABLES for c in t.columns if c.type in types]
    return ", ".join(cols)


def _bounded(rule: str) -> str:
    return ", ".join(f"{t}.{c}" for t, c, r, _ in VALUE_BOUNDS if r == rule)


def _reference_rules() -> list[Rule]:
    scopes: dict[str, list[str]] = {}
    for table in contract.TABLES:
        for column, parent, parent_column in table.references:
            scopes.setdefault(f"exists in {parent}.{parent_column}", []).append(
                f"{table.name}.{column}"
            )
    return [
        Rule(
            name,
            ", ".join(cols),
            f"a non-empty value has no matching {name.removeprefix('exists in ')} "
            "(a missing optional parent table counts as empty)",
        )
        for name, cols in scopes.items()
    ]


def _identifier_columns() -> str:
    return ", ".join(
        f"{t.name}.{c.name}" for t in contract.TABLES for c in t.columns if c.identifier
    )


def _null_marker_scope(table: str, column: Column) -> bool:
    return (table, column.name) not in _NULL_MARKER_EXEMPT


def _null_marker_columns() -> str:
    exempt = ", ".join(f"{t}.{c}" for t, c in sorted(_NULL_MARKER_EXEMPT))
    return f"every column but {exempt}"


def _not_empty_columns() -> str:
    return ", ".join(
        f"{t.name}.{c.name}"
        for t in contract.TABLES
        for c in t.columns
        if c.not_empty and c.name != t.primary_key
    )


def _pk_columns() -> str:
    return ", ".join(f"{t.name}.{t.primary_key}" for t in contract.TABLES if t.primary_key)


RULES: tuple[Rule, ...] = (
    Rule(R_RAW_DIR, "--raw-dir", "the raw folder does not exist or is not a folder"),
    Rule(
        R_ONE_FILE,
        "every table",
        "both `<table>.csv` and `<table>.parquet` are present (which one is meant is ambiguous)",
    ),
    Rule(
        R_REQUIRED_TABLE,
        ", ".join(t.name for t in contract.TABLES if t.required),
        "the table has no file (optional tables without a file load as empty typed tables)",
    ),
    Rule(
        R_HEADER,
        "every file",
        "the file is empty (0 bytes) or its first line is blank: no header. "
        "A header-only file is valid and loads zero rows",
    ),
    Rule(
        R_WELL_FORMED,
        "every file",
        "DuckDB cannot parse the file: a CSV row with more or fewer fields than the header, an "
        "unterminated quote, text that is not UTF-8, UTF-16 with a byte-order mark or the "
        "encoding named with `--non-utf8-encoding`, or an unreadable Parquet file",
    ),
    Rule(
        R_UNIQUE_COLUMNS,
        "every file",
        "two header names are equal after trimming and lower-casing",
    ),
    Rule(
        R_REQUIRED_COLUMN,
        "columns marked required in contract.py",
        "the column is not in the header (names match trimmed and case-insensitive; "
        "missing optional columns are added as typed NULLs)",
    ),
    Rule(
        R_TIMESTAMP,
        _columns_of_type(contract.TIMESTAMP),
        "a non-empty value is not `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.fff]]` or the same with "
        "`T`, optionally followed by `Z`, ` UTC` (BigQuery's CSV) or an offset `±HH:MM`, `±HHMM` "
        "or `±HH`, or is no real date/time (e.g. `2024-13-01`, `05/01/2024 10:00`). Offsets are "
        "converted to UTC",
    ),
    Rule(
        R_DATE,
        _columns_of_type(contract.DATE),
        "a non-empty value is not a real `YYYY-MM-DD` date",
    ),
    Rule(
        R_DOUBLE,
        _columns_of_type(contract.DOUBLE),
        "a non-empty value is not a plain decimal number: optional sign, digits, `.` as the "
        "decimal point, optional exponent. Thousands separators (`1,234.50`), decimal commas "
        "(`12,5`), currency signs, `NaN`/`inf` and text are refused",
    ),
    Rule(
        R_INTEGER,
        _columns_of_type(contract.INTEGER),
        "a non-empty value is not a whole number (`3`, `-2`, `3.0`) in the 32-bit range",
    ),
    Rule(
        R_BOOLEAN,
        _columns_of_type(contract.BOOLEAN),
        "a non-empty value is not one of true/false/1/0/yes/no/t/f (case-insensitive)",
    ),
    Rule(
        R_HUGE,
        _columns_of_type(contract.DOUBLE, contract.INTEGER),
        "a number's absolute value is above 1e12 (a unit or export error)",
    ),
    Rule(R_PK_PRESENT, _pk_columns(), "a primary key value is empty or NULL"),
    Rule(
        R_VALUE_PRESENT,
        _not_empty_columns(),
        "a value every row needs is empty (`not_empty` in the contract): a spreadsheet's total "
        "or blank row, or a column mapped from the wrong field. A line without order, product, "
        "quantity or price, an order or refund without date, a refund or spend without amount "
        "cannot be counted; loaded, it would fail the build far from the file",
    ),
    Rule(R_PK_UNIQUE, _pk_columns(), "a primary key value occurs on more than one row"),
    *_reference_rules(),
    Rule(R_POSITIVE, _bounded(R_POSITIVE), "the value is 0 or negative"),
    Rule(R_NON_NEGATIVE, _bounded(R_NON_NEGATIVE), "the value is negative"),
    Rule(R_RATE, _bounded(R_RATE), "the value is below 0 or above 1 (`20` for 20 %)"),
    Rule(
        R_COST_TO_PRICE,
        "order_lines.unit_cost, products.unit_cost",
        "a unit cost is above `--max-unit-cost-to-price` (default var max_unit_cost_to_price, "
        "10) times the line's unit price; a product's unit cost is compared with the highest "
        "unit price of its lines. Lines priced 0 (gifts) are not compared",
    ),
    Rule(
        R_RETURN_TO_LINE,
        "refunds.quantity",
        "the refunds of a line return more units than the line sold (the sum of their "
        "quantity above order_lines.quantity; every refund of that line is shown): the models "
        "would cap the units put back in stock, so the load would change what the export says",
    ),
    Rule(
        R_DISCOUNT_TO_LINE,
        "order_lines.discount_amount",
        "a line's discount is above its unit_price x quantity by more than half a cent (an "
        "order's discount repeated on each line, a per-unit discount, a mapping error): the "
        "models cap a discount at the line, so the load would change what the export says",
    ),
    Rule(
        R_SCIENTIFIC_ID,
        _identifier_columns(),
        "an id is a number in scientific notation (`6.23457E+12`, `1E+05`), as a spreadsheet "
        "writes a long numeric id: its last digits are lost and distinct ids may have merged",
    ),
    Rule(
        R_NULL_MARKER,
        _null_marker_columns(),
        "a value is what a database, spreadsheet or script writes for an empty field ("
        + ", ".join(f"`{m}`" for m in NULL_MARKERS_SHOWN)
        + "; trimmed, any case; a Parquet float's NaN too): in a text column it "
        "would load as a value (every order with customer_id `NULL` one customer, a discount "
        "code `NULL` a promotion), in a typed one it is no number, date or boolean. "
        "`--null-markers-as-empty` reads them as empty instead",
    ),
    Rule(
        R_INVISIBLE,
        _identifier_columns(),
        "an id contains a control or invisible character (tab, line break, no-break or "
        "zero-width space, byte-order mark, bidi mark); the message shows it as U+XXXX with its "
        "position. Surrounding spaces are not refused: ids are trimmed",
    ),
    Rule(
        R_WHOLE_ID,
        "identifier columns read from a floating-point Parquet column",
        "the value is not a whole number (`2.5`); whole numbers such as `2.0` are written `2`, "
        "and `NaN` is a null marker (`no null marker`)",
    ),
    Rule(
        R_ID_SPELLING,
        _identifier_columns(),
        "two spellings of one id differ only by case (`O1`, `o1`), or, in a key column, only by "
        "surrounding spaces (`O1`, `O1 `); both spellings are shown. With "
        "`--ids-case-insensitive` ids are lower-cased instead and case differences merge",
    ),
    Rule(
        R_STATUS,
        "orders.status",
        "a non-empty status is not in `seeds/order_status_vocabulary.csv` (trimmed, "
        "case-insensitive); the message lists every unknown value with its row count. "
        "`--unknown-status STATUS` maps unknown values to STATUS instead",
    ),
    Rule(
        R_PLAUSIBLE_YEAR,
        ", ".join(f"{t}.{c}" for t, c in PLAUSIBLE_DATES),
        "the year is before `--min-plausible-year` (default 2000) or after the load's year "
        "(`0000-01-01`, `1899-12-30`, `9999-12-31`)",
    ),
    Rule(
        R_NOT_FUTURE,
        ", ".join(f"{t}.{c}" for t, c in EVENT_DATES),
        "the order, refund or spend is dated after the export: after `--exported-at` when "
        "given, else after the load time (a spend date after that day in reporting_timezone)",
    ),
    Rule(
        R_STORE_NOT_EMPTY,
        "orders",
        "the orders file has no data row: there is nothing to build (header-only files of the "
        "other tables are valid)",
    ),
    Rule(
        R_WAREHOUSE_LOCK,
        "--database",
        "another process holds the DuckDB file's lock; the message says whether it is a load "
        "or dbt build still running (wait for it) or another program such as a BI tool or "
        "notebook (close it)",
    ),
    Rule(
        R_WAREHOUSE_WRITABLE,
        "--database",
        "the warehouse folder cannot be created or written (read-only disk, permissions)",
    ),
)
RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}


def rules_markdown() -> str:
    """The rules as a Markdown table (docs/loader.md embeds this text verbatim)."""
    lines = ["| Rule | Checked on | Refuses the load when |", "| --- | --- | --- |"]
    for r in RULES:
        lines.append(f"| `{r.name}` | {r.applies_to} | {r.refuses_when} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Violations
# ---------------------------------------------------------------------------------------------

MAX_SAMPLES = 5
_MAX_SHOWN_CHARS = 60


def _show(value: str | None) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    text = _INVISIBLE_PY.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)
    if len(text) > _MAX_SHOWN_CHARS:
        text = text[: _MAX_SHOWN_CHARS - 3] + "..."
    return f"'{text}'"


@dataclass
class Violation:
    """One broken rule: a file (or table), optionally a column, and the offending rows."""

    rule: str
    table: str
    where: str  # path shown in the message (the file, or the raw folder for a missing file)
    file: str | None = None  # file name, e.g. "orders.csv"
    column: str | None = None
    count: int = 0  # offending rows (0 for file/column-level rules)
    samples: list[tuple[str, str | None]] = field(default_factory=list)  # (line label, value)
    detail: str = ""

    @property
    def message(self) -> str:
        head = f"{self.where}: " + (f"column '{self.column}' " if self.column else "")
        head += f"breaks rule '{self.rule}'"
        if self.count:
            shown = ", ".join(f"{label} {_show(value)}" for label, value in self.samples)
            head += f" in {self.count} row(s): {shown}"
            if self.count > len(self.samples):
                head += ", ..."
        if self.detail:
            head += f"{':' if not self.count else ';'} {self.detail}"
        return head


class LoadRefused(Exception):
    """The raw folder breaks at least one rule; nothing was written."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__(f"{len(violations)} rule violation(s)")
        self.violations = violations


class WarehouseLocked(Exception):
    """Another process holds the DuckDB warehouse file."""

    def __init__(self, database: Path, holder: str | None, pid: int | None, raw: str) -> None:
        self.database, self.holder, self.pid, self.raw = database, holder, pid, raw
        self.command = _command_line(pid)
        self.is_build = bool(self.command and _BUILD_COMMAND.search(self.command))
        who = f"{holder or 'another process'}" + (f" (PID {pid})" if pid else "")
        if self.is_build:
            text = (
                f"another load or build is running on this warehouse: {who}: "
                f"`{_show(self.command)[1:-1]}`. Wait for it to finish (or stop it), then re-run; "
                "two builds cannot share one warehouse file."
            )
        else:
            text = (
                f"the warehouse file is held open by another program, {who}"
                + (f": `{_show(self.command)[1:-1]}`" if self.command else "")
                + ". Close the BI tool or notebook holding it; point BI tools at the serving copy "
                "written by `make publish`, never at the build warehouse. Then re-run the load."
            )
        super().__init__(f"{database}: breaks rule '{R_WAREHOUSE_LOCK}': {text}")


# command lines of our own writers: a load (any target) or dbt
_BUILD_COMMAND = re.compile(r"load_raw|load_postgres|load_spark|dtc_economics\.loader|\bdbt\b")


def _command_line(pid: int | None) -> str | None:
    """The holder's command line (Linux /proc), or None when unknown."""
    if not pid:
        return None
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part) or None


class WarehouseNotWritable(Exception):
    """The warehouse folder or file cannot be written."""

    def __init__(self, database: Path, reason: str) -> None:
        self.database = database
        super().__init__(
            f"{database}: breaks rule '{R_WAREHOUSE_WRITABLE}': cannot write "
            f"{database.parent} ({reason}). Point --database (DBT_DUCKDB_PATH) at a writable "
            "folder; nothing was loaded."
        )


SCHEMA_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<prog>.+?) \(PID (?P<pid>\d+)\)")


def _raise_if_locked(err: duckdb.Error, database: Path) -> None:
    text = str(err)
    if "Could not set lock" not in text and "Conflicting lock" not in text:
        return
    m = _LOCK_RE.search(text)
    holder = m.group("prog").strip() if m else None
    pid = int(m.group("pid")) if m else None
    raise WarehouseLocked(database, holder, pid, text) from None


# ---------------------------------------------------------------------------------------------
# Reading: each file becomes a DuckDB relation of VARCHAR columns c0..cN (header order)
# ---------------------------------------------------------------------------------------------

_DELIMITERS = (",", ";", "\t", "|")
_HEAD_BYTES = 1 << 20
_BOM = codecs.BOM_UTF8


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Source:
    """One table's file, its header and where its rows come from."""

    table: Table
    path: Path
    where: str  # path as shown in messages
    fmt: str  # "csv" | "parquet"
    header: list[str] = field(default_factory=list)  # output names (trimmed; blank -> columnN)
    delimiter: str = ","
    header_lines: int = 1
    relation_sql: str = ""  # FROM-able SQL yielding c0..cN VARCHAR
    mapping: dict[str, int] = field(default_factory=dict)  # contract column -> header position
    extras: list[int] = field(default_factory=list)  # header positions kept as extra columns
    rows: int = 0
    ok: bool = False  # staged without file-level violations
    float_columns: set[int] = field(default_factory=set)  # Parquet float columns (positions)
    sep_line: bool = False  # an Excel `sep=X` line precedes the header
    line_of_row: list[int] | None = None  # stage row -> file line, when re-read by Python
    # a CSV that is not UTF-8 (UTF-16 with a byte-order mark, or the --non-utf8-encoding) is
    # read from its UTF-8 copy in the load's temp folder; `path` (file name, manifest) stays
    # the export's, and the lines are the same in both
    text_path: Path | None = None
    encoding: str = "UTF-8"  # what the CSV was read as (_load_manifest.source_encoding)
    dedupe: bool = False  # stage has __dup_of (exact duplicate rows quarantined)

    @property
    def gz(self) -> bool:
        return self.path.name.lower().endswith(".gz")

    def open_binary(self) -> typing.BinaryIO:
        if self.text_path is not None:
            return open(self.text_path, "rb")
        return gzip.open(self.path, "rb") if self.gz else open(self.path, "rb")


@dataclass
class LoadOptions:
    """How values are read and normalised (docs/loader.md, "Normalisation")."""

    reporting_timezone: str = "UTC"  # date-only timestamps are local dates here
    min_plausible_year: int = 2000
    exported_at: datetime | None = None  # UTC; dated rows after it are refused
    loaded_at: datetime | None = None  # UTC; default now
    ids_case_insensitive: bool = False
    unknown_status: str | None = None  # map statuses missing from the vocabulary to this
    null_markers_as_empty: bool = False  # read NULL, \N, N/A, ... as empty fields
    non_utf8_encoding: str | None = None  # CSVs that are not UTF-8 are read in it (cp1252)
    pii_salt: str = ""  # salt of the email hash ($DTC_PII_SALT); never written anywhere
    # a unit cost above this multiple of the unit price is refused (a unit or mapping error)
    max_unit_cost_to_price: float = DEFAULT_MAX_UNIT_COST_TO_PRICE

    @property
    def cutoff(self) -> datetime:
        return self.exported_at or self.loaded_at or datetime.now(UTC).replace(tzinfo=None)


def _project_var(name: str) -> object:
    """A var of dbt_project.yml (plain scalar only), or None when absent."""
    try:
        text = DBT_PROJECT.read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.search(rf"^\s+{re.escape(name)}:\s*(?P<v>[^#\n]*)", text, re.MULTILINE)
    if not m:
        return None
    value = m.group("v").strip().strip("\"'")
    return None if value in ("", "null", "~") else value


def default_options() -> LoadOptions:
    """Options from dbt_project.yml vars (reporting_timezone, min_plausible_year,
    max_unit_cost_to_price) and env."""
    tz = os.environ.get("DTC_REPORTING_TIMEZONE") or _project_var("reporting_timezone") or "UTC"
    year = _project_var("min_plausible_year") or 2000
    ratio = _project_var("max_unit_cost_to_price") or DEFAULT_MAX_UNIT_COST_TO_PRICE
    return LoadOptions(
        reporting_timezone=str(tz),
        min_plausible_year=int(str(year)),
        max_unit_cost_to_price=float(str(ratio)),
        pii_salt=os.environ.get("DTC_PII_SALT", ""),
    )


def _first_line_delimiter(line: str) -> str:
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_names(raw: list[str]) -> list[str]:
    names = []
    for i, name in enumerate(raw, start=1):
        name = name.replace("\ufeff", "").strip()
        names.append(name or f"column{i}")
    return names


def _read_csv_header(src: Source) -> Violation | None:
    try:
        with src.open_binary() as f:
            head = f.read(_HEAD_BYTES)
    except (OSError, EOFError) as err:  # e.g. a .gz file that is not gzip
        return Violation(
            R_WELL_FORMED,
            src.table.name,
            src.where,
            src.path.name,
            detail=f"cannot read the file ({err}); a `.csv.gz` file must be gzip-compressed CSV",
        )
    if not head:
        return Violation(
            R_HEADER,
            src.table.name,
            src.where,
            src.path.name,
            detail="the file is empty (0 bytes): no header",
        )
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    # Bad bytes in data rows are left to DuckDB, whose error names the line.
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(head, final=False)
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    sep = re.fullmatch(r'"?sep=(.)"?,*', first_line.strip(), re.IGNORECASE)
    if sep:  # Excel's `sep=;` line: the delimiter, then the header on line 2
        src.sep_line = True
        text = re.split(r"\r\n|\r|\n", text, maxsplit=1)[1] if "\n" in text or "\r" in text else ""
        first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    if not first_line.strip():
        return Violation(
            R_HEADER,
            src.table.name,
            src.where,
            src.path.name,
            detail="line 1 is blank: the header must be on line 1",
        )
    if "\ufffd" in first_line or "\x00" in first_line:
        # NUL bytes between the letters: UTF-16 without a byte-order mark
        no_bom = " (UTF-16 without a byte-order mark?)" if "\x00" in first_line else ""
        return Violation(
            R_WELL_FORMED,
            src.table.name,
            src.where,
            src.path.name,
            detail=f"line 1 (the header) is not UTF-8 text{no_bom}; {_NOT_UTF8_HINT}",
        )
    if not first_line.strip():
        return Violation(
            R_HEADER,
            src.table.name,
            src.where,
            src.path.name,
            detail="no header after the `sep=` line: the header must follow it on line 2",
        )
    src.delimiter = sep.group(1) if sep else _first_line_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=src.delimiter, quotechar='"')
    raw_header = next(reader)
    src.header_lines = reader.line_num + (1 if src.sep_line else 0)
    src.header = _header_names(raw_header)
    src.relation_sql = _csv_relation(src, str(src.text_path or src.path), 1 if src.sep_line else 0)
    return None


# what a message about a file that is not UTF-8 tells the user to do
_NOT_UTF8_HINT = (
    "re-export the file as UTF-8, or name its encoding with --non-utf8-encoding "
    "(windows-1252 for Excel's 'CSV' saved on Windows)"
)
_UTF16_BOMS = {codecs.BOM_UTF16_LE: "UTF-16LE", codecs.BOM_UTF16_BE: "UTF-16BE"}


def _is_utf8(src: Source) -> bool:
    """Whether the whole file decodes as UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with src.open_binary() as f:
        try:
            while chunk := f.read(1 << 22):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _text_as_utf8(src: Source, tmp: Path, non_utf8_encoding: str | None) -> Violation | None:
    """A CSV that is not UTF-8 copied to UTF-8 in ``tmp`` (``src.text_path``), line for
    line, so that it is read and checked like any CSV: a file starting with a UTF-16
    byte-order mark (Excel's "Unicode Text", Google Ads reports), and, with
    ``--non-utf8-encoding`` (e.g. Excel's Windows-1252 "CSV"), a file without byte-order mark
    that is not valid UTF-8. A byte sequence the encoding cannot read refuses the file with
    its line."""
    try:
        with src.open_binary() as f:
            head = f.read(4)
    except (OSError, EOFError):
        return None  # _read_csv_header names the unreadable file
    if head.startswith(codecs.BOM_UTF32_LE):  # starts like UTF-16LE's: refused as not UTF-8
        return None
    encoding = next((e for bom, e in _UTF16_BOMS.items() if head.startswith(bom)), None)
    codec = "utf-16"  # reads the byte-order mark and drops it
    if encoding is None:
        if not non_utf8_encoding or head.startswith(_BOM) or _is_utf8(src):
            return None
        encoding = codec = non_utf8_encoding
    out = tmp / f"{src.table.name}.utf8.csv"
    decoder = codecs.getincrementaldecoder(codec)("strict")
    line = 1
    with src.open_binary() as f, open(out, "w", encoding="utf-8", newline="") as w:
        while True:
            chunk = f.read(1 << 22)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                end = err.start - err.start % 2 if codec == "utf-16" else err.start
                line += err.object[:end].decode(encoding, errors="replace").count("\n")
                mark = f" though the file starts with a {encoding} byte-order mark"
                return Violation(
                    R_WELL_FORMED,
                    src.table.name,
                    src.where,
                    src.path.name,
                    detail=f"line {line}: not {encoding} text ({err.reason})"
                    f"{mark if codec == 'utf-16' else ''}; re-export the file as UTF-8",
                )
            line += text.count("\n")
            w.write(text)
            if not chunk:
                break
    src.text_path, src.encoding = out, encoding
    return None


def _csv_relation(src: Source, path: str, skip: int) -> str:
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(src.header)))
    compression = "gzip" if path.lower().endswith(".gz") else "none"
    return (
        f"read_csv({_sql_str(path)}, delim={_sql_str(src.delimiter)}, quote='\"', "
        f"escape='\"', header=true, skip={skip}, comment='', strict_mode=true, "
        f"null_padding=false, auto_detect=false, compression='{compression}', "
        f"columns={{{columns}}})"
    )


def _read_parquet_header(src: Source, con: duckdb.DuckDBPyConnection) -> Violation | None:
    if src.path.stat().st_size == 0:
        return Violation(
            R_HEADER,
            src.table.name,
            src.where,
            src.path.name,
            detail="the file is empty (0 bytes): no header",
        )
    scan = f"read_parquet({_sql_str(str(src.path))})"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
        names = [row[0] for row in described]
    except _NOT_THE_FILE:
        raise
    except duckdb.Error as err:
        return Violation(
            R_WELL_FORMED, src.table.name, src.where, src.path.name, detail=_first_line(str(err))
        )
    src.header = _header_names(names)
    src.float_columns = {
        i
        for i, row in enumerate(described)
        if str(row[1]).upper().startswith(("FLOAT", "DOUBLE", "DECIMAL", "REAL"))
    }

    def text(i: int, n: str) -> str:
        v = _ident(n)
        if i not in src.float_columns:
            return f"CAST({v} AS VARCHAR)"
        # pandas writes integer ids with gaps as floats: 2.0 -> '2' (exactly integral only)
        d = f"CAST({v} AS DOUBLE)"
        return (
            f"CASE WHEN isfinite({d}) AND abs({d}) < 1e15 AND {d} = trunc({d}) "
            f"THEN CAST(CAST({d} AS BIGINT) AS VARCHAR) ELSE CAST({v} AS VARCHAR) END"
        )

    cols = ", ".join(f"nullif({text(i, n)}, '') AS c{i}" for i, n in enumerate(names))
    src.relation_sql = f"(SELECT {cols} FROM {scan})"
    return None


# DuckDB errors that say nothing about the file being read: never reported as a file problem.
_NOT_THE_FILE = (duckdb.OutOfMemoryException, duckdb.InterruptException)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _duckdb_read_error(src: Source, err: duckdb.Error) -> Violation:
    text = str(err)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    original = re.search(r"Original Line: (.*)", text)
    reason = ""
    for candidate in text.splitlines()[1:]:
        candidate = candidate.strip()
        if candidate and not candidate.startswith(("Original Line", "Possible")):
            reason = candidate
            break
    if line:
        detail = f"line {line.group(1)}: {reason or _first_line(text)}"
        if original:
            detail += f" (line text: {_show(original.group(1))})"
    else:
        detail = _first_line(text)
    if "not utf-8" in text.lower():
        detail += f"; {_NOT_UTF8_HINT}"
    return Violation(R_WELL_FORMED, src.table.name, src.where, src.path.name, detail=detail)


def _line_endings(data: bytes) -> str | None:
    """'mixed line endings' with the first odd line, or None when the file uses one ending."""
    crlf = data.count(b"\r\n")
    lf_only = data.count(b"\n") - crlf
    if not crlf or not lf_only:
        return None
    majority_crlf = crlf >= lf_only
    for number, line in enumerate(data.split(b"\n")[:-1], start=1):
        if line.endswith(b"\r") != majority_crlf:
            odd = "LF only" if majority_crlf else "CRLF"
            usual = "CRLF (Windows)" if majority_crlf else "LF"
            return (
                f"mixed line endings: lines end with {usual} but line {number} ends with {odd} "
                "(rows appended by another tool?); re-save the file with one kind of line ending"
            )
    return None


def _diagnose_csv(src: Source, err: duckdb.Error, tmp: Path) -> tuple[Violation, Path | None]:
    """A DuckDB CSV error turned into file + line + likely cause (mixed line endings, quote,
    delimiter), and the rows Python's csv module can read written to a clean CSV in ``tmp``
    (``src.line_of_row`` maps them back to file lines) so the other rules still run."""
    violation = _duckdb_read_error(src, err)
    with src.open_binary() as f:
        data = f.read()
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    decoded = data.decode("utf-8", errors="replace")
    reader = csv.reader(
        io.StringIO(decoded, newline=""), delimiter=src.delimiter, quotechar='"', strict=True
    )
    rows: list[list[str]] = []
    lines: list[int] = []
    causes: list[str] = []
    first_line: int | None = None
    endings = _line_endings(data)
    if endings:
        causes.append(endings)
        first_line = int(re.search(r"line (\d+) ends", endings).group(1))  # type: ignore[union-attr]
    csv.field_size_limit(sys.maxsize)
    try:
        if src.sep_line:
            next(reader, None)
        header = next(reader, [])
        previous_end = reader.line_num
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not record:
                continue
            if len(record) != len(header):
                if not any("fields" in c for c in causes):
                    causes.append(
                        f"line {start} has {len(record)} fields where the header has "
                        f"{len(header)}: a delimiter '{src.delimiter}' inside an unquoted value, "
                        "or a different delimiter on that line"
                    )
                    first_line = first_line or start
                continue
            rows.append(record)
            lines.append(start)
    except csv.Error as problem:
        start = previous_end + 1
        causes.append(
            f"a quote problem from line {start} ({problem}): a value opened with '\"' is never "
            'closed, or a \'"\' sits inside an unquoted value (double it: "")'
        )
        first_line = first_line or start
    if "\ufffd" in decoded:
        hint = "" if _NOT_UTF8_HINT in violation.detail else f"; {_NOT_UTF8_HINT}"
        causes.append(f"the file is not UTF-8 text{hint}")
    if "CSV Error on Line" not in str(err) and first_line:
        violation.detail = f"line {first_line}: {violation.detail}"
    violation.detail += "; likely cause: " + (
        "; ".join(causes) or "unclear: check quotes and the delimiter around that line"
    )
    if not rows and not lines:
        return violation, None
    out = tmp / f"{src.table.name}.readable.csv"
    with open(out, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=src.delimiter, lineterminator="\n")
        writer.writerow(src.header)
        writer.writerows(rows)
    src.line_of_row = lines
    return violation, out


# ---------------------------------------------------------------------------------------------
# Typing: set-based SQL expressions from text to the contract's types
# ---------------------------------------------------------------------------------------------

# Values are not trimmed (the raw layer keeps what the store exported; CSV empty fields are NULL
# already). Typed columns tolerate surrounding whitespace; whitespace-only counts as empty.
_TS_RE = (
    r"^\s*(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*"
    r"([Zz]|UTC|[+-]\d{2}(?::?\d{2})?)?)?\s*$"
)
_DATE_RE = r"^\s*\d{4}-\d{2}-\d{2}\s*$"
_NUM_RE = r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$"
_INT_RE = r"^\s*[+-]?\d+(?:\.0*)?\s*$"
_TRUE = ("true", "t", "yes", "1")
_FALSE = ("false", "f", "no", "0")


def _ts_struct(t: str) -> str:
    return f"regexp_extract({t}, {_sql_str(_TS_RE)}, ['d', 't', 'o'])"


def _id_sql(t: str, opts: LoadOptions) -> str:
    """An identifier normalised: trimmed, empty -> NULL, lower-cased when case-insensitive."""
    v = f"nullif(trim({t}), '')"
    return f"lower({v})" if opts.ids_case_insensitive else v


def _status_sql(t: str, opts: LoadOptions) -> str:
    """orders.status mapped through the vocabulary; NULL when empty or unknown (no default)."""
    mapped = f"(SELECT v.status FROM __status_vocabulary v WHERE v.exported = lower(trim({t})))"
    if opts.unknown_status:
        default = _sql_str(opts.unknown_status)
        return f"coalesce({mapped}, CASE WHEN nullif(trim({t}), '') IS NOT NULL THEN {default} END)"
    return mapped


def _typed_sql(col: Column, t: str, m: str, opts: LoadOptions, table: str = "") -> str:
    """SQL typing text ``t`` as ``col.type``: NULL when empty or invalid.

    ``m`` is the regexp_extract struct of ``t`` for timestamp columns (d = date, t = time,
    o = offset; all '' when the text does not match). Identifiers are normalised, orders.status
    mapped, and a date-only timestamp is midnight in ``opts.reporting_timezone``.
    """
    if col.type == contract.VARCHAR:
        if col.identifier:
            return _id_sql(t, opts)
        if (table, col.name) == ("orders", "status"):
            return _status_sql(t, opts)
        return t
    if col.type == contract.TIMESTAMP:
        local = f"try_cast({m}.d || ' ' || coalesce(nullif({m}.t, ''), '00:00:00') AS TIMESTAMP)"
        o = f"{m}.o"
        hh = f"try_cast(substr({o}, 2, 2) AS INTEGER)"
        mm = f"coalesce(try_cast(nullif(replace(substr({o}, 4), ':', ''), '') AS INTEGER), 0)"
        offset_min = (
            f"CASE WHEN {o} IN ('', 'Z', 'z', 'UTC') THEN 0 WHEN {hh} <= 18 AND {mm} < 60 THEN "
            f"(CASE WHEN starts_with({o}, '-') THEN -1 ELSE 1 END) * ({hh} * 60 + {mm}) END"
        )
        utc = f"{local} - to_minutes(CAST({offset_min} AS BIGINT))"
        tz = _sql_str(opts.reporting_timezone)
        # a date alone is a local date: midnight in the reporting timezone, stored in UTC
        date_only = f"CAST(timezone({tz}, try_cast({m}.d AS TIMESTAMP)) AS TIMESTAMP)"
        return (
            f"CASE WHEN {m}.d <> '' THEN CASE WHEN {m}.t = '' AND {m}.o = '' THEN {date_only} "
            f"ELSE {utc} END END"
        )
    if col.type == contract.DATE:
        return (
            f"CASE WHEN regexp_full_match({t}, {_sql_str(_DATE_RE)}) "
            f"THEN try_cast(trim({t}) AS DATE) END"
        )
    if col.type == contract.DOUBLE:
        num = _sql_str(_NUM_RE)
        return f"CASE WHEN regexp_full_match({t}, {num}) THEN try_cast({t} AS DOUBLE) END"
    if col.type == contract.INTEGER:
        return (
            f"CASE WHEN regexp_full_match({t}, {_sql_str(_INT_RE)}) "
            f"THEN try_cast(try_cast({t} AS DOUBLE) AS INTEGER) END"
        )
    if col.type == contract.BOOLEAN:
        trues = ", ".join(_sql_str(v) for v in _TRUE)
        falses = ", ".join(_sql_str(v) for v in _FALSE)
        return (
            f"CASE WHEN lower(trim({t})) IN ({trues}) THEN true "
            f"WHEN lower(trim({t})) IN ({falses}) THEN false END"
        )
    raise ValueError(f"unknown contract type {col.type!r} for column {col.name}")


def _huge_sql(t: str) -> str:
    return (
        f"(regexp_full_match({t}, {_sql_str(_NUM_RE)}) "
        f"AND coalesce(abs(try_cast({t} AS DOUBLE)) > {HUGE_LIMIT}, true))"
    )


def _txt(name: str) -> str:
    return _ident(f"__txt__{name}")


def _keep_text_sql(col: Column, v: str, opts: LoadOptions) -> str:
    """Rows whose source text the stage keeps for messages: those some rule may refuse."""
    if col.type == contract.DOUBLE:
        rate = f" OR {v} > 1" if col.name == "tax_rate" else ""
        return f"{v} IS NULL OR abs({v}) > {HUGE_LIMIT} OR {v} < 0{rate}"
    if col.type == contract.INTEGER:
        return f"{v} IS NULL OR {v} <= 0"
    if col.type in (contract.TIMESTAMP, contract.DATE):
        return f"{v} IS NULL OR {_implausible_sql(v, opts)} OR {_future_sql(col, v, opts)}"
    return f"{v} IS NULL"


def _implausible_sql(v: str, opts: LoadOptions) -> str:
    load_year = (opts.loaded_at or datetime.now(UTC)).year
    return f"(year({v}) < {int(opts.min_plausible_year)} OR year({v}) > {load_year})"


def _future_sql(col: Column, v: str, opts: LoadOptions) -> str:
    cutoff = opts.cutoff
    if col.type == contract.DATE:  # a local day: after the cutoff's day in reporting_timezone
        tz = _sql_str(opts.reporting_timezone)
        day = f"CAST(timezone({tz}, TIMESTAMPTZ '{cutoff.isoformat(sep=' ')}+00') AS DATE)"
        return f"({v} > {day})"
    return f"({v} > TIMESTAMP '{cutoff.isoformat(sep=' ')}')"


def _raw(name: str) -> str:
    return _ident(f"__raw__{name}")


def _hash_sql(t: str, opts: LoadOptions) -> str:
    """The email hash (macro hash_email's former definition, computed before dbt sees it)."""
    normalised = f"lower(trim({t}))"
    if opts.pii_salt:
        normalised = f"{_sql_str(opts.pii_salt + ':')} || {normalised}"
    return f"CASE WHEN nullif(trim({t}), '') IS NOT NULL THEN md5({normalised}) END"


def _derived_columns(table: Table) -> list[str]:
    """Columns the loader adds after the contract columns (email hashes)."""
    return [h for t, _, h in HASHED_EMAILS if t == table.name]


def _nm(name: str) -> str:
    return _ident(f"__nm__{name}")


# One RE2 pass, no string copies: most values fail on their first character.
_NULL_MARKER_RE = r"(?i)\s*(" + "|".join(re.escape(m) for m in NULL_MARKERS) + r")\s*"


def _null_marker_sql(t: str) -> str:
    """True when text ``t`` is a null marker."""
    return f"regexp_full_match({t}, {_sql_str(_NULL_MARKER_RE)})"


def _stage_sql(src: Source, opts: LoadOptions) -> str:
    """CREATE TABLE stage_<table>: typed contract columns, derived columns, extras, then for
    typed columns ``__txt__<name>``, the source text on the rows a rule may refuse (NULL
    elsewhere), for identifiers ``__raw__<name>``, the text when normalising changed it, and
    with ``opts.null_markers_as_empty``, for text columns ``__nm__<name>``, a null marker as
    exported, read as empty in the typed column (without the option the typed column keeps it
    and a rule refuses it)."""
    n = len(src.header)
    marked = {
        src.mapping[c.name]: c.name
        for c in src.table.columns
        if opts.null_markers_as_empty
        and c.name in src.mapping
        and c.type == contract.VARCHAR
        and _null_marker_scope(src.table.name, c)
    }
    level1 = ", ".join(
        f"CASE WHEN NOT {_null_marker_sql(f'c{i}')} THEN c{i} END AS t{i}"
        if i in marked
        else f"c{i} AS t{i}"
        for i in range(n)
    )
    level1 += "".join(
        f", CASE WHEN {_null_marker_sql(f'c{i}')} THEN c{i} END AS nm{i}" for i in marked
    )
    ts_cols = [
        i for name, i in src.mapping.items() if src.table.column(name).type == contract.TIMESTAMP
    ]
    level2 = "*" + "".join(f", {_ts_struct(f't{i}')} AS m{i}" for i in ts_cols)
    level3 = ["*"]
    out = []
    for col in src.table.columns:
        name = _ident(col.name)
        if col.name not in src.mapping:
            out.append(f"CAST(NULL AS {DUCKDB_TYPES[col.type]}) AS {name}")
            continue
        i = src.mapping[col.name]
        level3.append(f"{_typed_sql(col, f't{i}', f'm{i}', opts, src.table.name)} AS {name}")
        out.append(name)
    for table, email, hashed in HASHED_EMAILS:
        if table == src.table.name:
            t = f"t{src.mapping[email]}" if email in src.mapping else "CAST(NULL AS VARCHAR)"
            out.append(f"{_hash_sql(t, opts)} AS {_ident(hashed)}")
    out += [f"t{i} AS {_ident(src.header[i])}" for i in src.extras]
    out += [f"nm{i} AS {_nm(name)}" for i, name in marked.items()]
    for col in src.table.columns:
        if col.name not in src.mapping:
            continue
        t, v = f"t{src.mapping[col.name]}", _ident(col.name)
        if col.type != contract.VARCHAR:
            keep = _keep_text_sql(col, v, opts)
            if col.type == contract.TIMESTAMP:  # date-only values: counted in _load_changes
                keep += f" OR length(trim({t})) = 10"
            out.append(f"CASE WHEN {keep} THEN {t} END AS {_txt(col.name)}")
        elif col.identifier:
            out.append(f"CASE WHEN {t} IS DISTINCT FROM {v} THEN {t} END AS {_raw(col.name)}")
        elif (src.table.name, col.name) == ("orders", "status"):
            out.append(
                f"CASE WHEN nullif(trim({t}), '') IS NOT NULL AND {v} IS DISTINCT FROM "
                f"lower(trim({t})) THEN {t} END AS {_txt(col.name)}"
            )
    return (
        f"CREATE OR REPLACE TABLE {_stage(src.table)} AS SELECT {', '.join(out)} FROM "
        f"(SELECT {', '.join(level3)} FROM (SELECT {level2} FROM (SELECT {level1} "
        f"FROM {src.relation_sql})))"
    )


def _stage(table: Table) -> str:
    return _ident(f"stage_{table.name}")


# ---------------------------------------------------------------------------------------------
# Checks (set-based). A check is a cheap ``gate`` (plain comparisons, statistics-friendly) and a
# costlier ``test`` only evaluated on the rows that pass the gate: CASE WHEN evaluates its THEN
# branch only for the selected rows, whereas an aggregate FILTER computes every term everywhere.
# ---------------------------------------------------------------------------------------------


@dataclass
class _Check:
    rule: str
    column: str
    gate: str  # cheap SQL predicate over the stage table (alias s)
    value: str  # SQL of the value shown in the message
    test: str = "true"  # costly SQL predicate, evaluated only where ``gate`` holds

    @property
    def bad(self) -> str:  # for aggregates
        return f"CASE WHEN {self.gate} THEN {self.test} ELSE false END"

    @property
    def where(self) -> str:  # for WHERE clauses (which narrow the rows term by term anyway)
        return f"({self.gate}) AND ({self.test})"


def _row_checks(src: Source, opts: LoadOptions) -> list[_Check]:
    """Per-row rules of a staged file: types, huge numbers, empty keys, value bounds, ids,
    statuses, implausible and future dates."""
    checks: list[_Check] = []
    table = src.table
    for col in table.columns:
        if col.name not in src.mapping:
            continue
        v = f"s.{_ident(col.name)}"
        if _null_marker_scope(table.name, col) and not opts.null_markers_as_empty:
            gate, shown, test = _null_marker_check(col, v, opts)
            checks.append(_Check(R_NULL_MARKER, col.name, gate, shown, test))
        if col.identifier:
            raw = f"coalesce(s.{_raw(col.name)}, {v})"
            pattern = _sql_str(_INVISIBLE_CLASS)
            checks.append(
                _Check(
                    R_INVISIBLE,
                    col.name,
                    f"{raw} IS NOT NULL",
                    raw,
                    f"regexp_matches({raw}, {pattern})",
                )
            )
            checks.append(
                _Check(
                    R_SCIENTIFIC_ID,
                    col.name,
                    f"contains({v}, 'E+') OR contains({v}, 'e+')",
                    v,
                    f"regexp_full_match({v}, {_sql_str(_SCIENTIFIC_ID)})",
                )
            )
            if src.mapping[col.name] in src.float_columns:
                checks.append(
                    _Check(
                        R_WHOLE_ID,
                        col.name,
                        f"{v} IS NOT NULL",
                        v,
                        f"NOT regexp_full_match({v}, '-?[0-9]+') AND NOT {_null_marker_sql(v)}",
                    )
                )
        if (table.name, col.name) == ("orders", "status"):
            t = f"s.{_txt(col.name)}"
            checks.append(_Check(R_STATUS, col.name, f"{t} IS NOT NULL AND {v} IS NULL", t))
        if (table.name, col.name) in PLAUSIBLE_DATES:
            t = f"coalesce(s.{_txt(col.name)}, CAST({v} AS VARCHAR))"
            implausible = _implausible_sql(v, opts)
            checks.append(_Check(R_PLAUSIBLE_YEAR, col.name, f"{v} IS NOT NULL", t, implausible))
            if (table.name, col.name) in EVENT_DATES:
                future = f"NOT {implausible} AND {_future_sql(col, v, opts)}"
                checks.append(_Check(R_NOT_FUTURE, col.name, f"{v} IS NOT NULL", t, future))
        if col.type != contract.VARCHAR:
            t = f"s.{_txt(col.name)}"
            failed = f"{t} IS NOT NULL AND {v} IS NULL"  # text present, no typed value
            test = f"trim({t}) <> ''"  # whitespace-only counts as empty
            if _null_marker_scope(table.name, col):  # refused or read as empty: marker rule
                test += f" AND NOT {_null_marker_sql(t)}"
            if col.type == contract.INTEGER:  # too big for INTEGER: 'no huge value' instead
                test += f" AND NOT {_huge_sql(t)}"
            checks.append(_Check(TYPE_RULES[col.type], col.name, failed, t, test))
            if col.type == contract.INTEGER:
                checks.append(_Check(R_HUGE, col.name, failed, t, _huge_sql(t)))
            elif col.type == contract.DOUBLE:
                checks.append(_Check(R_HUGE, col.name, f"abs({v}) > {HUGE_LIMIT}", t))
        if col.name == table.primary_key:
            # Whitespace-only keys sort before '!': trim() only runs on those few values.
            checks.append(
                _Check(
                    R_PK_PRESENT,
                    col.name,
                    f"{v} IS NULL OR {v} < '!'",
                    f"coalesce(s.{_raw(col.name)}, {v}, '')",
                    f"{v} IS NULL OR trim({v}) = ''",
                )
            )
        if col.not_empty and col.name != table.primary_key:
            checks.append(_value_present_check(table.name, col, v, opts))
        for t_name, c_name, rule, bad in VALUE_BOUNDS:
            if t_name == table.name and c_name == col.name:
                shown = f"s.{_txt(col.name)}" if col.type != contract.VARCHAR else v
                checks.append(_Check(rule, col.name, bad.format(v=v), shown))
        if (table.name, col.name) == ("order_lines", "unit_cost") and "unit_price" in src.mapping:
            price = f"s.{_ident('unit_price')}"
            checks.append(
                _Check(
                    R_COST_TO_PRICE,
                    col.name,
                    f"{price} > 0 AND {v} > {_ratio(opts)} * {price}",
                    f"CAST({v} AS VARCHAR) || ' > {_ratio(opts)} x unit_price ' || "
                    f"CAST({price} AS VARCHAR)",
                )
            )
        if (table.name, col.name) == ("order_lines", "discount_amount") and {
            "unit_price",
            "quantity",
        } <= set(src.mapping):
            price, quantity = f"s.{_ident('unit_price')}", f"s.{_ident('quantity')}"
            checks.append(
                _Check(
                    R_DISCOUNT_TO_LINE,
                    col.name,
                    f"{v} > {price} * {quantity} + {DISCOUNT_TOLERANCE}",
                    f"CAST({v} AS VARCHAR) || ' > unit_price ' || CAST({price} AS VARCHAR) || "
                    f"' x quantity ' || CAST({quantity} AS VARCHAR)",
                )
            )
    return checks


def _value_present_check(table: str, col: Column, v: str, opts: LoadOptions) -> _Check:
    """Empty in a ``not_empty`` column: no value, and no text that failed to type (that is the
    type rule's); a null marker read as empty counts as empty."""
    marker_read = opts.null_markers_as_empty and _null_marker_scope(table, col)
    if col.type == contract.VARCHAR:  # ids: trimmed, blank -> NULL
        shown = [f"s.{_nm(col.name)}"] if marker_read else []
        shown += [f"s.{_raw(col.name)}"] if col.identifier else []
        text = f"coalesce({', '.join([*shown, repr('')])})"
        return _Check(R_VALUE_PRESENT, col.name, f"{v} IS NULL", text)
    t = f"s.{_txt(col.name)}"
    empty = f"{t} IS NULL OR trim({t}) = ''"
    if marker_read:
        empty += f" OR {_null_marker_sql(t)}"
    return _Check(R_VALUE_PRESENT, col.name, f"{v} IS NULL", f"coalesce({t}, '')", empty)


def _null_marker_check(col: Column, v: str, opts: LoadOptions) -> tuple[str, str, str]:
    """(gate, shown value, test) finding the null markers of a column in the stage (alias s):
    in a text column the value itself, or ``__nm__<name>`` where the option read it as empty
    (an id as exported, before its trim); in a typed column the text of a value that did not
    type (``__txt__<name>`` holds the text of those rows)."""
    if col.type == contract.VARCHAR:
        shown = f"coalesce(s.{_raw(col.name)}, {v})" if col.identifier else v
        if opts.null_markers_as_empty:
            shown = f"s.{_nm(col.name)}"
            return f"{shown} IS NOT NULL", shown, "true"
        return f"{v} IS NOT NULL", shown, _null_marker_sql(v)
    t = f"s.{_txt(col.name)}"
    return f"{t} IS NOT NULL AND {v} IS NULL", t, _null_marker_sql(t)


def _ratio(opts: LoadOptions) -> str:
    """The cost-to-price multiple as a SQL literal (refused when not a positive number)."""
    ratio = float(opts.max_unit_cost_to_price)
    if not ratio > 0:
        raise ValueError(f"max_unit_cost_to_price must be > 0, got {ratio!r}")
    return repr(ratio)


class Loader:
    """Validates a raw folder into in-memory stage tables, then writes them in one transaction."""

    def __init__(
        self,
        raw_dir: Path,
        database: Path,
        schema: str = "raw",
        *,
        temp_dir: Path | None = None,
        memory_limit: str | None = None,
        hook: Callable[[str], None] | None = None,
        options: LoadOptions | None = None,
    ) -> None:
        self.opts = options or default_options()
        if self.opts.loaded_at is None:
            self.opts.loaded_at = datetime.now(UTC).replace(tzinfo=None)
        self.raw_dir = Path(raw_dir)
        self.database = Path(database)
        self.schema = schema
        self.hook = hook or (lambda _step: None)
        self.violations: list[Violation] = []
        self.sources: dict[str, Source] = {}
        self.ignored: list[str] = []
        self.conflicts: set[str] = set()  # tables with both a .csv and a .parquet file
        self._attached = False
        self.changes: list[tuple[str, str, str, int]] = []
        self.quarantined: list[tuple[str, str, str, str, str]] = []
        if temp_dir is not None:
            temp_dir.mkdir(parents=True, exist_ok=True)
        # The stage lives in an in-memory DuckDB that spills to this folder when large.
        self._tmp = Path(tempfile.mkdtemp(prefix="load_raw_", dir=temp_dir))
        self.con = duckdb.connect(":memory:")
        try:
            self.con.execute(f"SET temp_directory = {_sql_str(str(self._tmp))}")
            self.con.execute("SET preserve_insertion_order = true")  # rowid = file order
            if memory_limit:
                self.con.execute(f"SET memory_limit = {_sql_str(memory_limit)}")
            try:
                self.con.execute("SET TimeZone = 'UTC'")
            except duckdb.Error:  # no ICU: timestamptz text then carries its offset anyway
                pass
            self.con.execute("CREATE TABLE __status_vocabulary (exported VARCHAR, status VARCHAR)")
            self.con.executemany(
                "INSERT INTO __status_vocabulary VALUES (?, ?)", _status_vocabulary()
            )
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Drop the stage (and the warehouse lock: an uncommitted transaction is discarded)."""
        try:
            self.con.close()
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _scalar(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    # -- steps ---------------------------------------------------------------------------------

    def run(self) -> list[dict[str, object]]:
        """Validate, then load; returns the manifest rows. Raises LoadRefused/WarehouseLocked."""
        if not SCHEMA_RE.fullmatch(self.schema):
            raise ValueError(f"schema must be a plain SQL identifier, got {self.schema!r}")
        self._check_writable()
        if self.database.exists():
            self._attach()  # fail fast on a locked warehouse; hold the lock while validating
        self.validate()
        if self.violations:
            raise LoadRefused(self.violations)
        self.hook("validated")
        return self._write()

    def validate(self) -> list[Violation]:
        """Stage every file and check every rule; writes nothing to the warehouse."""
        if not self.raw_dir.is_dir():
            self.violations = [Violation(R_RAW_DIR, "", str(self.raw_dir), detail="no such folder")]
            return self.violations
        self._discover()
        for src in self.sources.values():
            self._stage(src)
        self._check()
        self._check_store_not_empty()
        order = {t.name: k for k, t in enumerate(contract.TABLES)}
        self.violations.sort(key=lambda v: order.get(v.table, -1))  # stable: file-level first
        return self.violations

    def _attach(self) -> None:
        if self._attached:
            return
        try:
            self.con.execute(f"ATTACH {_sql_str(str(self.database))} AS __warehouse")
        except duckdb.Error as err:
            _raise_if_locked(err, self.database)
            raise
        self._attached = True

    def _discover(self) -> None:
        found: dict[str, list[Path]] = {}
        for path in sorted(self.raw_dir.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            stem, suffix = path.stem.lower(), path.suffix.lower()
            if path.name.lower().endswith(".csv.gz"):  # gzip-compressed CSV
                stem, suffix = path.name[: -len(".csv.gz")].lower(), ".csv"
            if stem in contract.TABLES_BY_NAME and suffix in (".csv", ".parquet"):
                found.setdefault(stem, []).append(path)
            else:
                self.ignored.append(path.name)
        for table in contract.TABLES:
            paths = found.get(table.name, [])
            if len(paths) > 1:
                self.conflicts.add(table.name)
                names = " and ".join(p.name for p in paths)
                self.violations.append(
                    Violation(
                        R_ONE_FILE,
                        table.name,
                        str(self.raw_dir),
                        column=None,
                        detail=f"table '{table.name}' has {names}; keep only one",
                    )
                )
            elif not paths and table.required:
                present = ", ".join(sorted(p.name for ps in found.values() for p in ps)) or "none"
                self.violations.append(
                    Violation(
                        R_REQUIRED_TABLE,
                        table.name,
                        str(self.raw_dir),
                        detail=f"table '{table.name}' has no file: expected {table.name}.csv "
                        f"or {table.name}.parquet (contract files present: {present})",
                    )
                )
            elif paths:
                path = paths[0]
                fmt = "csv" if path.name.lower().endswith(".gz") else path.suffix.lower()[1:]
                self.sources[table.name] = Source(table, path, str(path), fmt)

    def _stage(self, src: Source) -> None:
        table = src.table
        if src.fmt == "csv":
            problem = _text_as_utf8(src, self._tmp, self.opts.non_utf8_encoding)
            problem = problem or _read_csv_header(src)
        else:
            problem = _read_parquet_header(src, self.con)
        if problem:
            self.violations.append(problem)
            return
        seen: dict[str, int] = {}
        duplicates = []
        for i, name in enumerate(src.header):
            key = name.lower()
            if key in seen:
                duplicates.append(
                    f"'{src.header[seen[key]]}' (column {seen[key] + 1}) and "
                    f"'{name}' (column {i + 1})"
                )
            else:
                seen[key] = i
            if key in _derived_columns(table):
                duplicates.append(
                    f"'{name}' (column {i + 1}) is the name of the column the loader adds "
                    "(the salted email hash): rename or drop it"
                )
        if duplicates:
            self.violations.append(
                Violation(
                    R_UNIQUE_COLUMNS,
                    table.name,
                    src.where,
                    src.path.name,
                    detail="; ".join(duplicates),
                )
            )
            return
        contract_names = set(table.column_names)
        for i, name in enumerate(src.header):
            if name.lower() in contract_names:
                src.mapping[name.lower()] = i
            else:
                src.extras.append(i)
        for col in table.columns:
            if col.required and col.name not in src.mapping:
                self.violations.append(
                    Violation(
                        R_REQUIRED_COLUMN,
                        table.name,
                        src.where,
                        src.path.name,
                        col.name,
                        detail="not in the header (header: " + ", ".join(src.header) + ")",
                    )
                )
        try:
            self.con.execute(_stage_sql(src, self.opts))
        except _NOT_THE_FILE:
            raise
        except duckdb.Error as err:
            if src.fmt != "csv":
                self.violations.append(_duckdb_read_error(src, err))
                return
            # Name the line and the likely cause, then stage the rows Python can read so the
            # file's other rules are still checked (the load is refused either way).
            violation, rows_file = _diagnose_csv(src, err, self._tmp)
            self.violations.append(violation)
            if rows_file is None:
                return
            src.relation_sql = _csv_relation(src, str(rows_file), 0)
            try:
                self.con.execute(_stage_sql(src, self.opts))
            except duckdb.Error:
                return
        src.rows = self._scalar(f"SELECT count(*) FROM {_stage(table)}")
        if table.name in DEDUPLICATED:
            self._mark_duplicates(src)
        src.ok = True

    def _mark_duplicates(self, src: Source) -> None:
        """__dup_of = stage rowid of the first identical row (ignoring the table's ids), or NULL.
        Exact duplicates of refunds and spend are quarantined, never counted twice."""
        ignored = DEDUPLICATED[src.table.name]
        content = [c for c in src.table.column_names if c not in ignored]
        content += [src.header[i] for i in src.extras]
        cols = ", ".join(_ident(c) for c in content)
        stage = _stage(src.table)
        self.con.execute(f"ALTER TABLE {stage} ADD COLUMN __dup_of BIGINT")
        self.con.execute(
            f"UPDATE {stage} SET __dup_of = d.first FROM (SELECT rowid AS r, "
            f"min(rowid) OVER (PARTITION BY {cols}) AS first FROM {stage}) d "
            f"WHERE {stage}.rowid = d.r AND d.r <> d.first"
        )
        src.dedupe = True

    def _check(self) -> None:
        for src in self.sources.values():
            if not src.ok:
                continue
            stage = _stage(src.table)
            found: list[tuple[_Check, int]] = []
            row_checks = _row_checks(src, self.opts)
            if row_checks:  # one pass counts every per-row rule of the table
                counts = ", ".join(f"count(CASE WHEN {c.bad} THEN 1 END)" for c in row_checks)
                row = self.con.execute(f"SELECT {counts} FROM {stage} s").fetchone()
                found += [(c, n) for c, n in zip(row_checks, row, strict=True) if n]
            for c in self._set_checks(src):  # keys and references: joins, one query each
                n = self._scalar(f"SELECT count(*) FROM {stage} s WHERE {c.where}")
                if n:
                    found.append((c, n))
            if not found:
                continue
            samples = {}
            for c, _ in found:  # refusals only: the first offending rows of each rule
                samples[id(c)] = self.con.execute(
                    f"SELECT s.rowid, CAST({c.value} AS VARCHAR) FROM {stage} s WHERE {c.where} "
                    f"ORDER BY s.rowid LIMIT {MAX_SAMPLES}"
                ).fetchall()
            labels = self._row_labels(src, {r for rows in samples.values() for r, _ in rows})
            for c, n in found:
                shown = [(labels[r], value) for r, value in samples[id(c)]]
                detail = self._detail(src, c, shown)
                self.violations.append(
                    Violation(
                        c.rule, src.table.name, src.where, src.path.name, c.column, n, shown, detail
                    )
                )

    def _detail(self, src: Source, c: _Check, shown: list[tuple[str, str | None]]) -> str:
        """Extra words for some rules: the hint, where the invisible character is, the unknown
        statuses with their counts, the other spellings of an id."""
        if c.rule == R_INVISIBLE:
            where = []
            for label, value in shown:
                m = _INVISIBLE_PY.search(value or "")
                if m:
                    where.append(f"{label}: U+{ord(m.group()):04X} at position {m.start() + 1}")
            return "; ".join(where) + f"; {RULE_HINTS[R_INVISIBLE]}"
        if c.rule == R_STATUS:
            rows = self.con.execute(
                f"SELECT lower(trim({c.value})) AS status, count(*) AS n FROM {_stage(src.table)} "
                f"s WHERE {c.where} GROUP BY 1 ORDER BY n DESC, status"
            ).fetchall()
            listed = ", ".join(f"{_show(value)} ({n} rows)" for value, n in rows)
            return (
                f"unknown statuses: {listed}. Known: {STATUS_VOCABULARY.name} "
                f"(map to {' / '.join(CANONICAL_STATUSES)}); add them there, or pass "
                "--unknown-status STATUS"
            )
        if c.rule.startswith("exists in ") and not self.opts.ids_case_insensitive:
            return self._case_hint(src, c)
        return RULE_HINTS.get(c.rule, "")

    def _case_hint(self, src: Source, c: _Check) -> str:
        """For a missing reference: say when the value exists in the parent in another case."""
        parent, parent_column = c.rule.removeprefix("exists in ").split(".")
        parent_src = self.sources.get(parent)
        if parent_src is None or not parent_src.ok:
            return ""
        p = _ident(parent_column)
        n = self._scalar(
            f"SELECT count(*) FROM {_stage(src.table)} s WHERE {c.where} AND EXISTS (SELECT 1 "
            f"FROM {_stage(parent_src.table)} p WHERE lower(p.{p}) = lower(s.{_ident(c.column)}))"
        )
        if not n:
            return ""
        return (
            f"{n} of these differ only by case from an existing {parent}.{parent_column} "
            "(`o1` vs `O1`): fix the export, or pass --ids-case-insensitive if the store "
            "treats ids case-insensitively"
        )

    def _check_store_not_empty(self) -> None:
        src = self.sources.get("orders")
        if src is not None and src.ok and src.rows == 0:
            self.violations.append(
                Violation(
                    R_STORE_NOT_EMPTY,
                    "orders",
                    src.where,
                    src.path.name,
                    detail="the file has a header but no data row: there are no orders to build "
                    "on (check the export's date range or filters)",
                )
            )

    def _set_checks(self, src: Source) -> list[_Check]:
        checks = []
        stage = _stage(src.table)
        pk = src.table.primary_key
        kept, s_kept = ("__dup_of IS NULL", "s.__dup_of IS NULL") if src.dedupe else ("true",) * 2
        if pk and pk in src.mapping:
            v = _ident(pk)
            dup = (
                f"SELECT {v} FROM {stage} WHERE {v} IS NOT NULL AND {kept} GROUP BY {v} "
                "HAVING count(*) > 1"
            )
            checks.append(_Check(R_PK_UNIQUE, pk, f"s.{v} IN ({dup}) AND {s_kept}", f"s.{v}"))
        for col in src.table.columns:
            if not col.identifier or col.name not in src.mapping:
                continue
            v = _ident(col.name)
            # key columns: any other spelling; references: another case only (spaces are noise)
            spelling = f"coalesce({_raw(col.name)}, {v})" if col.name == pk else v
            # null markers ('NULL', 'null') are refused by their own rule, not as two spellings
            clash = (
                f"SELECT k FROM (SELECT lower({v}) AS k FROM {stage} WHERE {v} IS NOT NULL "
                f"GROUP BY lower({v}) HAVING count(DISTINCT {spelling}) > 1) "
                f"WHERE NOT {_null_marker_sql('k')}"
            )
            shown = f"coalesce(s.{_raw(col.name)}, s.{v})" if col.name == pk else f"s.{v}"
            checks.append(_Check(R_ID_SPELLING, col.name, f"lower(s.{v}) IN ({clash})", shown))
        for column, parent, parent_column in src.table.references:
            if column not in src.mapping:
                continue
            parent_src = self.sources.get(parent)
            parent_table = contract.TABLES_BY_NAME[parent]
            if parent_src is None and (parent_table.required or parent in self.conflicts):
                continue  # already refused as a missing / ambiguous table: no second-hand noise
            if parent_src is not None and not parent_src.ok:
                continue  # the parent file is refused already
            v = _ident(column)
            if parent_src is None:  # optional parent without a file: an empty table
                missing = "true"
            else:
                missing = (
                    f"NOT EXISTS (SELECT 1 FROM {_stage(parent_src.table)} p "
                    f"WHERE p.{_ident(parent_column)} = s.{v})"
                )
            rule = f"exists in {parent}.{parent_column}"
            not_marker = f"NOT {_null_marker_sql(f's.{v}')}"  # a marker: its own rule
            checks.append(
                _Check(rule, column, f"s.{v} IS NOT NULL AND {missing}", f"s.{v}", not_marker)
            )
        lines = self.sources.get("order_lines")
        if (
            src.table.name == "products"
            and "unit_cost" in src.mapping
            and lines is not None
            and lines.ok
            and {"product_id", "unit_price"} <= set(lines.mapping)
        ):  # a product's cost against the highest price it was sold at (gifts at 0 ignored)
            cost = f"s.{_ident('unit_cost')}"
            top = (
                f"(SELECT max(l.unit_price) FROM {_stage(lines.table)} l "
                f"WHERE l.product_id = s.{_ident('product_id')} AND l.unit_price > 0)"
            )
            checks.append(
                _Check(
                    R_COST_TO_PRICE,
                    "unit_cost",
                    f"{cost} > 0",
                    f"CAST({cost} AS VARCHAR) || ' > {_ratio(self.opts)} x unit_price ' || "
                    f"CAST({top} AS VARCHAR)",
                    f"{cost} > {_ratio(self.opts)} * {top}",
                )
            )
        if (
            src.table.name == "refunds"
            and {"order_line_id", "quantity"} <= set(src.mapping)
            and lines is not None
            and lines.ok
            and "quantity" in lines.mapping
        ):  # a line's refunds return at most the units it sold (duplicate rows not counted)
            line, units = _ident("order_line_id"), _ident("quantity")
            per_line = (
                f"(SELECT r.{line} AS line, sum(r.{units}) AS returned, "
                f"any_value(l.{units}) AS sold FROM {stage} r JOIN {_stage(lines.table)} l "
                f"ON l.{line} = r.{line} WHERE r.{units} IS NOT NULL AND "
                f"{'r.__dup_of IS NULL' if src.dedupe else 'true'} GROUP BY r.{line})"
            )
            over = f"SELECT line FROM {per_line} WHERE returned > sold"
            told = (
                f"(SELECT 'of ' || sold || ' sold, ' || returned || ' returned' "
                f"FROM {per_line} x WHERE x.line = s.{line})"
            )
            checks.append(
                _Check(
                    R_RETURN_TO_LINE,
                    "quantity",
                    f"s.{units} IS NOT NULL AND s.{line} IS NOT NULL AND {s_kept}",
                    f"CAST(s.{units} AS VARCHAR) || ' (line ' || s.{line} || ' ' || {told} || ')'",
                    f"s.{line} IN ({over})",
                )
            )
        return checks

    def _row_labels(self, src: Source, rowids: set[int]) -> dict[int, str]:
        """'line N' (CSV, header = line 1) or 'row N' (Parquet) for stage rowids."""
        if src.fmt == "parquet":
            return {r: f"row {r + 1}" for r in rowids}
        if src.line_of_row is not None:
            return {r: f"line {src.line_of_row[r]}" for r in rowids}
        newlines, last = 0, b""
        with src.open_binary() as f:
            while chunk := f.read(1 << 24):
                newlines += chunk.count(b"\n")
                last = chunk[-1:]
        physical = newlines + (1 if last and last != b"\n" else 0)
        if physical == src.header_lines + src.rows:  # no blank lines, no multi-line values
            return {r: f"line {r + src.header_lines + 1}" for r in rowids}
        # Slow path (refusals only): follow quoted newlines and skipped blank lines.
        csv.field_size_limit(sys.maxsize)
        labels: dict[int, str] = {}
        wanted = max(rowids)
        with io.TextIOWrapper(
            src.open_binary(), encoding="utf-8-sig", errors="replace", newline=""
        ) as f:
            reader = csv.reader(f, delimiter=src.delimiter, quotechar='"')
            if src.sep_line:
                next(reader, None)
            next(reader, None)
            index = 0
            previous_end = reader.line_num
            for record in reader:
                start = previous_end + 1
                previous_end = reader.line_num
                if not record:
                    continue
                if index in rowids:
                    labels[index] = f"line {start}"
                if index >= wanted:
                    break
                index += 1
        return {r: labels.get(r, f"data row {r + 1}") for r in rowids}

    def _changes(self) -> list[tuple[str, str, str, int]]:
        """What the loader changed on the way in: (table, column, change, rows)."""
        out: list[tuple[str, str, str, int]] = []
        for src in self.sources.values():
            stage, table = _stage(src.table), src.table.name
            for col in src.table.columns:
                if col.name not in src.mapping:
                    continue
                v = _ident(col.name)
                if _null_marker_scope(table, col) and self.opts.null_markers_as_empty:
                    gate, shown, test = _null_marker_check(col, f"s.{v}", self.opts)
                    n, spellings = self.con.execute(
                        f"SELECT count(*), list(DISTINCT trim({shown}) ORDER BY trim({shown})) "
                        f"FROM {stage} s WHERE ({gate}) AND ({test})"
                    ).fetchone()
                    if n:
                        shown_as = ", ".join(_show(m) for m in spellings[:MAX_SAMPLES])
                        more = ", ..." if len(spellings) > MAX_SAMPLES else ""
                        change = f"null marker read as empty (as exported: {shown_as}{more})"
                        out.append((table, col.name, change, n))
                if col.identifier:
                    how = "trimmed" + (" and lower-cased" if self.opts.ids_case_insensitive else "")
                    n = self._scalar(f"SELECT count({_raw(col.name)}) FROM {stage}")
                    if n:
                        out.append((table, col.name, f"id {how} (as exported: spaces or case)", n))
                    if src.mapping[col.name] in src.float_columns:
                        n = self._scalar(f"SELECT count({v}) FROM {stage}")
                        if n:
                            change = "id read from a floating-point Parquet column: 2.0 -> 2"
                            out.append((table, col.name, change, n))
                if col.type == contract.TIMESTAMP:
                    t = _txt(col.name)
                    n = self._scalar(
                        f"SELECT count(*) FROM {stage} WHERE {v} IS NOT NULL AND "
                        f"regexp_full_match({t}, {_sql_str(_DATE_RE)})"
                    )
                    if n:
                        change = (
                            f"date without time read as midnight {self.opts.reporting_timezone}"
                        )
                        out.append((table, col.name, change, n))
                if (table, col.name) == ("orders", "status"):
                    rows = self.con.execute(
                        f"SELECT lower(trim({_txt(col.name)})), {v}, count(*) FROM {stage} "
                        f"WHERE {_txt(col.name)} IS NOT NULL GROUP BY ALL ORDER BY 1"
                    ).fetchall()
                    for exported, status, n in rows:
                        known = "" if status is None else " (--unknown-status)"
                        out.append(
                            (table, col.name, f"status '{exported}' -> '{status}'{known}", n)
                        )
        return out

    def _quarantine(self) -> list[tuple[str, str, str, str, str]]:
        """Rows kept out of the raw tables: (table, file, line, reason, values)."""
        out: list[tuple[str, str, str, str, str]] = []
        for src in self.sources.values():
            if not src.dedupe:
                continue
            fields = ", ".join(f"{_ident(c)} := {_ident(c)}" for c in src.table.column_names)
            rows = self.con.execute(
                f"SELECT rowid, __dup_of, CAST(struct_pack({fields}) AS VARCHAR) "
                f"FROM {_stage(src.table)} WHERE __dup_of IS NOT NULL ORDER BY rowid"
            ).fetchall()
            if not rows:
                continue
            labels = self._row_labels(src, {r for r, _, _ in rows} | {d for _, d, _ in rows})
            key = src.table.primary_key
            what = f"same values (any {key})" if key else "same values in every column"
            for rowid, first, values in rows:
                reason = f"duplicate_row: {what} as {labels[first]}"
                out.append((src.table.name, src.path.name, labels[rowid], reason, values))
        return out

    def _check_writable(self) -> None:
        folder = self.database.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise WarehouseNotWritable(self.database, err.strerror or str(err)) from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise WarehouseNotWritable(self.database, "permission denied (read-only folder?)")
        if self.database.exists() and not os.access(self.database, os.W_OK):
            raise WarehouseNotWritable(self.database, "the warehouse file is read-only")

    def _write(self) -> list[dict[str, object]]:
        self._check_writable()
        changes, quarantine = self._changes(), self._quarantine()
        self._attach()
        self.hook("attached")
        db, schema = "__warehouse", _ident(self.schema)
        loaded_at = self.opts.loaded_at
        manifest: list[dict[str, object]] = []
        quarantined: dict[str, int] = {}
        for row in quarantine:
            quarantined[row[0]] = quarantined.get(row[0], 0) + 1
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {db}.{schema}")
            for table in contract.TABLES:
                target = f"{db}.{schema}.{_ident(table.name)}"
                src = self.sources.get(table.name)
                derived = _derived_columns(table)
                if src is None:
                    cols = ", ".join(
                        [f"{_ident(c.name)} {DUCKDB_TYPES[c.type]}" for c in table.columns]
                        + [f"{_ident(d)} VARCHAR" for d in derived]
                    )
                    self.con.execute(f"CREATE OR REPLACE TABLE {target} ({cols})")
                    extra: list[str] = []
                    rows_loaded = 0
                else:
                    extra = [src.header[i] for i in src.extras]
                    names = [*table.column_names, *derived, *extra]
                    select = ", ".join(_ident(n) for n in names)
                    kept = " WHERE __dup_of IS NULL ORDER BY rowid" if src.dedupe else ""
                    self.con.execute(
                        f"CREATE OR REPLACE TABLE {target} AS SELECT {select} "
                        f"FROM {_stage(table)}{kept}"
                    )
                    rows_loaded = self._scalar(f"SELECT count(*) FROM {target}")
                manifest.append(
                    {
                        "table_name": table.name,
                        "source_file": str(src.path.resolve()) if src else None,
                        "source_format": src.fmt if src else None,
                        "rows_in": src.rows if src else 0,
                        "rows_loaded": rows_loaded,
                        "columns_extra": extra,
                        "columns_defaulted": [
                            c for c in table.column_names if not src or c not in src.mapping
                        ],
                        "loaded_at": loaded_at,
                        "rows_quarantined": quarantined.get(table.name, 0),
                        "exported_at": self.opts.exported_at,
                        "reporting_timezone": self.opts.reporting_timezone,
                        "source_encoding": src.encoding if src and src.fmt == "csv" else None,
                    }
                )
                self.hook(f"wrote:{table.name}")
            self.con.execute(
                f"CREATE OR REPLACE TABLE {db}.{schema}._load_manifest (table_name VARCHAR, "
                "source_file VARCHAR, source_format VARCHAR, rows_in BIGINT, rows_loaded BIGINT, "
                "columns_extra VARCHAR[], columns_defaulted VARCHAR[], loaded_at TIMESTAMP, "
                "rows_quarantined BIGINT, exported_at TIMESTAMP, reporting_timezone VARCHAR, "
                "source_encoding VARCHAR)"
            )
            self.con.executemany(
                f"INSERT INTO {db}.{schema}._load_manifest VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [list(m.values()) for m in manifest],
            )
            self.con.execute(
                f"CREATE OR REPLACE TABLE {db}.{schema}._load_quarantine (table_name VARCHAR, "
                "source_file VARCHAR, source_line VARCHAR, reason VARCHAR, row_values VARCHAR)"
            )
            if quarantine:
                self.con.executemany(
                    f"INSERT INTO {db}.{schema}._load_quarantine VALUES (?, ?, ?, ?, ?)",
                    quarantine,
                )
            self.con.execute(
                f"CREATE OR REPLACE TABLE {db}.{schema}._load_changes (table_name VARCHAR, "
                "column_name VARCHAR, change VARCHAR, row_count BIGINT)"
            )
            if changes:
                self.con.executemany(
                    f"INSERT INTO {db}.{schema}._load_changes VALUES (?, ?, ?, ?)", changes
                )
            self.hook("before_commit")
            self.con.execute("COMMIT")
        except BaseException:
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise
        self.con.execute("DETACH __warehouse")
        self._attached = False
        self.changes, self.quarantined = changes, quarantine
        return manifest


def _status_vocabulary() -> list[tuple[str, str]]:
    """(exported status, lower-cased; project status) from seeds/order_status_vocabulary.csv."""
    with open(STATUS_VOCABULARY, encoding="utf-8", newline="") as f:
        return [(r["exported_status"].strip().lower(), r["status"]) for r in csv.DictReader(f)]


@dataclass
class LoadResult:
    manifest: list[dict[str, object]]  # one row per contract table, as in <schema>._load_manifest
    ignored: list[str]  # files in the raw folder that are no contract table
    changes: list[tuple[str, str, str, int]] = field(default_factory=list)  # _load_changes
    quarantined: list[tuple[str, str, str, str, str]] = field(default_factory=list)


def load_raw(
    raw_dir: Path | str,
    database: Path | str,
    schema: str = "raw",
    *,
    temp_dir: Path | None = None,
    memory_limit: str | None = None,
    hook: Callable[[str], None] | None = None,
    options: LoadOptions | None = None,
) -> LoadResult:
    """Validate ``raw_dir`` and load it into ``database``'s ``schema`` atomically.

    Returns the manifest rows (one per contract table, as written to ``_load_manifest``) and
    the ignored file names. Raises ``LoadRefused`` (nothing written) or ``WarehouseLocked``.
    ``hook(step)`` is called at 'validated', 'attached', 'wrote:<table>' and 'before_commit'
    (tests inject failures there; an exception rolls the whole load back).
    """
    loader = Loader(
        Path(raw_dir),
        Path(database),
        schema,
        temp_dir=temp_dir,
        memory_limit=memory_limit,
        hook=hook,
        options=options,
    )
    try:
        manifest = loader.run()
        return LoadResult(manifest, loader.ignored, loader.changes, loader.quarantined)
    finally:
        loader.close()


def validate_raw(raw_dir: Path | str, options: LoadOptions | None = None) -> list[Violation]:
    """Every rule violation of ``raw_dir`` (an empty list: it would load). Writes nothing."""
    loader = Loader(Path(raw_dir), Path(os.devnull), options=options)
    try:
        return loader.validate()
    finally:
        loader.close()


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def _schema_name(text: str) -> str:
    if not SCHEMA_RE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"not a plain SQL identifier: {text!r}")
    return text


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="load_raw.py",
        description="Validate a folder of store exports against the raw contract and load it "
        "atomically into the DuckDB warehouse (exit 0 loaded, 2 refused or warehouse locked).",
    )
    p.add_argument("--raw-dir", required=True, type=Path, help="folder with <table>.csv|.parquet")
    p.add_argument("--database", required=True, type=Path, help="DuckDB warehouse file")
    p.add_argument("--schema", default="raw", type=_schema_name, help="target schema (raw)")
    p.add_argument(
        "--memory-limit",
        default=os.environ.get("DBT_DUCKDB_MEMORY_LIMIT"),
        help="DuckDB memory_limit while loading (default: $DBT_DUCKDB_MEMORY_LIMIT or DuckDB's)",
    )
    p.add_argument("--temp-dir", type=Path, default=None, help="spill folder (default: system)")
    p.add_argument(
        "--exported-at",
        type=_utc_timestamp,
        default=None,
        help="when the export was taken (ISO-8601; UTC unless an offset is given): rows dated "
        "after it are refused (default: the load time)",
    )
    p.add_argument(
        "--reporting-timezone",
        default=None,
        help="timezone of date-only values (default: $DTC_REPORTING_TIMEZONE or var "
        "reporting_timezone of dbt_project.yml)",
    )
    p.add_argument(
        "--min-plausible-year",
        type=int,
        default=None,
        help="dates before this year are refused (default: var min_plausible_year or 2000)",
    )
    p.add_argument(
        "--ids-case-insensitive",
        action="store_true",
        default=_env_flag("DTC_IDS_CASE_INSENSITIVE"),
        help="lower-case every id, so O1 and o1 are one id (default: refuse such pairs; "
        "or $DTC_IDS_CASE_INSENSITIVE=1)",
    )
    p.add_argument(
        "--unknown-status",
        choices=CANONICAL_STATUSES,
        default=os.environ.get("DTC_UNKNOWN_STATUS") or None,
        help="map statuses missing from seeds/order_status_vocabulary.csv to this status "
        "(default: refuse them; or $DTC_UNKNOWN_STATUS)",
    )
    p.add_argument(
        "--null-markers-as-empty",
        action="store_true",
        default=_env_flag("DTC_NULL_MARKERS_AS_EMPTY"),
        help="read NULL, \\N, N/A, #N/A, NaN, None, ... as empty fields (default: refuse "
        "them; or $DTC_NULL_MARKERS_AS_EMPTY=1)",
    )
    p.add_argument(
        "--non-utf8-encoding",
        type=_text_encoding,
        default=os.environ.get("DTC_NON_UTF8_ENCODING") or None,
        help="read a CSV that is not UTF-8 (and has no byte-order mark) in this encoding, e.g. "
        "windows-1252 for Excel's 'CSV' on Windows (default: refuse it; or "
        "$DTC_NON_UTF8_ENCODING)",
    )
    p.add_argument(
        "--max-unit-cost-to-price",
        type=_positive_number,
        default=None,
        help="refuse a unit cost above this multiple of the line's unit price "
        f"(default: var max_unit_cost_to_price or {DEFAULT_MAX_UNIT_COST_TO_PRICE:g})",
    )
    return p


def _env_flag(name: str) -> bool:
    """An on/off option's default from the environment (1, true or yes turn it on)."""
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def _text_encoding(text: str) -> str:
    """A Python codec name for --non-utf8-encoding, as its canonical name (cp1252)."""
    try:
        info = codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding: {text!r}") from None
    text_codec = getattr(info, "_is_text_encoding", True)  # False for rot13, hex, base64
    if not text_codec or info.name.startswith(("utf-8", "utf-16", "utf-32")):
        raise argparse.ArgumentTypeError(
            f"{text!r}: UTF-8 is read by default and UTF-16 by its byte-order mark; name the "
            "encoding of files that are neither (windows-1252, latin-1, ...)"
        )
    return info.name


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _utc_timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 timestamp: {text!r}") from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _options(args: argparse.Namespace) -> LoadOptions:
    opts = default_options()
    if args.reporting_timezone:
        opts.reporting_timezone = args.reporting_timezone
    if args.min_plausible_year is not None:
        opts.min_plausible_year = args.min_plausible_year
    opts.exported_at = args.exported_at
    opts.ids_case_insensitive = args.ids_case_insensitive
    opts.unknown_status = args.unknown_status
    opts.null_markers_as_empty = args.null_markers_as_empty
    opts.non_utf8_encoding = args.non_utf8_encoding
    if args.max_unit_cost_to_price is not None:
        opts.max_unit_cost_to_price = args.max_unit_cost_to_price
    return opts


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = load_raw(
            args.raw_dir,
            args.database,
            args.schema,
            temp_dir=args.temp_dir,
            memory_limit=args.memory_limit,
            options=_options(args),
        )
    except LoadRefused as refused:
        print(
            f"load_raw: refused {args.raw_dir}: {len(refused.violations)} problem(s); "
            f"{args.database} was not changed.",
            file=sys.stderr,
        )
        for v in refused.violations:
            print(f"  {v.message}", file=sys.stderr)
        return 2
    except (WarehouseLocked, WarehouseNotWritable) as problem:
        print(f"load_raw: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"load_raw: interrupted; rolled back, {args.database} keeps its previous raw tables.",
            file=sys.stderr,
        )
        return 130
    except duckdb.Error as err:
        print(
            f"load_raw: load failed ({_first_line(str(err))}); nothing was committed: "
            f"{args.database} keeps its previous raw tables.",
            file=sys.stderr,
        )
        return 1
    if result.ignored:
        print(
            f"load_raw: note: ignored {', '.join(result.ignored)} (not a contract table)",
            file=sys.stderr,
        )
    width = max(len(t.name) for t in contract.TABLES)
    for m in result.manifest:
        name = str(m["table_name"])
        if m["source_file"] is None:
            print(f"{name:<{width}}  {0:>10,} rows  (no file: empty table)")
            continue
        extra = [str(c) for c in m["columns_extra"]]  # type: ignore[attr-defined]
        note = f"; extra columns: {', '.join(extra)}" if extra else ""
        encoding = m["source_encoding"]
        kind = f"{m['source_format']}, {encoding}" if encoding not in (None, "UTF-8") else ""
        print(
            f"{name:<{width}}  {m['rows_loaded']:>10,} rows  "
            f"<- {m['source_file']} ({kind or m['source_format']}){note}"
        )
    for table, file, line, reason, _ in result.quarantined:
        print(f"quarantined: {table} {file} {line}: {reason} (raw._load_quarantine)")
    for table, column, change, n in result.changes:
        print(f"changed: {table}.{column}: {change}: {n:,} rows (raw._load_changes)")
    return 0
