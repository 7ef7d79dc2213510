"""Personal data: no mart exposes an email (or a column meant for one); profiles.yml is secret-free.

The raw schema keeps the exports' emails (in clear) beside the loader's salted hash of them;
dbt reads only the hashes and selects explicit columns, so nothing personal beyond
pseudonymous ids and a country reaches the marts, and the salt never reaches dbt. These
tests read the fixture warehouse built from tests/fixtures/store_small.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import yaml

from dtc_economics import loader

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


# --- the email hash: computed by the loader, so the salt never reaches dbt --------------------

SENTINEL_SALT = "Sentinel-Salt-7f3a9c"  # a value no file of the build may ever contain


def _load_customers(tmp_path: Path, emails: list[str], salt: str) -> list[tuple[str, object]]:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "orders.csv").write_text(
        "order_id,customer_id,customer_email,ordered_at\n"
        + "".join(f'O{i},C{i},"{e}",2024-01-05T10:00:00Z\n' for i, e in enumerate(emails))
    )
    (raw / "order_lines.csv").write_text(
        "order_line_id,order_id,product_id,quantity,unit_price\nL1,O0,P1,1,10\n"
    )
    (raw / "customers.csv").write_text(
        "customer_id,email\n" + "".join(f'C{i},"{e}"\n' for i, e in enumerate(emails))
    )
    db = tmp_path / "w.duckdb"
    opts = loader.default_options()
    opts.pii_salt = salt
    loader.load_raw(raw, db, options=opts)
    with duckdb.connect(str(db), read_only=True) as con:
        customers = con.execute(
            "select customer_id, email_hash from raw.customers order by customer_id"
        ).fetchall()
        orders = con.execute(
            "select customer_id, customer_email_hash from raw.orders order by customer_id"
        ).fetchall()
    assert orders == customers  # one definition for both email columns
    return customers


def test_loader_hashes_normalised_email(tmp_path: Path) -> None:
    # hand-computed with Python's hashlib: md5('a.b@x.com'); blank emails hash to null,
    # never to md5('') (formerly the dbt unit test stg_shop__customers_hashes_normalised_email)
    got = _load_customers(tmp_path, ["  A.B@X.com ", "   "], salt="")
    assert got == [("C0", "df6a161dc3014147cd96cb55bda9272e"), ("C1", None)]


def test_loader_salts_email_hash(tmp_path: Path) -> None:
    # hand-computed with hashlib: md5('pepper:a.b@x.com') (formerly the dbt unit test
    # stg_shop__customers_salts_email_hash)
    got = _load_customers(tmp_path, ["A.B@x.com"], salt="pepper")
    assert got == [("C0", "d764bb564b7cc140f9e6fe4601d6c14c")]


def test_sentinel_salt_appears_in_no_file_the_build_writes(tmp_path: Path) -> None:
    """Load, build, docs page and serving file with a sentinel DTC_PII_SALT, then grep every
    file under target/, logs/, the docs page and the serving file for it.

    The build is `make build`'s (seeds, models, data tests; its on-run-end hook writes the
    serving copy, the same `dtc_economics.publish` that `make publish` runs); unit tests read
    only their given rows, never the salt, and run once, in the fixture build."""
    import os
    import subprocess
    import sys

    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    env.update(
        DTC_PII_SALT=SENTINEL_SALT,
        PYTHONPATH=str(ROOT / "src"),
        DBT_PROFILES_DIR=str(ROOT),
        DBT_DUCKDB_PATH=str(tmp_path / "w.duckdb"),
        DBT_DUCKDB_TEMP_DIR=str(tmp_path / "tmp"),
        # dbt build publishes its serving copy (on-run-end): the file checked below
        DTC_SERVING_PATH=str(tmp_path / "serving.duckdb"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    target, logs, serving = tmp_path / "target", tmp_path / "logs", tmp_path / "serving.duckdb"
    paths = ["--target-path", str(target), "--log-path", str(logs)]
    fixture = ROOT / "tests" / "fixtures" / "store_small"
    steps = [
        [
            sys.executable,
            "scripts/load_raw.py",
            "--raw-dir",
            str(fixture),
            "--database",
            env["DBT_DUCKDB_PATH"],
        ],
        [str(bin_dir / "dbt"), "build", "--quiet", "--exclude-resource-type", "unit_test", *paths],
        [str(bin_dir / "dbt"), "docs", "generate", "--static", "--quiet", *paths],
    ]
    for cmd in steps:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{cmd}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert SENTINEL_SALT not in done.stdout + done.stderr
    files = [p for folder in (target, logs) for p in folder.rglob("*") if p.is_file()]
    files += [serving, Path(env["DBT_DUCKDB_PATH"])]
    assert serving.is_file(), "the build's on-run-end hook wrote no serving copy"
    assert (target / "static_index.html").is_file() and (target / "manifest.json").is_file()
    assert any((target / "compiled").rglob("stg_shop__orders.sql"))
    assert (logs / "dbt.log").is_file()
    needle = SENTINEL_SALT.encode()
    assert [str(p) for p in files if needle in p.read_bytes()] == []
    # and the salt was used: guest ids differ from the unsalted md5 of the email
    with duckdb.connect(str(serving), read_only=True) as con:
        guests = con.execute(
            "select count(*) from marts.dim_customers where customer_id like 'guest_%'"
        ).fetchone()[0]
    assert guests > 0
    with duckdb.connect(env["DBT_DUCKDB_PATH"], read_only=True) as con:
        salted = con.execute(
            "select customer_email_hash, md5(lower(trim(customer_email))) from raw.orders "
            "where customer_email is not null limit 1"
        ).fetchone()
    assert salted[0] != salted[1]
