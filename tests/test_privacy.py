"""Personal data: no mart exposes an email (or a column meant for one); profiles.yml is secret-free.

The raw schema keeps the exports as they are (emails in clear); staging hashes emails and
selects explicit columns, so nothing personal beyond pseudonymous ids and a country reaches
the marts. These tests read the fixture warehouse built from tests/fixtures/store_small.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
PERSONAL_COLUMN = re.compile(r"email|first_name|last_name|full_name|phone|address|birth|^ip$")
SECRET_KEY = re.compile(r"pass|secret|token|key|credential", re.IGNORECASE)


def _raw_emails(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        """select lower(trim(customer_email)) from raw.orders where customer_email is not null
        union select lower(trim(email)) from raw.customers where email is not null"""
    ).fetchall()
    return {e for (e,) in rows if e}


def _text_values(con: duckdb.DuckDBPyConnection, schema: str) -> list[tuple[str, str, str]]:
    columns = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = ? and data_type = 'VARCHAR'",
        [schema],
    ).fetchall()
    values = []
    for table, column in columns:
        sql = f'select distinct "{column}" from {schema}."{table}" where "{column}" is not null'
        values += [(table, column, v) for (v,) in con.execute(sql).fetchall()]
    return values


def test_no_mart_value_is_an_email(fixture_db: duckdb.DuckDBPyConnection) -> None:
    emails = _raw_emails(fixture_db)
    assert len(emails) > 100  # the fixture does carry emails, so the scan can fail
    values = _text_values(fixture_db, "marts")
    assert values
    assert [(t, c, v) for t, c, v in values if EMAIL.search(v)] == []
    assert [(t, c, v) for t, c, v in values if v.strip().lower() in emails] == []


def test_no_personal_column_in_marts_or_staging(fixture_db: duckdb.DuckDBPyConnection) -> None:
    columns = fixture_db.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('staging', 'intermediate', 'marts')"
    ).fetchall()
    personal = [c for c in columns if PERSONAL_COLUMN.search(c[2]) and not c[2].endswith("_hash")]
    assert personal == []
    # emails leave staging only as hashes
    hashed = [c for c in columns if c[0] == "staging" and c[2].endswith("email_hash")]
    assert len(hashed) == 2


def test_staging_hashes_every_email(fixture_db: duckdb.DuckDBPyConnection) -> None:
    values = _text_values(fixture_db, "staging") + _text_values(fixture_db, "intermediate")
    assert [(t, c, v) for t, c, v in values if EMAIL.search(v)] == []


def _leaves(node: object, path: str = "") -> list[tuple[str, object]]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _leaves(v, f"{path}.{k}")]
    return [(path, node)]


def test_profiles_hold_no_secret() -> None:
    profiles = yaml.safe_load((ROOT / "profiles.yml").read_text())
    leaves = _leaves(profiles)
    assert leaves
    secrets = [
        (path, value)
        for path, value in leaves
        if SECRET_KEY.search(path.rsplit(".", 1)[-1]) and "env_var(" not in str(value)
    ]
    assert secrets == []
    # the warehouse location itself comes from the environment
    assert any("env_var('DBT_DUCKDB_PATH'" in str(v) for _, v in leaves)
