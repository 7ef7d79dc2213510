"""Helpers shared by the Shopify source tests (test_shopify_source, test_shopify_export).

Both convert the fixture store with scripts/contract_to_shopify.py, load it with a Shopify
loader, build it with dbt and compare every mart with a contract build; the bad-input tests
run a loader that must refuse without touching the warehouse.
"""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import duckdb
from conftest import BIN, FIXTURE_RAW, ROOT, dbt_env, dbt_paths, run

Marts = dict[str, tuple[list[str], list[tuple]]]


def shopify_env(database: Path, work: Path) -> dict[str, str]:
    env = dbt_env(database, work)
    # unsalted: the in-place build hashes emails in staging, unsalted (docs/sources/shopify.md)
    env.pop("DTC_PII_SALT", None)
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def write_csv(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def convert(out: Path, work: Path, *extra: str) -> None:
    """The fixture store converted by scripts/contract_to_shopify.py into out."""
    script = [sys.executable, "scripts/contract_to_shopify.py"]
    run(
        [*script, "--raw-dir", str(FIXTURE_RAW), "--out", str(out), *extra],
        shopify_env(work / "x.duckdb", work),
    )


def load(script: str, raw_dir: Path, database: Path, env: dict[str, str]) -> None:
    run([sys.executable, script, "--raw-dir", str(raw_dir), "--database", str(database)], env)


def dbt_build(dbt_vars: str, env: dict[str, str], work: Path) -> None:
    # one build: seeds, models and data tests (unit tests run once, in the fixture build)
    skip = ["--exclude-resource-type", "unit_test"]
    run([str(BIN / "dbt"), "build", "--quiet", "--vars", dbt_vars, *skip, *dbt_paths(work)], env)


def load_refused(script: str, raw_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run a loader expected to refuse raw_dir; it must not create the warehouse."""
    database = tmp_path / "bad.duckdb"
    done = subprocess.run(
        [sys.executable, script, "--raw-dir", str(raw_dir), "--database", str(database)],
        cwd=ROOT,
        env=shopify_env(database, tmp_path),
        capture_output=True,
        text=True,
    )
    assert not database.exists(), "a refused load must not create or change the warehouse"
    return done


def marts(database: Path) -> Marts:
    con = duckdb.connect(str(database), read_only=True)
    names = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name"
        ).fetchall()
    ]
    out = {}
    for name in names:
        rel = con.sql(f"select * from marts.{name}")
        rows = sorted(rel.fetchall(), key=lambda r: tuple((v is None, str(v)) for v in r))
        out[name] = (list(rel.columns), rows)
    con.close()
    return out


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def mart_differences(expected: Marts, got: Marts) -> list[str]:
    """Each mart of expected whose columns, row count or rows (sorted, `same` values) differ
    in got; got must hold the same marts."""
    assert sorted(got) == sorted(expected)
    problems = []
    for name, (cols, rows) in expected.items():
        got_cols, got_rows = got[name]
        if got_cols != cols:
            problems.append(f"{name}: columns {got_cols} != {cols}")
            continue
        if len(got_rows) != len(rows):
            problems.append(f"{name}: {len(got_rows)} rows != {len(rows)}")
            continue
        bad = [
            (g, e)
            for g, e in zip(got_rows, rows, strict=True)
            if not all(same(x, y) for x, y in zip(g, e, strict=True))
        ]
        if bad:
            problems.append(f"{name}: {len(bad)} rows differ, e.g. {bad[0]}")
    return problems
