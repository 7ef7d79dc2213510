"""Shared pytest fixtures: warehouses built once per session from known raw data.

`fixture_warehouse` is the small committed store (tests/fixtures/store_small) built with
dbt; `make test` builds it before pytest and passes its path in DTC_TEST_WAREHOUSE, so
pytest reuses it. `demo_warehouse` is a larger generated store (planted effects), built
once per session in a temporary folder.

`make test` runs pytest in several processes (pytest-xdist, `-n 2 --dist loadfile`): a
module's tests stay in one process, and the demo store and its warehouse are still built
once per run, by whichever worker asks first (`built_once`: a file lock in the folder the
workers share), the others waiting for it and reading the same files.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

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


def dbt_env(database: Path, work: Path) -> dict[str, str]:
    """This environment with dbt pointed at database, its spill folder and serving copy under
    work (dbt build publishes its serving copy on-run-end: never the user's)."""
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(ROOT),
        DBT_DUCKDB_PATH=str(database),
        DBT_DUCKDB_TEMP_DIR=str(work / "tmp"),
        DTC_SERVING_PATH=str(work / "serving.duckdb"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    return env


def dbt_paths(work: Path) -> list[str]:
    """dbt's target and log folders under work."""
    return ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]


def build_warehouse(
    raw_dir: Path,
    database: Path,
    work: Path,
    *,
    unit_tests: bool = False,
    data_tests: bool = True,
) -> Path:
    """Load raw_dir into database and run one `dbt build`: seeds, models and data tests.

    Unit tests read only the rows they are given, never the warehouse: `make test` runs them
    once, in the fixture build, so the other warehouses skip them (unit_tests=True keeps them).
    data_tests=False skips the data tests too (seeds and models only; the contracts and their
    check constraints still hold): for a build that is only the expected side of a comparison
    whose other side runs every data test on the same rows.
    """
    env = dbt_env(database, work)
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
    skip = [] if unit_tests else ["--exclude-resource-type", "unit_test"]
    skip += [] if data_tests else ["--exclude-resource-type", "test"]
    run([str(BIN / "dbt"), "build", "--quiet", *skip, *dbt_paths(work)], env)  # seeds included
    return database


def prebuilt_fixture() -> Path | None:
    """The fixture warehouse `make test` built before pytest (DTC_TEST_WAREHOUSE), if any."""
    prebuilt = os.environ.get("DTC_TEST_WAREHOUSE")
    return Path(prebuilt) if prebuilt and Path(prebuilt).exists() else None


# Under pytest-xdist (`make test`: --dist loadfile --no-loadscope-reorder) a worker takes the
# next test file in collection order whenever it is free: the files that build whole dbt
# projects go first, slowest first (longest-first keeps the two workers' ends close); the
# demo warehouse is built by the first file that needs it while the other worker runs builds
# of its own. Order: CPU seconds per file, measured (docs/performance.md) or estimated from
# the dbt builds and parses a file runs; files not listed keep their place after these.
SLOWEST_FILES_FIRST = (
    "test_benchmark.py",
    "test_shopify_source.py",
    "test_shopify_export.py",
    "test_bad_input_downstream.py",
    "test_predictions.py",
    "test_incremental.py",
    "test_privacy.py",
    "test_margin.py",
    "test_source_freshness.py",
    "test_publish.py",
    "test_exact_money.py",
    "test_docs_site.py",
    "test_analyses.py",
    "test_generator.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist only: SLOWEST_FILES_FIRST's files first (a stable sort: tests keep
    their order inside a file). A plain `pytest` run keeps the collection order."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {name: i for i, name in enumerate(SLOWEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Path]
) -> Path:
    """build(work) run once per test run, whatever the number of pytest-xdist workers.

    Under xdist the workers share their base temp folder's parent: the first worker to ask
    builds in <shared>/<name> under an exclusive file lock, the others wait on the lock and
    get the same path (they only read it). A build that failed leaves no mark: the next
    worker builds again (and fails with its own error). Without xdist this is build(work).
    """
    base = tmp_path_factory.getbasetemp()
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return build(tmp_path_factory.mktemp(name))
    shared = base.parent
    work, done = shared / name, shared / f"{name}.built"
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return Path(done.read_text())
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        result = build(work)
        done.write_text(str(result))
        return result


def hold_read_lock(database: Path) -> subprocess.Popen[str]:
    """A process holding a read-only connection on database until its stdin closes.

    DuckDB's readers share the file lock and a writer needs it alone: while this process
    runs, a test (or a dbt command it starts) that opens the file for writing fails at once
    with DuckDB's "Could not set lock" error, instead of failing whichever reader in another
    pytest process happens to open the file during that write (a race, seen in CI).
    """
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('ready', flush=True); sys.stdin.read()",
            str(database),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready", database
    return holder


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Path of a warehouse built from tests/fixtures/store_small, read-only for the session
    (hold_read_lock): a test that writes copies it first."""
    database = prebuilt_fixture()
    if database is None:
        work = tmp_path_factory.mktemp("fixture_wh")
        database = build_warehouse(FIXTURE_RAW, work / "fixture.duckdb", work, unit_tests=True)
    holder = hold_read_lock(database)
    try:
        yield database
    finally:
        holder.communicate()


class ParsedProject(NamedTuple):
    """The project parsed once: dbt commands run with this env and these paths reuse the
    parse (dbt's partial parsing), instead of a full parse of their own (~10 CPU s each)."""

    database: Path
    env: dict[str, str]
    paths: list[str]
    manifest: dict


@pytest.fixture(scope="session")
def parsed_project(tmp_path_factory: pytest.TempPathFactory) -> ParsedProject:
    """`dbt parse` once, for the tests that read the manifest, compile or generate docs.

    The database file is named like the fixture warehouse (dbt-duckdb names relations after
    the file's stem, so SQL compiled here runs on the fixture warehouse); it is not created
    here: a test that needs the warehouse's tables copies the fixture warehouse there.
    """
    work = tmp_path_factory.mktemp("parsed_project")
    database = work / (prebuilt_fixture() or Path("fixture.duckdb")).name
    env = dbt_env(database, work)
    paths = dbt_paths(work)
    run([str(BIN / "dbt"), "parse", "--quiet", *paths], env)
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return ParsedProject(database, env, paths, manifest)


def generate_demo_store(out: Path) -> Path:
    """A generated demo store (DTC_TEST_DEMO_CUSTOMERS, default 20000) in out, as parquet."""
    customers = os.environ.get("DTC_TEST_DEMO_CUSTOMERS", "20000")
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
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw folder of a generated demo store (DTC_TEST_DEMO_CUSTOMERS, default 20000)."""
    return built_once(tmp_path_factory, "demo_raw", generate_demo_store)


@pytest.fixture(scope="session")
def demo_warehouse(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Path of a warehouse built from the generated demo store, read-only for the tests
    (hold_read_lock: both pytest-xdist workers read the one file)."""
    database = built_once(
        tmp_path_factory,
        "demo_wh",
        lambda work: build_warehouse(demo_store, work / "demo.duckdb", work),
    )
    holder = hold_read_lock(database)
    try:
        yield database
    finally:
        holder.communicate()


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
