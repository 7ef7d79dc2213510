"""The benchmark's floor: the project's own compiled SQL, run with no dbt in between.

After ``dbt run`` and ``dbt test``, ``target/run/`` holds the exact SQL dbt sent to DuckDB
for each node: for a model its materialisation (``create view ... as``; for a table with an
enforced contract ``create table (columns)`` + ``insert into ... select``), for a test the
query counting failures. This module replays those files in one DuckDB connection, with the
profile's settings, on a copy of the warehouse as it was before ``dbt run`` (raw + seeds):
models in dependency order (manifest.json), then every test. The only edit is the relation
name: dbt builds ``<model>__dbt_tmp`` and renames it, the floor creates ``<model>`` directly.
Python models are run from their compiled module as dbt-duckdb runs them (``model()`` then
``materialize()``); model hooks (``post_hook``) are not replayed.

What the floor leaves out is exactly dbt's overhead: start-up and parsing, the run graph,
adapter round trips (existence checks, renames, drops), contract checks and column comments
(``persist_docs``), run_results and logs.

Run as ``python -m dtc_economics.bench_floor --database COPY --target-dir TARGET
--models-results RUN.json --tests-results TEST.json --out FLOOR.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import types
from collections.abc import Iterable
from pathlib import Path

import duckdb

from dtc_economics import DEFAULT_MEMORY_LIMIT

TMP_SUFFIX = re.compile(r'__dbt_tmp"')
CREATE = re.compile(r"\bcreate\s+(table|view)\s", re.IGNORECASE)


def executed_nodes(run_results: Path) -> list[str]:
    """unique_ids dbt executed successfully in one invocation (models, tests, unit tests)."""
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    return [r["unique_id"] for r in results if r["status"] in {"success", "pass"}]


def dependency_order(manifest: dict, nodes: Iterable[str]) -> list[str]:
    """The given models sorted so that every model comes after the models it reads."""
    wanted = set(nodes)
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(node: str) -> None:
        if node in seen:
            return
        seen.add(node)
        for parent in manifest["nodes"][node]["depends_on"]["nodes"]:
            if parent in wanted:
                visit(parent)
        ordered.append(node)

    for node in sorted(wanted):
        visit(node)
    return ordered


def run_file(target_dir: Path, node: dict) -> Path:
    """Where dbt wrote the SQL it executed for a model, test or unit test."""
    base = target_dir / "run" / node["package_name"] / node["original_file_path"]
    candidates = [
        base,  # models and singular tests
        base / node["path"],  # generic tests (long names are shortened with a hash)
        base / Path(node["original_file_path"]).parent / f"{node['name']}.sql",  # unit tests
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no target/run file for {node['unique_id']} under {base}")


def model_sql(sql: str) -> str:
    """dbt's DDL for a model, creating the final relation instead of ``__dbt_tmp``."""
    final_names = TMP_SUFFIX.sub('"', sql)
    return CREATE.sub(lambda m: f"create or replace {m.group(1).lower()} ", final_names)


def run_python_model(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    """A Python model's compiled module run the way dbt-duckdb runs it (model, materialize)."""
    module = types.ModuleType(alias)
    code = model_sql(path.read_text(encoding="utf-8"))  # final relation names here too
    exec(compile(code, str(path), "exec"), module.__dict__)  # noqa: S102 - our own model

    def load_df(table_name: str) -> duckdb.DuckDBPyRelation:
        return con.query(f"select * from {table_name}")

    df = module.model(module.dbtObj(load_df), con)
    module.materialize(df, con if isinstance(df, duckdb.DuckDBPyRelation) else con.cursor())


def replay(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    target_dir: Path,
    models: list[str],
    tests: list[str],
) -> dict[str, object]:
    """Run the models then the tests; return timings and failing tests."""
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    for schema in sorted({nodes[m]["schema"] for m in models}):
        con.execute(f'create schema if not exists "{schema}"')
    per_model: dict[str, float] = {}
    per_model_cpu: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for unique_id in dependency_order(manifest, models):
        t, c = time.perf_counter(), time.process_time()
        path = run_file(target_dir, nodes[unique_id])
        if nodes[unique_id].get("language") == "python":
            run_python_model(con, path, nodes[unique_id]["alias"])
        else:
            con.execute(model_sql(path.read_text(encoding="utf-8")))
        per_model[unique_id] = time.perf_counter() - t
        per_model_cpu[unique_id] = time.process_time() - c
    models_seconds, models_cpu = time.perf_counter() - t0, time.process_time() - c0
    failing: list[str] = []
    t0, c0 = time.perf_counter(), time.process_time()
    for unique_id in tests:
        sql = run_file(target_dir, nodes[unique_id]).read_text(encoding="utf-8")
        rows = con.execute(sql).fetchall()
        if unique_id.startswith("test.") and rows and rows[0][0]:
            failing.append(unique_id)
    tests_seconds, tests_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "models_seconds": models_seconds,
        "models_cpu_seconds": models_cpu,
        "tests_seconds": tests_seconds,
        "tests_cpu_seconds": tests_cpu,
        "models": len(models),
        "tests": len(tests),
        "failing_tests": failing,
        "per_model_seconds": per_model,
        "per_model_cpu_seconds": per_model_cpu,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", type=Path, required=True, help="warehouse copy (raw + seeds)")
    p.add_argument("--target-dir", type=Path, required=True, help="dbt target folder")
    p.add_argument("--models-results", type=Path, required=True, help="run_results of dbt run")
    p.add_argument("--tests-results", type=Path, help="run_results of dbt test")
    p.add_argument(
        "--memory-limit", default=DEFAULT_MEMORY_LIMIT, help="DuckDB memory_limit (as the profile)"
    )
    p.add_argument("--temp-dir", type=Path, help="DuckDB temp_directory (as the profile)")
    p.add_argument("--out", type=Path, required=True, help="JSON file for the timings")
    args = p.parse_args(argv)

    manifest = json.loads((args.target_dir / "manifest.json").read_text(encoding="utf-8"))
    models = [n for n in executed_nodes(args.models_results) if n.startswith("model.")]
    # tests and unit tests; on-run-end hooks (operation.*) are dbt's, not the project's SQL
    tests = [
        n
        for n in (executed_nodes(args.tests_results) if args.tests_results else [])
        if n.startswith(("test.", "unit_test."))
    ]
    con = duckdb.connect(str(args.database))
    try:
        con.execute(f"set memory_limit = '{args.memory_limit}'")
        if args.temp_dir:
            con.execute(f"set temp_directory = '{args.temp_dir}'")
        con.execute("set TimeZone = 'UTC'")
        result = replay(con, manifest, args.target_dir, models, tests)
    finally:
        con.close()
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(
        f"floor: {result['models']} models {result['models_seconds']:.1f} s, "
        f"{result['tests']} tests {result['tests_seconds']:.1f} s",
        file=sys.stderr,
    )
    return 1 if result["failing_tests"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
