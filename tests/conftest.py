"""Shared pytest fixtures: warehouses built once per session from known raw data.

`fixture_warehouse` is the small committed store (tests/fixtures/store_small) built with
dbt; `make test` builds it before pytest and passes its path in DTC_TEST_WAREHOUSE, so
pytest reuses it. `demo_warehouse` is a larger generated store (planted effects), built
once per session in a temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_RAW = ROOT / "tests" / "fixtures" / "store_small"
BIN = Path(sys.executable).parent


def run(cmd: list[str], env: dict[str, str]) -> None:
    """Run a command from the project root; fail the test session with its output."""
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"command failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}\n{done.stderr}"
        )


def build_warehouse(raw_dir: Path, database: Path, work: Path) -> Path:
    """Load raw_dir into database and run dbt seed + build (models and tests)."""
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(ROOT),
        DBT_DUCKDB_PATH=str(database),
        DBT_DUCKDB_TEMP_DIR=str(work / "tmp"),
        # dbt build publishes its serving copy (on-run-end): keep it in the work folder
        DTC_SERVING_PATH=str(work / "serving.duckdb"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    dbt_paths = ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    run(
        [
            sys.executable,
            "scripts/load_raw.py",
            "--raw-dir",
            str(raw_dir),
            "--database",
            str(database),
        ],
        env,
    )
    run([str(BIN / "dbt"), "seed", "--quiet", *dbt_paths], env)
    run([str(BIN / "dbt"), "build", "--quiet", *dbt_paths], env)
    return database


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a warehouse built from tests/fixtures/store_small."""
    prebuilt = os.environ.get("DTC_TEST_WAREHOUSE")
    if prebuilt and Path(prebuilt).exists():
        return Path(prebuilt)
    work = tmp_path_factory.mktemp("fixture_wh")
    return build_warehouse(FIXTURE_RAW, work / "fixture.duckdb", work)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw folder of a generated demo store (DTC_TEST_DEMO_CUSTOMERS, default 20000)."""
    customers = os.environ.get("DTC_TEST_DEMO_CUSTOMERS", "20000")
    out = tmp_path_factory.mktemp("demo_raw")
    run(
        [
            sys.executable,
            "scripts/generate_demo_store.py",
            "--customers",
            customers,
            "--seed",
            "42",
            "--out",
            str(out),
            "--format",
            "parquet",
        ],
        dict(os.environ),
    )
    return out


@pytest.fixture(scope="session")
def demo_warehouse(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a warehouse built from the generated demo store."""
    work = tmp_path_factory.mktemp("demo_wh")
    return build_warehouse(demo_store, work / "demo.duckdb", work)


@pytest.fixture()
def fixture_db(fixture_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Read-only connection to the fixture warehouse."""
    con = duckdb.connect(str(fixture_warehouse), read_only=True)
    try:
        yield con
    finally:
        con.close()


@pytest.fixture()
def demo_db(demo_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Read-only connection to the demo warehouse."""
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        yield con
    finally:
        con.close()
