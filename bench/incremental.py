"""Incremental vs full-refresh build of the marts on one store plus one appended day.

    python bench/incremental.py --base warehouse/demo_raw --work warehouse/bench

generates ``--base`` + one day with ``--append-day`` (unless ``--day1`` is given), then in a
fresh warehouse: load the base, ``dbt seed`` + ``dbt run --full-refresh`` (the state before
the day arrives; timed), load the day, incremental ``dbt run`` (timed), a second incremental
``dbt run`` (timed: nothing left to do), snapshot the marts, ``dbt run --full-refresh`` on
the same data (timed), compare every marts table with the snapshot (joined on its
primary key; doubles equal within 1e-6 + 1e-9 x magnitude, see ``compare``), then
``--repeat`` more incremental / full-refresh pairs (timed) because a shared machine makes
single timings noisy. Each dbt command is timed in wall-clock and CPU seconds (user + sys of
the dbt process and its threads). Prints a markdown table and writes the figures as JSON
next to the warehouse.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
INCREMENTAL = ("fct_orders", "fct_order_lines")


def sh(cmd: list[str], env: dict[str, str]) -> float:
    """Run a command; return its wall-clock seconds."""
    return timed(cmd, env)["wall_s"]


def timed(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run a command; return its wall-clock and CPU (user + sys) seconds."""
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "load": round(os.getloadavg()[0], 1)}


def model_timings(target: Path) -> dict[str, float]:
    results = json.loads((target / "run_results.json").read_text())
    return {
        r["unique_id"].split(".")[-1]: round(r["execution_time"], 1)
        for r in results["results"]
        if r["unique_id"].startswith("model.")
    }


def max_rowids(database: Path) -> dict[str, int]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        sql = "select max(rowid) from marts.{}"
        return {t: con.execute(sql.format(t)).fetchone()[0] for t in INCREMENTAL}
    finally:
        con.close()


def rows_appended(database: Path, before: dict[str, int]) -> dict[str, int]:
    """Rows written by delete+insert (new rowids beyond the previous maximum)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {
            t: con.execute(f"select count(*) from marts.{t} where rowid > ?", [m]).fetchone()[0]
            for t, m in before.items()
        }
    finally:
        con.close()


def snapshot(database: Path) -> list[str]:
    con = duckdb.connect(str(database))
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        con.execute("create schema if not exists bench_snapshot")
        for t in tables:
            con.execute(f"create or replace table bench_snapshot.{t} as select * from marts.{t}")
        return tables
    finally:
        con.close()


# Equal within rounding, as the PostgreSQL and Spark equivalence tests: DuckDB sums doubles in
# parallel in no fixed order, so totals of 1e7-1e8 EUR differ from one build to the next of the
# SAME inputs beyond the 6th decimal (measured at 1M customers). Differences are counted with
# this tolerance; exact differences are reported beside them, for transparency.
ATOL, RTOL = 1e-6, 1e-9


def primary_key(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    row = con.execute(
        "select constraint_column_names from duckdb_constraints() where schema_name = 'marts' "
        "and table_name = ? and constraint_type = 'PRIMARY KEY'",
        [table],
    ).fetchone()
    return list(row[0]) if row else []


def compare(database: Path, tables: list[str]) -> dict[str, dict[str, int]]:
    """Each mart against its snapshot: rows only on one side, and rows whose values differ
    beyond ATOL + RTOL x magnitude (doubles) or at all (other types). Tables with a primary
    key are joined on it; the others are compared as multisets (doubles rounded to 6
    decimals), which is exact-ish and may over-count float noise."""
    con = duckdb.connect(str(database))
    out = {}
    try:
        for t in tables:
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [t],
            ).fetchall()
            rows = con.execute(f"select count(*) from marts.{t}").fetchone()[0]
            exact = ", ".join(f'"{c}"' for c, _ in cols)
            a, b = f"select {exact} from marts.{t}", f"select {exact} from bench_snapshot.{t}"
            exact_diff = con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
            key = primary_key(con, t)
            if key:
                on = " and ".join(f'f."{k}" is not distinct from s."{k}"' for k in key)
                differs = []
                for c, d in cols:
                    if c in key:
                        continue
                    if d == "DOUBLE":
                        differs.append(
                            f'(f."{c}" is null) <> (s."{c}" is null) or abs(f."{c}" - s."{c}") '
                            f'> {ATOL} + {RTOL} * greatest(abs(f."{c}"), abs(s."{c}"))'
                        )
                    else:
                        differs.append(f'f."{c}" is distinct from s."{c}"')
                sql = (
                    f"select count(*) filter (where f._side is null) as only_snapshot, "
                    f"count(*) filter (where s._side is null) as only_full, "
                    f"count(*) filter (where f._side is not null and s._side is not null "
                    f"and ({' or '.join(differs) or 'false'})) as differing "
                    f"from (select 1 as _side, * from marts.{t}) f "
                    f"full outer join (select 1 as _side, * from bench_snapshot.{t}) s on {on}"
                )
                only_incr, only_full, differing = con.execute(sql).fetchone()
            else:
                r6 = ", ".join(f'round("{c}", 6)' if d == "DOUBLE" else f'"{c}"' for c, d in cols)
                a6, b6 = f"select {r6} from marts.{t}", f"select {r6} from bench_snapshot.{t}"
                only_full = con.execute(f"select count(*) from ({a6} except all {b6})").fetchone()[
                    0
                ]
                only_incr = con.execute(f"select count(*) from ({b6} except all {a6})").fetchone()[
                    0
                ]
                differing = 0
            out[t] = {
                "rows": rows,
                "key": key,
                "only_in_full_refresh": only_full,
                "only_in_incremental": only_incr,
                "differing_beyond_tolerance": differing,
                "rows_not_bit_identical": exact_diff,
            }
        con.execute("drop schema bench_snapshot cascade")
    finally:
        con.close()
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", type=Path, required=True, help="raw store before the new day")
    p.add_argument("--day1", type=Path, help="the same store plus one day (default: generated)")
    p.add_argument("--work", type=Path, required=True, help="folder for the warehouse and logs")
    p.add_argument("--seed", default="42")
    p.add_argument("--repeat", type=int, default=0, help="extra incremental / full pairs")
    p.add_argument("--select", nargs="*", default=[], help="dbt --select (default: all)")
    args = p.parse_args()

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    day1 = args.day1
    if day1 is None:
        day1 = work / "day1_raw"
        if not day1.exists():
            gen = [sys.executable, "scripts/generate_demo_store.py", "--append-day"]
            gen += [str(args.base), "--out", str(day1), "--seed", args.seed, "--quiet"]
            sh(gen, dict(os.environ))
    database = work / "bench.duckdb"
    for leftover in (database, work / "bench.duckdb.wal"):
        leftover.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(ROOT),
        DBT_DUCKDB_PATH=str(database),
        DBT_DUCKDB_TEMP_DIR=str(work / "tmp"),
        # dbt build publishes its serving copy (on-run-end): keep it in the work folder
        DTC_SERVING_PATH=str(work / "serving.duckdb"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    target = work / "target"
    dbt = [str(BIN / "dbt")]
    common = ["--quiet", "--target-path", str(target), "--log-path", str(work / "logs")]
    load = [sys.executable, "scripts/load_raw.py", "--database", str(database), "--raw-dir"]

    selection = ["--select", *args.select] if args.select else []
    run_ = [*dbt, "run", *selection, *common]
    full_ = [*dbt, "run", "--full-refresh", *selection, *common]
    figures: dict[str, object] = {"select": args.select}
    figures["load_base_s"] = round(sh([*load, str(args.base)], env), 1)
    sh([*dbt, "seed", *common], env)  # seeds are not part of the timed runs
    figures["initial_full_build"] = timed(full_, env)
    figures["load_day1_s"] = round(sh([*load, str(day1)], env), 1)
    before = max_rowids(database)
    incremental = [timed(run_, env)]
    figures["incremental_models_s"] = model_timings(target)
    figures["incremental_rows_written"] = rows_appended(database, before)
    before = max_rowids(database)
    incremental.append(timed(run_, env))
    figures["second_incremental_models_s"] = model_timings(target)
    figures["second_incremental_rows_written"] = rows_appended(database, before)
    tables = snapshot(database)
    full = [timed(full_, env)]
    figures["full_refresh_models_s"] = model_timings(target)
    figures["comparison"] = compare(database, tables)
    for _ in range(args.repeat):
        incremental.append(timed(run_, env))
        full.append(timed(full_, env))
    figures["incremental_runs"] = incremental
    figures["full_refresh_runs"] = full
    for name, runs in (("incremental", incremental), ("full_refresh", full)):
        for unit in ("wall_s", "cpu_s"):
            figures[f"{name}_median_{unit}"] = statistics.median(r[unit] for r in runs)

    out = work / "figures.json"
    out.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    print("\n| model | incremental (s) | full refresh (s) |\n| --- | --- | --- |")
    for m, secs in figures["incremental_models_s"].items():
        print(f"| {m} | {secs} | {figures['full_refresh_models_s'].get(m)} |")
    for unit in ("wall_s", "cpu_s"):
        a, b = figures[f"incremental_median_{unit}"], figures[f"full_refresh_median_{unit}"]
        print(f"| **dbt run, median {unit}** | {a} | {b} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
