"""Benchmark: the dbt build against its floor and a pandas peer, at several store sizes.

For each scale (customers of a generated demo store) and each run, in one process tree per
step so that wall time and peak memory (RSS of the step's whole process tree, polled with
psutil, and the kernel's ``ru_maxrss``) are measured separately:

1. ``generate`` (once per scale): ``scripts/generate_demo_store.py --format parquet``;
   ``generate_day``: the same store plus one day (``--append-day``);
2. ``load``: ``scripts/load_raw.py`` into a fresh warehouse; ``seed``: ``dbt seed``;
3. ``dbt_run`` (models) and ``dbt_test`` (data tests): the full build, as ``make build`` runs
   it (unit tests read only their given rows, whatever the store: they run in ``make test``),
   except that ``dbt run`` is given ``--vars '{publish_serving_copy: false}'`` so its
   on-run-end hook does not copy the marts into the serving file; ``publish``:
   ``scripts/publish.py`` (``make publish``), that copy timed as its own step, so the build
   figure is the dbt build's (issue 13's target) and the serving copy stays visible beside it;
4. ``floor_models`` / ``floor_tests``: the SQL dbt executed (``target/run``) replayed in one
   DuckDB connection on a copy of the warehouse taken before ``dbt run``
   (:mod:`dtc_economics.bench_floor`);
5. ``reference``: ``bench/reference_core.sql``, the core outputs in plain DuckDB SQL from
   the raw tables (:mod:`dtc_economics.bench_reference`), and ``peer``: the same core
   outputs in pandas from the raw files (:mod:`dtc_economics.bench_peer`); on the first run
   the numbers of both are compared with the marts;
6. ``load_day``, ``incremental_run``, ``incremental_test``: the one-day-later store loaded
   over the built warehouse, then ``dbt run`` (serving copy skipped, as in ``dbt_run``) /
   ``dbt test`` without ``--full-refresh`` (incremental models, when the project has them,
   process only the new data; table models rebuild);
7. ``report``: ``make report``, when the Makefile has that target.

Every step records wall seconds, CPU seconds (user + system of its whole process tree), the
CPU seconds of every process on the machine meanwhile (/proc/stat) and the 1-minute load
average just before and just after it. Four units are judged for load: the build
(``dbt_run`` + ``dbt_test``), ``publish``, ``reference`` and ``peer`` (see
:func:`busy_rule`); a run with a busy unit is flagged ``busy: true`` in results.json and
left out of the medians of results.md (the published table). Before each unit the
benchmark waits up to ``--settle-seconds`` for 5 quiet seconds (:meth:`Scale.settle`).

Seconds are medians over the quiet runs (over every run, flagged busy, when none was quiet);
ratios are computed within each run, then the median is taken. Results go to
``<out>/results.json`` and ``<out>/results.md``; generated data lives in ``--work-dir``
(git-ignored) and is deleted after each scale unless ``--keep-work``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import psutil
import pyarrow.parquet as pq

from dtc_economics import DEFAULT_MEMORY_LIMIT

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DB_NAME = "bench.duckdb"  # same file name everywhere: DuckDB names the catalog after it
DEFAULT_SCALES = (10_000, 100_000, 1_000_000)
QUICK_SCALES = (10_000,)
TARGET_SCALE = 1_000_000
RAW_TABLES = ("orders", "order_lines", "refunds", "customers")
# Money: the marts hold DECIMAL(18,4) rounded per order line (docs/decisions.md, exact money);
# the float peer is within 0.0001 per line of them (0.0005 per customer measured at 2k), so
# half a cent; a definition drift (VAT, refunds, windows) moves figures by euros.
TOLERANCE = 0.005
# the build measured is `make build`'s: data tests only (unit tests run in `make test`)
NO_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
RESULTS_VERSION = 3  # 2: reference step, load before / after, busy flags; 3: publish step
# `dbt run` of the build without its on-run-end serving copy (macro publish_serving_copy):
# the copy is timed as the step `publish` (scripts/publish.py), beside the build. Scale.dbt
# gives these vars to every dbt command of a run (the warm-up parse too), though only `dbt
# run` reads them: dbt parses the whole project again (about 13 CPU s) when --vars differ
# from the saved parse's, so `dbt run` and `dbt test` would each pay a full parse that a
# user's repeated build does not
PUBLISH_OFF = ("--vars", "{publish_serving_copy: false}")
BACKGROUND_LOAD = 0.1  # load of an idle machine's daemons, allowed on top of the cores
# cores other processes may use during a unit (measured from /proc/stat) before it is busy:
# an idle machine's daemons and this benchmark's own polling stay well below it
OTHER_CPU_LIMIT = 0.1

# the marts the peer's outputs are compared with (the floor of their lineage is the peer's
# like-for-like SQL time)
PEER_MARTS = ("dim_customers", "int_customers_value_windows", "fct_cohort_retention",
              "fct_customer_base_monthly")  # fmt: skip

# step -> what it measures (results.md legend and docs/performance.md)
STEPS: dict[str, str] = {
    "generate": "generate the demo store (parquet), once per scale",
    "generate_day": "generate the same store plus one day (--append-day), once per scale",
    "load": "scripts/load_raw.py into a fresh warehouse",
    "seed": "dbt seed",
    "dbt_run": "dbt run: every model (without the serving copy: --vars "
    "'{publish_serving_copy: false}'; timed as publish)",
    "dbt_test": "dbt test: every data test (unit tests run in make test, not in the build)",
    "build": "dbt_run + dbt_test: the full build (the serving copy excluded)",
    "publish": "scripts/publish.py (make publish): the marts copied into the serving file "
    "(DuckDB 1.5 format), which make build's on-run-end hook does at the end of dbt run",
    "floor_models": "the models' SQL from target/run replayed in one DuckDB connection",
    "floor_tests": "the tests' SQL from target/run replayed in the same connection",
    "floor": "floor_models + floor_tests",
    "floor_peer_scope": "the part of floor_models that builds the peer's outputs: "
    + ", ".join(PEER_MARTS)
    + " and every model upstream of them",
    "reference": "bench/reference_core.sql: the core outputs (customers, LTV 182/365 per "
    "cohort, retention, CAC per channel-month, first-product repeat) in plain DuckDB SQL",
    "peer": "pandas peer: customers with LTV 182/365, retention triangle, new/returning/"
    "reactivated, from the raw parquet files",
    "load_day": "scripts/load_raw.py of the store one day later, over the built warehouse",
    "incremental_run": "dbt run after one more day (no --full-refresh; no serving copy)",
    "incremental_test": "dbt test after one more day",
    "incremental": "incremental_run + incremental_test",
    "report": "make report: publish the serving file from the warehouse, render the HTML",
}
SUMS = {
    "build": ("dbt_run", "dbt_test"),
    "floor": ("floor_models", "floor_tests"),
    "incremental": ("incremental_run", "incremental_test"),
}
# ratio -> (numerator step, denominator step)
RATIOS: dict[str, tuple[str, str]] = {
    "build_over_floor": ("build", "floor"),
    "run_over_floor_models": ("dbt_run", "floor_models"),
    "test_over_floor_tests": ("dbt_test", "floor_tests"),
    "build_over_reference": ("build", "reference"),
    "peer_over_reference": ("peer", "reference"),
    "peer_over_build": ("peer", "build"),
    "peer_over_run": ("peer", "dbt_run"),
    "peer_over_floor_peer_scope": ("peer", "floor_peer_scope"),
    "incremental_over_build": ("incremental", "build"),
    "incremental_run_over_run": ("incremental_run", "dbt_run"),
}


# units judged for load (busy rule) -> their steps; the published comparison
UNITS: dict[str, tuple[str, ...]] = {
    "build": ("dbt_run", "dbt_test"),
    "publish": ("publish",),
    "reference": ("reference",),
    "peer": ("peer",),
}


def log(message: str) -> None:
    """Progress line on stderr."""
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Measuring one step
# ---------------------------------------------------------------------------------------------


@dataclass
class Measured:
    """Wall time and peak memory of one command (its whole process tree)."""

    seconds: float
    cpu_seconds: float
    peak_mb: float
    returncode: int


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        family = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in family:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total


def kernel_peak(child_maxrss: int, own_high_water: int) -> int:
    """The child's ``ru_maxrss`` when it can only be the child's own (above this process's
    high-water mark when the child was started), else 0 (measure: the polled figure)."""
    return child_maxrss if child_maxrss > own_high_water else 0


def measure(
    cmd: Sequence[str], env: dict[str, str], log_path: Path, interval: float = 0.25
) -> Measured:
    """Run cmd from the project root, output to log_path; wall seconds and peak RSS (MB).

    Peak memory is the larger of the polled sum of RSS over the process tree and the
    kernel's maximum resident set size of the child (``wait4``), so short peaks between
    two polls of a single process are not missed. The kernel's figure counts the pages the
    child held before its ``exec``, a copy of this process: once this process has grown
    (the peer comparison reads the marts into pandas), every child would report at least
    this process's own high-water mark. So the kernel's figure is used only when it is above
    that mark (then it is the child's own); otherwise the polled figure stands. The mark is
    read once the child has exited: read before the start, a few pages this process takes
    in between (Popen, the log) put an idle child above it, charged with this process's
    whole size (seen in CI: 663 MB for `python -c pass`).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        t0 = time.perf_counter()
        child = subprocess.Popen(list(cmd), cwd=ROOT, env=env, stdout=out, stderr=out)
        proc = psutil.Process(child.pid)
        peak = 0
        next_poll = 0.0
        while True:  # exit checked every 20 ms, memory polled every `interval` (cheap on CPU)
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() >= next_poll:
                peak = max(peak, _tree_rss(proc))
                next_poll = time.perf_counter() + interval
            time.sleep(0.02)
        seconds = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(status)
    own_high_water = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = max(peak, kernel_peak(usage.ru_maxrss, own_high_water) * 1024)  # KB on Linux
    return Measured(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_mb=peak / 2**20,
        returncode=child.returncode,
    )


class StepFailed(RuntimeError):
    """A benchmark step exited with an error."""


# ---------------------------------------------------------------------------------------------
# One scale
# ---------------------------------------------------------------------------------------------


@dataclass
class Settings:
    """What to run and where."""

    scales: list[int]
    runs: int
    out: Path
    work_dir: Path
    memory_limit: str
    seed: int = 42
    peer: bool = True
    floor: bool = True
    incremental: bool = True
    report: bool = True
    keep_work: bool = False
    reuse_stores: bool = False
    runs_large: int | None = None  # runs at scales >= TARGET_SCALE (None: runs)
    reference: bool = True
    settle_seconds: float = 0.0  # wait up to this long for a quiet machine before a unit

    def runs_at(self, customers: int) -> int:
        """Runs at this scale: ``runs_large`` from 1M customers up, else ``runs``."""
        if self.runs_large is not None and customers >= TARGET_SCALE:
            return self.runs_large
        return self.runs


@dataclass
class Run:
    """Measurements of one run at one scale."""

    steps: dict[str, dict[str, float]] = field(default_factory=dict)
    per_model_seconds: dict[str, float] = field(default_factory=dict)
    per_test_seconds: dict[str, float] = field(default_factory=dict)
    floor_per_model_seconds: dict[str, float] = field(default_factory=dict)
    dbt_elapsed: dict[str, float] = field(default_factory=dict)
    load_average: list[float] = field(default_factory=list)
    units: dict[str, dict[str, Any]] = field(default_factory=dict)  # busy rule per unit

    @property
    def busy(self) -> bool:
        return any(u["busy"] for u in self.units.values())


def machine_cpu_seconds() -> float | None:
    """CPU seconds every process on the machine has used since boot (Linux /proc/stat).

    user + nice + system + irq + softirq + steal: steal counts because a hypervisor's other
    guests take the cores as surely as a local process does. None where /proc/stat is absent.
    """
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if fields[0] != "cpu" or len(fields) < 9:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def busy_rule(
    load_before: float,
    load_after: float,
    cpu_seconds: float,
    seconds: float,
    cores: int,
    machine_cpu: float | None = None,
) -> dict[str, Any]:
    """Whether a unit (build, publish, reference, peer) ran on a busy machine.

    own load = cpu_seconds / seconds: the cores the unit kept busy on average.
    With ``machine_cpu`` (CPU seconds of every process on the machine during the unit, from
    /proc/stat): other load = (machine_cpu - cpu_seconds) / seconds, the cores that other
    processes used while the unit ran, measured, not estimated; busy when it exceeds
    OTHER_CPU_LIMIT. The 1-minute load average lags by about a minute, so it charges a
    unit with the benchmark's own previous step; it is kept beside as context.
    Without ``machine_cpu`` (no /proc/stat) the load-average estimate is used:
    other load = max(load before, load after - own load, 0), busy when other load >
    cores - own load + BACKGROUND_LOAD.
    """
    own = cpu_seconds / seconds if seconds > 0 else 0.0
    if machine_cpu is not None and seconds > 0:
        other = max(machine_cpu - cpu_seconds, 0.0) / seconds
        limit = OTHER_CPU_LIMIT
        source = "cpu"
    else:
        other = max(load_before, load_after - own, 0.0)
        limit = cores - own + BACKGROUND_LOAD
        source = "load_average"
    return {
        "load_before": load_before,
        "load_after": load_after,
        "own_load": round(own, 3),
        "other_load": round(other, 3),
        "limit": round(limit, 3),
        "source": source,
        "busy": other > limit,
    }


def scale_label(n: int) -> str:
    """10000 -> 10k, 1000000 -> 1M."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def parse_scale(text: str) -> int:
    """'10000', '10k', '1M' -> customers."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a scale: {text!r} (e.g. 10000, 100k, 1M)")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    value = int(float(match.group(1)) * factor)
    if value < 1:
        raise argparse.ArgumentTypeError(f"scale must be >= 1: {text!r}")
    return value


class Scale:
    """Everything measured at one store size."""

    def __init__(self, settings: Settings, customers: int) -> None:
        self.settings = settings
        self.customers = customers
        self.label = scale_label(customers)
        self.dir = settings.work_dir / self.label
        self.raw = self.dir / "raw"
        self.raw_day = self.dir / "raw_day"
        self.build_db = self.dir / "build" / DB_NAME
        self.floor_db = self.dir / "floor" / DB_NAME
        self.target = self.dir / "target"
        self.logs = self.dir / "logs"
        self.spill = self.dir / "spill"
        self.peer_out = self.dir / "peer_out"
        self.once: dict[str, dict[str, float]] = {}

    # -- commands -----------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DBT_PROFILES_DIR=str(ROOT),
            DBT_TARGET="duckdb",
            DBT_DUCKDB_PATH=str(self.build_db),
            DBT_DUCKDB_TEMP_DIR=str(self.spill),
            DBT_DUCKDB_MEMORY_LIMIT=self.settings.memory_limit,
            DBT_SEND_ANONYMOUS_USAGE_STATS="False",
            # the step publish writes this file from the bench warehouse; `make report`
            # publishes it again after the incremental run, then renders it
            DTC_SERVING_PATH=str(self.dir / "serving.duckdb"),
            PYTHONPATH=os.pathsep.join(
                p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p
            ),
        )
        return env

    def dbt(self, *args: str) -> list[str]:
        """A dbt command of this scale: its target and log folders, and the run's --vars
        (one set for every command, so each reuses the warm-up parse)."""
        paths = ["--target-path", str(self.target), "--log-path", str(self.logs)]
        return [str(BIN / "dbt"), *args, *PUBLISH_OFF, *paths]

    def python(self, *args: str) -> list[str]:
        return [sys.executable, *args]

    def step(self, name: str, cmd: Sequence[str], run: Run | None) -> Measured:
        log(f"{self.label}: {name} ...")
        load_before = os.getloadavg()[0]
        machine_before, harness_before = machine_cpu_seconds(), _own_cpu_seconds()
        measured = measure(cmd, self.env(), self.logs / f"{name}.log")
        machine_after, harness_after = machine_cpu_seconds(), _own_cpu_seconds()
        if measured.returncode != 0:
            raise StepFailed(
                f"{self.label}: {name} failed (exit {measured.returncode}); "
                f"see {self.logs / f'{name}.log'}"
            )
        log(
            f"{self.label}: {name} {measured.seconds:.1f} s (cpu {measured.cpu_seconds:.1f} s), "
            f"peak {measured.peak_mb:,.0f} MB"
        )
        record = {
            "seconds": measured.seconds,
            "cpu_seconds": measured.cpu_seconds,
            "peak_mb": measured.peak_mb,
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
        }
        if machine_before is not None and machine_after is not None:
            # every process's CPU during the step, the step's own included, this benchmark
            # process's polling excluded (busy_rule)
            record["machine_cpu_seconds"] = (machine_after - machine_before) - (
                harness_after - harness_before
            )
        if run is None:
            self.once[name] = record
        else:
            run.steps[name] = record
            run.load_average.append(record["load_after"])
        return measured

    def settle(self) -> None:
        """Wait (up to settings.settle_seconds) for a quiet machine before a unit.

        Quiet: over the last 5 seconds other processes used at most OTHER_CPU_LIMIT cores
        (/proc/stat; the benchmark itself is idle meanwhile). Without /proc/stat: the 1-minute
        load average at most cores - 1.
        """
        deadline = time.monotonic() + self.settings.settle_seconds
        while time.monotonic() < deadline:
            before = machine_cpu_seconds()
            if before is None:
                if os.getloadavg()[0] <= max((os.cpu_count() or 1) - 1, 0.5):
                    return
                time.sleep(2.0)
                continue
            time.sleep(5.0)
            after = machine_cpu_seconds()
            if after is not None and (after - before) / 5.0 <= OTHER_CPU_LIMIT:
                return

    def judge(self, run: Run) -> None:
        """The busy rule for each unit measured in this run."""
        cores = os.cpu_count() or 1
        for unit, parts in UNITS.items():
            if not all(p in run.steps for p in parts):
                continue
            first, last = run.steps[parts[0]], run.steps[parts[-1]]
            run.units[unit] = busy_rule(
                first["load_before"],
                last["load_after"],
                sum(run.steps[p]["cpu_seconds"] for p in parts),
                sum(run.steps[p]["seconds"] for p in parts),
                cores,
                machine_cpu=(
                    sum(run.steps[p]["machine_cpu_seconds"] for p in parts)
                    if all("machine_cpu_seconds" in run.steps[p] for p in parts)
                    else None
                ),
            )
            if run.units[unit]["busy"]:
                u = run.units[unit]
                log(
                    f"{self.label}: {unit} BUSY (other processes used {u['other_load']:.2f} "
                    f"cores > {u['limit']:.2f}, by {u['source']})"
                )

    # -- stores ---------------------------------------------------------------------------------

    def _generate(self, name: str, out: Path, args: list[str]) -> None:
        marker = out / ".bench.json"
        if self.settings.reuse_stores and marker.exists():
            self.once[name] = json.loads(marker.read_text(encoding="utf-8"))
            self.once[name]["reused"] = 1.0
            log(f"{self.label}: {name} reused from {out}")
            return
        shutil.rmtree(out, ignore_errors=True)
        cmd = self.python("scripts/generate_demo_store.py", *args, "--out", str(out), "--quiet")
        self.step(name, cmd, None)
        marker.write_text(json.dumps(self.once[name]), encoding="utf-8")

    def generate(self) -> None:
        seed = str(self.settings.seed)
        self._generate(
            "generate",
            self.raw,
            ["--customers", str(self.customers), "--seed", seed, "--format", "parquet"],
        )
        if self.settings.incremental:
            self._generate("generate_day", self.raw_day, ["--append-day", str(self.raw)])

    def raw_rows(self) -> dict[str, int]:
        return {t: pq.ParquetFile(self.raw / f"{t}.parquet").metadata.num_rows for t in RAW_TABLES}

    # -- one run --------------------------------------------------------------------------------

    def fresh(self) -> None:
        for folder in (self.build_db.parent, self.floor_db.parent, self.spill, self.peer_out):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)

    def parse(self) -> None:
        """Warm dbt's partial parse so that every timed invocation starts like a user's.

        A partial parse kept in the work folder (--keep-work, then --reuse-stores) may come
        from another checkout: dbt would reuse it, with that checkout's absolute seed paths
        (a moved project does not invalidate it), so it is removed first."""
        self.target.mkdir(parents=True, exist_ok=True)
        (self.target / "partial_parse.msgpack").unlink(missing_ok=True)
        self.fresh()
        measured = measure(self.dbt("parse", "--quiet"), self.env(), self.logs / "parse.log")
        if measured.returncode != 0:
            raise StepFailed(f"dbt parse failed; see {self.logs / 'parse.log'}")

    def incremental_models(self) -> list[str]:
        manifest = json.loads((self.target / "manifest.json").read_text(encoding="utf-8"))
        return sorted(
            n["name"]
            for n in manifest["nodes"].values()
            if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"
        )

    def run_once(self, index: int) -> tuple[Run, dict[str, Any]]:
        run = Run()
        self.fresh()
        load = self.python(
            "scripts/load_raw.py", "--raw-dir", str(self.raw), "--database", str(self.build_db)
        )
        self.step("load", [*load, "--temp-dir", str(self.spill)], run)
        self.step("seed", self.dbt("seed"), run)
        if self.settings.floor:
            _copy_database(self.build_db, self.floor_db)

        self.settle()
        self.step("dbt_run", self.dbt("run"), run)
        run_results = self.dir / f"run_results_run_{index}.json"
        shutil.copy(self.target / "run_results.json", run_results)
        run.per_model_seconds, run.dbt_elapsed["dbt_run"] = _node_seconds(run_results)
        self.step("dbt_test", self.dbt("test", *NO_UNIT_TESTS), run)
        test_results = self.dir / f"run_results_test_{index}.json"
        shutil.copy(self.target / "run_results.json", test_results)
        run.per_test_seconds, run.dbt_elapsed["dbt_test"] = _node_seconds(test_results)
        self.settle()
        serving = self.dir / "serving.duckdb"
        serving.unlink(missing_ok=True)  # a fresh copy, as the first `make build` writes
        publish = self.python(
            "scripts/publish.py", "--database", str(self.build_db), "--out", str(serving)
        )
        self.step("publish", publish, run)

        if self.settings.floor:
            self._floor(run, run_results, test_results)

        comparison: dict[str, Any] = {}
        if self.settings.reference:
            self.settle()
            cmd = self.python(
                "-m", "dtc_economics.bench_reference", "--database", str(self.build_db),
                "--memory-limit", self.settings.memory_limit, "--temp-dir", str(self.spill),
            )  # fmt: skip
            self.step("reference", cmd, run)
            if index == 0:
                comparison["reference"] = compare_reference(self.build_db)
                state = "equal" if comparison["reference"]["equal"] else "DIFFERENT"
                log(f"{self.label}: reference vs marts: {state}")

        if self.settings.peer:
            self.settle()
            shutil.rmtree(self.peer_out, ignore_errors=True)
            cmd = self.python(
                "-m", "dtc_economics.bench_peer", "--raw-dir", str(self.raw),
                "--out", str(self.peer_out),
            )  # fmt: skip
            self.step("peer", cmd, run)
            if index == 0:
                comparison["peer"] = compare_peer(self.peer_out, self.build_db)
                state = "identical" if comparison["peer"]["identical"] else "DIFFERENT"
                log(f"{self.label}: peer vs marts: {state}")

        self.judge(run)
        if self.settings.incremental:
            load_day = self.python(
                "scripts/load_raw.py", "--raw-dir", str(self.raw_day),
                "--database", str(self.build_db), "--temp-dir", str(self.spill),
            )  # fmt: skip
            self.step("load_day", load_day, run)
            self.step("incremental_run", self.dbt("run"), run)
            self.step("incremental_test", self.dbt("test", *NO_UNIT_TESTS), run)

        if self.settings.report and has_make_target("report"):
            (self.dir / "serving.duckdb").unlink(missing_ok=True)  # publish from this build
            self.step("report", ["make", "--no-print-directory", "report"], run)
        return run, comparison

    def _floor(self, run: Run, run_results: Path, test_results: Path) -> None:
        floor_json = self.dir / "floor.json"
        cmd = self.python(
            "-m", "dtc_economics.bench_floor",
            "--database", str(self.floor_db),
            "--target-dir", str(self.target),
            "--models-results", str(run_results),
            "--tests-results", str(test_results),
            "--memory-limit", self.settings.memory_limit,
            "--temp-dir", str(self.spill),
            "--out", str(floor_json),
        )  # fmt: skip
        measured = self.step("floor", cmd, run)
        floor = json.loads(floor_json.read_text(encoding="utf-8"))
        del run.steps["floor"]
        for part in ("models", "tests"):
            run.steps[f"floor_{part}"] = {
                "seconds": float(floor[f"{part}_seconds"]),
                "cpu_seconds": float(floor[f"{part}_cpu_seconds"]),
                "peak_mb": measured.peak_mb,
            }
        run.floor_per_model_seconds = {
            k.split(".")[-1]: float(v) for k, v in floor["per_model_seconds"].items()
        }
        manifest = json.loads((self.target / "manifest.json").read_text(encoding="utf-8"))
        scope = lineage(manifest, PEER_MARTS)
        if scope:
            run.steps["floor_peer_scope"] = {
                "seconds": sum(floor["per_model_seconds"].get(n, 0.0) for n in scope),
                "cpu_seconds": sum(floor["per_model_cpu_seconds"].get(n, 0.0) for n in scope),
                "peak_mb": measured.peak_mb,
            }
        shutil.rmtree(self.floor_db.parent, ignore_errors=True)

    def measure_all(self) -> dict[str, Any]:
        """Generate, then ``runs`` runs; the scale's entry of results.json."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.generate()
        rows = self.raw_rows()
        self.parse()
        incremental = self.incremental_models()
        runs: list[Run] = []
        comparison: dict[str, Any] = {}
        n_runs = self.settings.runs_at(self.customers)
        for index in range(n_runs):
            log(f"{self.label}: run {index + 1}/{n_runs}")
            run, compared = self.run_once(index)
            runs.append(run)
            comparison = comparison or compared
        if not self.settings.keep_work:
            shutil.rmtree(self.dir, ignore_errors=True)
        return summarise_scale(
            self.customers,
            rows,
            self.once,
            runs,
            comparison.get("peer"),
            incremental,
            comparison.get("reference"),
        )


def lineage(manifest: dict[str, Any], names: Sequence[str]) -> set[str]:
    """Model unique_ids of the named models and of every model upstream of them."""
    wanted = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["name"] in names
    }
    seen: set[str] = set()
    stack = list(wanted)
    while stack:
        uid = stack.pop()
        if uid in seen or not uid.startswith("model."):
            continue
        seen.add(uid)
        stack.extend(manifest["parent_map"].get(uid, []))
    return seen


def _copy_database(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, dest)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copy(wal, dest.with_name(dest.name + ".wal"))


def _node_seconds(run_results: Path) -> tuple[dict[str, float], float]:
    doc = json.loads(run_results.read_text(encoding="utf-8"))
    seconds = {r["unique_id"]: float(r["execution_time"]) for r in doc["results"]}
    return seconds, float(doc["elapsed_time"])


def has_make_target(name: str) -> bool:
    """Whether the project's Makefile defines ``name:`` (read, never run)."""
    makefile = ROOT / "Makefile"
    if not makefile.exists():
        return False
    pattern = re.compile(rf"^{re.escape(name)}\s*:(?!=)", re.MULTILINE)
    return bool(pattern.search(makefile.read_text(encoding="utf-8")))


# ---------------------------------------------------------------------------------------------
# Peer vs marts
# ---------------------------------------------------------------------------------------------

MART_CUSTOMERS_SQL = """
select
    d.customer_id,
    d.first_order_date,
    d.cohort_month,
    d.order_count,
    d.net_revenue,
    {ltv_source}.ltv_182d,
    {ltv_source}.ltv_365d
from marts.dim_customers as d
left join intermediate.int_customers_value_windows as w
    on d.customer_id = w.customer_id
"""

# from fct_orders / dim_customers until the cohort and customer-base marts exist
RETENTION_FROM_ORDERS_SQL = """
with activity as (
    select distinct o.customer_id, d.cohort_month, o.order_month
    from marts.fct_orders as o
    inner join marts.dim_customers as d on o.customer_id = d.customer_id
    where o.is_valid_order
),
sizes as (
    select cohort_month, count(*) as cohort_size from marts.dim_customers group by cohort_month
)
select
    a.cohort_month,
    datediff('month', a.cohort_month, a.order_month) as months_since_first_order,
    count(*) as active_customers,
    any_value(s.cohort_size) as cohort_size
from activity as a
inner join sizes as s on a.cohort_month = s.cohort_month
group by 1, 2
"""

CUSTOMER_BASE_FROM_ORDERS_SQL = """
with months as (
    select distinct customer_id, order_month from marts.fct_orders where is_valid_order
),
gaps as (
    select
        order_month,
        datediff(
            'month',
            lag(order_month) over (partition by customer_id order by order_month),
            order_month
        ) as gap
    from months
)
select
    order_month as month,
    count(*) as buyers,
    count(*) filter (where gap is null) as new_customers,
    count(*) filter (where gap <= 12) as returning_customers,
    count(*) filter (where gap > 12) as reactivated_customers
from gaps
group by 1
"""


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {r[0] for r in rows}


def _as_key(values: pd.Series) -> pd.Series:
    """Join keys comparable across pandas and DuckDB: dates as ISO text, counts as int64."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("int64")
    if pd.api.types.is_datetime64_any_dtype(values) or isinstance(
        values.dropna().iloc[0] if values.notna().any() else None, date
    ):
        return pd.to_datetime(values).dt.strftime("%Y-%m-%d")
    return values.astype("str")


def _keyed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for key in keys:
        out[key] = _as_key(out[key])
    return out.set_index(keys).sort_index()


def compare_frames(
    peer: pd.DataFrame,
    mart: pd.DataFrame,
    keys: list[str],
    columns: list[str],
    missing_is_zero: bool = False,
) -> dict[str, Any]:
    """Row sets and every column compared (money to TOLERANCE; dates and counts exactly)."""
    p, m = _keyed(peer, keys), _keyed(mart, keys)
    if missing_is_zero:  # sparse counts vs a spine: a row missing on one side counts 0
        index = p.index.union(m.index)
        p, m = p.reindex(index), m.reindex(index)
        p[columns] = p[columns].fillna(0)
        m[columns] = m[columns].fillna(0)
    only_peer = p.index.difference(m.index)
    only_mart = m.index.difference(p.index)
    both = p.index.intersection(m.index)
    mismatches: dict[str, int] = {}
    max_abs_diff: dict[str, float] = {}
    for column in columns:
        a, b = p.loc[both, column], m.loc[both, column]
        if pd.api.types.is_datetime64_any_dtype(a) or pd.api.types.is_datetime64_any_dtype(b):
            a = pd.to_datetime(a).dt.strftime("%Y-%m-%d")
            b = pd.to_datetime(b).dt.strftime("%Y-%m-%d")
            bad = (a.fillna("") != b.fillna("")).to_numpy()
        else:
            x = pd.to_numeric(a, errors="coerce").astype(float).to_numpy()
            y = pd.to_numeric(b, errors="coerce").astype(float).to_numpy()
            both_null = np.isnan(x) & np.isnan(y)
            with np.errstate(invalid="ignore"):
                diff = np.abs(x - y)
            bad = ~both_null & ~(diff <= TOLERANCE)
            finite = diff[~np.isnan(diff)]
            max_abs_diff[column] = float(finite.max()) if finite.size else 0.0
        mismatches[column] = int(bad.sum())
    identical = not len(only_peer) and not len(only_mart) and not any(mismatches.values())
    return {
        "rows_peer": len(peer),
        "rows_mart": len(mart),
        "only_peer": len(only_peer),
        "only_mart": len(only_mart),
        "mismatches": mismatches,
        "max_abs_diff": max_abs_diff,
        "identical": identical,
    }


def compare_peer(peer_dir: Path, database: Path) -> dict[str, Any]:
    """The peer's three outputs against the marts (or fct_orders where a mart is missing)."""
    peer = {n: pd.read_parquet(peer_dir / f"{n}.parquet") for n in ("customers", "retention",
                                                                     "customer_base")}  # fmt: skip
    con = duckdb.connect(str(database), read_only=True)
    try:
        dim_columns = _columns(con, "marts", "dim_customers")
        ltv_source = "d" if {"ltv_182d", "ltv_365d"} <= dim_columns else "w"
        customers = con.execute(MART_CUSTOMERS_SQL.format(ltv_source=ltv_source)).df()
        sources = {
            "customers": "marts.dim_customers"
            + ("" if ltv_source == "d" else " + intermediate.int_customers_value_windows")
        }

        retention_columns = {"cohort_month", "months_since_first_order", "cohort_size",
                             "active_customers"}  # fmt: skip
        if retention_columns <= _columns(con, "marts", "fct_cohort_retention"):
            retention = con.execute(
                "select cohort_month, months_since_first_order, cohort_size, active_customers "
                "from marts.fct_cohort_retention where active_customers is not null"
            ).df()
            sources["retention"] = "marts.fct_cohort_retention (cells with a value)"
        else:
            retention = con.execute(RETENTION_FROM_ORDERS_SQL).df()
            sources["retention"] = "marts.fct_orders + marts.dim_customers (no retention mart)"

        base_columns = {"month", "new_customers", "returning_customers", "reactivated_customers"}
        base = None
        found = _columns(con, "marts", "fct_customer_base_monthly")
        if base_columns <= found:
            segmented = {"segment_type", "segment_value"} <= found
            base = con.execute(
                "select month, new_customers, returning_customers, reactivated_customers "
                "from marts.fct_customer_base_monthly"
                + (" where segment_type = 'all' and segment_value = 'all'" if segmented else "")
            ).df()
            if base["month"].duplicated().any():  # a grain we do not know how to read
                base = None
            else:
                sources["customer_base"] = "marts.fct_customer_base_monthly" + (
                    " ('all' rows)" if segmented else ""
                )
        if base is None:
            base = con.execute(CUSTOMER_BASE_FROM_ORDERS_SQL).df()
            sources["customer_base"] = "marts.fct_orders (no one-row-per-month base mart)"
    finally:
        con.close()

    if "fct_cohort_retention" in sources["retention"]:
        # the mart's cells are complete months only; compare the peer on those cells
        keys = ["cohort_month", "months_since_first_order"]
        cells = _keyed(retention, keys).index
        peer_retention = _keyed(peer["retention"], keys)
        peer["retention"] = peer_retention[peer_retention.index.isin(cells)].reset_index()
    outputs = {
        "customers": compare_frames(
            peer["customers"],
            customers,
            ["customer_id"],
            [
                "first_order_date",
                "cohort_month",
                "order_count",
                "net_revenue",
                "ltv_182d",
                "ltv_365d",
            ],
        ),  # fmt: skip
        "retention": compare_frames(
            peer["retention"],
            retention,
            ["cohort_month", "months_since_first_order"],
            ["active_customers"],
            missing_is_zero=True,
        ),
        "customer_base": compare_frames(
            peer["customer_base"],
            base,
            ["month"],
            ["new_customers", "returning_customers", "reactivated_customers"],
            missing_is_zero=True,
        ),
    }
    for name, result in outputs.items():
        result["mart"] = sources[name]
    return {
        "identical": all(bool(o["identical"]) for o in outputs.values()),
        "outputs": outputs,
    }


def compare_reference(database: Path) -> dict[str, Any]:
    """bench/reference_core.sql's outputs against the marts (read-only, temporary tables)."""
    from dtc_economics import bench_reference

    con = duckdb.connect(str(database), read_only=True)
    try:
        bench_reference.run_reference(con)
        return bench_reference.compare_with_marts(con)
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _with_sums(steps: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    out = dict(steps)
    for total, parts in SUMS.items():
        if all(p in steps for p in parts):
            out[total] = {
                "seconds": sum(steps[p]["seconds"] for p in parts),
                "cpu_seconds": sum(steps[p]["cpu_seconds"] for p in parts),
                "peak_mb": max(steps[p]["peak_mb"] for p in parts),
            }
    return out


def summarise_scale(
    customers: int,
    rows: dict[str, int],
    once: dict[str, dict[str, float]],
    runs: list[Run],
    comparison: dict[str, Any] | None,
    incremental_models: list[str],
    reference_comparison: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Medians over the quiet runs (seconds, peak MB, within-run ratios) for one scale.

    Busy runs (busy_rule) stay in ``runs_detail`` with ``busy: true``; when every run was
    busy the medians are taken over all of them and the scale is flagged ``busy`` (results.md
    then publishes none of its figures).
    """
    all_runs = runs
    quiet = [r for r in runs if not r.busy]
    runs = quiet or runs
    per_run = [_with_sums(r.steps) for r in runs]
    steps: dict[str, dict[str, Any]] = {}
    for name, record in once.items():
        steps[name] = {
            "seconds": record["seconds"],
            "cpu_seconds": record["cpu_seconds"],
            "peak_mb": record["peak_mb"],
            "runs": [record["seconds"]],
            "reused_store": bool(record.get("reused", 0.0)),
        }
    for name in STEPS:
        seconds = [r[name]["seconds"] for r in per_run if name in r]
        if not seconds:
            continue
        steps[name] = {
            "seconds": _median(seconds),
            "cpu_seconds": _median([r[name]["cpu_seconds"] for r in per_run if name in r]),
            "peak_mb": _median([r[name]["peak_mb"] for r in per_run if name in r]),
            "runs": seconds,
        }

    def within_run(measure: str) -> dict[str, float | None]:
        return {
            ratio: _median(
                [
                    r[num][measure] / r[den][measure]
                    for r in per_run
                    if num in r and den in r and r[den][measure] > 0
                ]
            )
            for ratio, (num, den) in RATIOS.items()
        }

    def node_medians(attr: str) -> dict[str, float]:
        names = sorted({k for r in runs for k in getattr(r, attr)})
        return {
            k.split(".")[-1] if attr != "per_test_seconds" else k: _median(
                [getattr(r, attr)[k] for r in runs if k in getattr(r, attr)]
            )
            or 0.0
            for k in names
        }

    models = {k.split(".")[-1]: v for k, v in node_medians("per_model_seconds").items()}
    return {
        "customers": customers,
        "label": scale_label(customers),
        "rows": rows,
        "runs": len(all_runs),
        "steps": steps,
        "ratios": within_run("seconds"),
        "cpu_ratios": within_run("cpu_seconds"),
        "peak_mb": max((s["peak_mb"] for s in steps.values()), default=0.0),
        "incremental_models": incremental_models,
        "incremental_mode": "incremental" if incremental_models else "rebuild after one day",
        "per_model_seconds": dict(sorted(models.items(), key=lambda kv: -kv[1])),
        "floor_per_model_seconds": node_medians("floor_per_model_seconds"),
        "slowest_tests_seconds": dict(
            sorted(node_medians("per_test_seconds").items(), key=lambda kv: -kv[1])[:15]
        ),
        "dbt_elapsed_seconds": {
            k: _median([r.dbt_elapsed[k] for r in runs if k in r.dbt_elapsed])
            for k in ("dbt_run", "dbt_test")
        },
        "load_average": {
            "min": min((x for r in runs for x in r.load_average), default=None),
            "median": _median([x for r in runs for x in r.load_average]),
            "max": max((x for r in runs for x in r.load_average), default=None),
        },
        "units": {
            unit: {
                key: _median([r.units[unit][key] for r in runs if unit in r.units])
                for key in ("load_before", "load_after", "own_load", "other_load")
            }
            | {"busy_runs": sum(1 for r in all_runs if r.units.get(unit, {}).get("busy"))}
            for unit in UNITS
            if any(unit in r.units for r in runs)
        },
        "peer_comparison": comparison,
        "reference_comparison": reference_comparison,
        "busy": not quiet,
        "quiet_runs": len(quiet),
        "runs_detail": [
            {
                "run": i + 1,
                "busy": r.busy,
                "units": r.units,
                "steps": _with_sums(r.steps),
            }
            for i, r in enumerate(all_runs)
        ],
    }


def machine_info() -> dict[str, Any]:
    """Where the figures were measured."""

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu_count": os.cpu_count(),
        "cpu_physical": psutil.cpu_count(logical=False),
        "cpu_model": _cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "pandas": pd.__version__,
        "git_commit": commit or None,
    }


def _cpu_model() -> str | None:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def targets(scales: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, measured at 1M customers (or the largest scale run)."""
    if not scales:
        return []
    by_customers = {int(s["customers"]): s for s in scales}
    at = by_customers.get(TARGET_SCALE) or max(scales, key=lambda s: s["customers"])
    busy = bool(at.get("busy"))
    # figures measured on a busy machine are not held against (or for) a target
    steps: dict = {} if busy else at["steps"]
    ratios: dict = {} if busy else at["ratios"]
    cpu_ratios: dict = {} if busy else at.get("cpu_ratios", {})
    label = str(at["label"])

    def seconds(step: str) -> float | None:
        return steps[step]["seconds"] if step in steps else None

    checks: list[tuple[str, float | None, float, str, bool]] = [
        ("full dbt build (run + test) seconds", seconds("build"), 45.0, "<", True),
        (
            "build CPU s / reference script CPU s",
            cpu_ratios.get("build_over_reference"),
            4.0,
            "<=",
            True,
        ),
        (
            "peak memory of the build MB",
            max(
                (steps[s]["peak_mb"] for s in ("dbt_run", "dbt_test") if s in steps),
                default=None,
            ),
            2560.0,
            "<",
            True,
        ),
        (
            "peak memory of the incremental run MB",
            max(
                (
                    steps[s]["peak_mb"]
                    for s in ("incremental_run", "incremental_test")
                    if s in steps
                ),  # fmt: skip
                default=None,
            ),
            2560.0,
            "<",
            True,
        ),
        ("build / floor", ratios.get("build_over_floor"), 1.5, "<=", True),
        (
            "incremental (run + test) / full build",
            ratios.get("incremental_over_build"),
            0.15,
            "<",
            True,
        ),  # fmt: skip
        ("peer / build (pandas slower by)", ratios.get("peer_over_build"), 5.0, ">=", False),
    ]
    lower = [s for s in scales if int(s["customers"]) * 10 == int(at["customers"])]
    lower = [s for s in lower if not s.get("busy")]
    if lower and seconds("build") and "build" in lower[0]["steps"]:
        growth = seconds("build") / lower[0]["steps"]["build"]["seconds"]
        checks.append((f"build growth {lower[0]['label']} -> {label}", growth, 11.0, "<=", True))
    out = []
    for name, value, bound, op, _ in checks:
        met = None
        if value is not None:
            met = value < bound if op == "<" else value <= bound if op == "<=" else value >= bound
        out.append({"target": name, "scale": label, "measured": value, "op": op,
                    "bound": bound, "met": met, "busy": busy})  # fmt: skip
    reference = at.get("reference_comparison")
    if reference:
        out.append({"target": "reference script outputs equal to the marts", "scale": label,
                    "measured": None, "op": "==", "bound": None,
                    "met": bool(reference["equal"]), "busy": False})  # fmt: skip
    comparison = at.get("peer_comparison")
    if comparison:
        out.append({"target": "peer numbers identical to the marts", "scale": label,
                    "measured": None, "op": "==", "bound": None,
                    "met": bool(comparison["identical"]), "busy": False})  # fmt: skip
    return out


def _fmt_seconds(value: object) -> str:
    return "" if value is None else f"{float(value):.1f}"


def _fmt_ratio(value: object) -> str:
    return "" if value is None else f"{float(value):.2f}"


def markdown(doc: dict[str, Any]) -> str:
    """results.md: the tables the README quotes."""
    machine: dict = doc["machine"]
    every_scale: list[dict] = doc["scales"]
    # the published tables hold quiet figures only (busy_rule); busy ones stay in results.json
    scales: list[dict] = [s for s in every_scale if not s.get("busy")]
    lines: list[str] = [
        "# Benchmark results",
        "",
        f"Measured {doc['finished_at']} on {machine['cpu_count']} CPUs "
        f"({machine['cpu_model']}), {machine['memory_gb']} GB RAM; DuckDB {machine['duckdb']}, "
        f"dbt-core {machine['dbt_core']}, dbt-duckdb {machine['dbt_duckdb']}; "
        f"DuckDB memory_limit {doc['memory_limit']}; commit {machine['git_commit']}. "
        "Seconds and peak MB are medians over "
        + ", ".join(
            f"{s.get('quiet_runs', s['runs'])} quiet run(s) of {s['runs']} at {s['label']}"
            for s in every_scale
        )
        + "; ratios are computed within each run, then the median is taken. Runs on a busy "
        "machine (other processes used more than "
        f"{OTHER_CPU_LIMIT:g} core while a unit ran, measured from /proc/stat; "
        "docs/performance.md) are left out of every table below.",
        "",
        "Load average (1 min) during the runs: "
        + "; ".join(
            f"{s['label']} {s['load_average']['min']:.1f} - {s['load_average']['max']:.1f}"
            for s in every_scale
            if s["load_average"]["min"] is not None
        )
        + f" (on {machine['cpu_count']} CPUs).",
        "",
    ]
    busy = [s for s in every_scale if s.get("busy")]
    if busy:
        lines += [
            "**Not published (every run busy): "
            + ", ".join(f"{s['label']} ({s['runs']} run(s))" for s in busy)
            + ".** Their figures are in results.json, flagged `busy: true`.",
            "",
        ]
    lines += [
        "## Build vs reference script vs pandas peer",
        "",
        "Medians over the quiet runs; load = 1-minute load average just before -> just after "
        "the unit. The build is `dbt run` + `dbt test` without the serving copy; publish is "
        "that copy (scripts/publish.py, what make build's on-run-end hook does), timed on its "
        "own beside it.",
        "",
        "| customers | quiet runs | build s | build cpu s | build load | publish s "
        "| publish cpu s | publish peak MB | publish load | reference s "
        "| reference cpu s | reference load | peer s | peer cpu s | peer load "
        "| build cpu / reference cpu | reference = marts |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
        "| --- | --- | --- |",
    ]
    for s in scales:
        st, units = s["steps"], s.get("units", {})

        def unit_cells(name: str, st: dict = st, units: dict = units, peak: bool = False) -> str:
            if name not in st:
                return " | | | " if peak else " | | "
            u = units.get(name, {})
            load = (
                f"{u['load_before']:.2f} -> {u['load_after']:.2f}"
                if u.get("load_before") is not None
                else ""
            )
            mb = f"{st[name]['peak_mb']:,.0f} | " if peak else ""
            return (
                f"{_fmt_seconds(st[name]['seconds'])} | "
                f"{_fmt_seconds(st[name]['cpu_seconds'])} | {mb}{load}"
            )

        ref = s.get("reference_comparison")
        lines.append(
            f"| {s['customers']:,} | {s.get('quiet_runs', s['runs'])} of {s['runs']} "
            f"| {unit_cells('build')} | {unit_cells('publish', peak=True)} "
            f"| {unit_cells('reference')} | {unit_cells('peer')} "
            f"| {_fmt_ratio(s['cpu_ratios'].get('build_over_reference'))} "
            f"| {'' if ref is None else ('yes' if ref['equal'] else 'NO')} |"
        )
    lines += [
        "",
        "## Overview",
        "",
        "| customers | orders | lines | build s (run + test) | dbt run s | dbt test s | floor s "
        "| build / floor | peer s | peer / build | peer / same outputs' floor | incremental s "
        "| incremental / build | peak MB | peer = marts |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
        "| --- |",
    ]
    for s in scales:
        st, ra, rows = s["steps"], s["ratios"], s["rows"]

        def sec(name: str, st: dict = st) -> str:
            return _fmt_seconds(st[name]["seconds"]) if name in st else ""

        same = s["peer_comparison"]
        lines.append(
            f"| {s['customers']:,} | {rows['orders']:,} | {rows['order_lines']:,} "
            f"| {sec('build')} | {sec('dbt_run')} | {sec('dbt_test')} | {sec('floor')} "
            f"| {_fmt_ratio(ra.get('build_over_floor'))} | {sec('peer')} "
            f"| {_fmt_ratio(ra.get('peer_over_build'))} "
            f"| {_fmt_ratio(ra.get('peer_over_floor_peer_scope'))} | {sec('incremental')} "
            f"| {_fmt_ratio(ra.get('incremental_over_build'))} | {s['peak_mb']:,.0f} "
            f"| {'' if same is None else ('yes' if same['identical'] else 'NO')} |"
        )
    lines += [
        "",
        "CPU seconds (user + system of the step's processes; less sensitive to other load on "
        "the machine than wall time, but DuckDB spreads a query over every core while pandas "
        "uses one, so CPU ratios understate the wall-clock gap to the peer):",
        "",
        "| customers | build cpu s | floor cpu s | build / floor | peer cpu s | peer / build "
        "| incremental cpu s | incremental / build |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in scales:
        st, ra = s["steps"], s["cpu_ratios"]

        def cpu(name: str, st: dict = st) -> str:
            return _fmt_seconds(st[name]["cpu_seconds"]) if name in st else ""

        lines.append(
            f"| {s['customers']:,} | {cpu('build')} | {cpu('floor')} "
            f"| {_fmt_ratio(ra.get('build_over_floor'))} | {cpu('peer')} "
            f"| {_fmt_ratio(ra.get('peer_over_build'))} | {cpu('incremental')} "
            f"| {_fmt_ratio(ra.get('incremental_over_build'))} |"
        )
    lines += ["", "## Targets", "", "| target | scale | measured | bound | met |",
              "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for t in doc["targets"]:
        bound = "" if t["bound"] is None else f"{t['op']} {t['bound']:g}"
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        if t.get("busy") and t["measured"] is None and t["bound"] is not None:
            met = "not published (busy)"
        lines.append(
            f"| {t['target']} | {t['scale']} | {_fmt_ratio(t['measured'])} | {bound} | {met} |"
        )
    lines += ["", "## Steps", "",
              "| customers | step | median s | cpu s | peak MB | runs (s) |",
              "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for s in scales:
        for name, record in s["steps"].items():
            runs = ", ".join(f"{x:.1f}" for x in record["runs"])
            reused = " (store reused)" if record.get("reused_store") else ""
            lines.append(
                f"| {s['customers']:,} | {name}{reused} | {_fmt_seconds(record['seconds'])} "
                f"| {_fmt_seconds(record['cpu_seconds'])} | {record['peak_mb']:,.0f} | {runs} |"
            )
    big = max(scales, key=lambda s: s["customers"]) if scales else None
    if big:
        floor = big["floor_per_model_seconds"]
        lines += [
            "",
            # the full build's `dbt run` (run_results.json), median over the runs
            f"## Models at {big['customers']:,} customers (full `dbt run`, median over runs)",
            "",
            "| model | dbt s (run_results) | floor s |",
            "| --- | --- | --- |",
        ]
        for model, secs in big["per_model_seconds"].items():
            lines.append(f"| {model} | {secs:.2f} | {_fmt_ratio(floor.get(model))} |")
        lines += ["", f"Slowest tests at {big['customers']:,} customers:", "",
                  "| test | s |", "| --- | --- |"]  # fmt: skip
        for test, secs in big["slowest_tests_seconds"].items():
            lines.append(f"| {test.split('.', 2)[-1]} | {secs:.2f} |")
    lines += ["", "## Reference script vs marts", ""]
    for s in scales:
        ref = s.get("reference_comparison")
        if not ref:
            continue
        for name, o in ref["outputs"].items():
            bad = {k: v for k, v in o["mismatches"].items() if v}
            lines.append(
                f"- {s['customers']:,} customers, {name}: {o['rows_reference']:,} rows "
                f"(mart {o['rows_mart']:,}), only in reference {o['only_reference']}, only in "
                f"mart {o['only_mart']}, differing cells {bad or 0}"
            )
    lines += ["", "## Peer vs marts", ""]
    for s in scales:
        comparison = s["peer_comparison"]
        if not comparison:
            continue
        lines.append(f"{s['customers']:,} customers:")
        lines.append("")
        for name, o in comparison["outputs"].items():
            bad = {k: v for k, v in o["mismatches"].items() if v}
            diff = max(o["max_abs_diff"].values(), default=0.0)
            lines.append(
                f"- {name} vs {o['mart']}: {o['rows_peer']:,} rows (mart {o['rows_mart']:,}), "
                f"only in peer {o['only_peer']}, only in mart {o['only_mart']}, "
                f"mismatching cells {bad or 0}, max abs diff {diff:.2g}"
            )
        lines.append("")
    lines += ["## Steps measured", "", "| step | what |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in STEPS.items()]
    return "\n".join(lines) + "\n"


REQUIRED_KEYS: dict[str, type | tuple[type, ...]] = {
    "version": int,
    "started_at": str,
    "finished_at": str,
    "runs": int,
    "memory_limit": str,
    "machine": dict,
    "scales": list,
    "targets": list,
}
REQUIRED_SCALE_KEYS: dict[str, type | tuple[type, ...]] = {
    "customers": int,
    "label": str,
    "rows": dict,
    "runs": int,
    "steps": dict,
    "ratios": dict,
    "cpu_ratios": dict,
    "peak_mb": (int, float),
    "incremental_models": list,
    "incremental_mode": str,
    "per_model_seconds": dict,
    "load_average": dict,
    "peer_comparison": (dict, type(None)),
    "reference_comparison": (dict, type(None)),
    "busy": bool,
    "runs_detail": list,
}


def schema_problems(doc: dict[str, Any]) -> list[str]:
    """What is missing or mistyped in a results.json document (empty: valid)."""
    problems = [
        f"{key}: expected {kind}"
        for key, kind in REQUIRED_KEYS.items()
        if not isinstance(doc.get(key), kind)
    ]
    machine = doc.get("machine") or {}
    for key in ("cpu_count", "memory_gb", "duckdb", "dbt_core", "dbt_duckdb"):
        if key not in machine:
            problems.append(f"machine.{key}: missing")
    for i, scale in enumerate(doc.get("scales") or []):
        for key, kind in REQUIRED_SCALE_KEYS.items():
            if not isinstance(scale.get(key), kind):
                problems.append(f"scales[{i}].{key}: expected {kind}")
        for name, step in (scale.get("steps") or {}).items():
            if name not in STEPS:
                problems.append(f"scales[{i}].steps.{name}: unknown step")
            for key in ("seconds", "cpu_seconds", "peak_mb", "runs"):
                if key not in step:
                    problems.append(f"scales[{i}].steps.{name}.{key}: missing")
        for name in scale.get("ratios") or {}:
            if name not in RATIOS:
                problems.append(f"scales[{i}].ratios.{name}: unknown ratio")
    return problems


def write_results(doc: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    (out / "results.md").write_text(markdown(doc), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="benchmark.py",
        description="Time the dbt build against its compiled-SQL floor and a pandas peer, "
        "at several generated store sizes (no network).",
    )
    p.add_argument(
        "--scales",
        type=lambda s: [parse_scale(x) for x in s.split(",") if x.strip()],
        default=list(DEFAULT_SCALES),
        help="comma-separated customers per store, e.g. 10k,100k,1M (default)",
    )
    p.add_argument("--runs", type=int, default=3, help="runs per scale; medians reported (3)")
    p.add_argument(
        "--runs-large",
        type=int,
        default=None,
        help="runs at 1M customers and above (default: --runs); each 1M run takes minutes",
    )
    p.add_argument("--quick", action="store_true", help="smoke test: 10k customers, one run")
    p.add_argument("--out", type=Path, default=None, help="results folder (bench/results)")
    p.add_argument("--work-dir", type=Path, default=None, help="data folder (<out>/tmp)")
    p.add_argument(
        "--memory-limit",
        default=os.environ.get("DBT_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
        help=f"DuckDB memory_limit for loader, dbt and floor (default {DEFAULT_MEMORY_LIMIT}, "
        "the profile's)",
    )
    p.add_argument("--seed", type=int, default=42, help="generator seed (42)")
    p.add_argument("--no-peer", action="store_true", help="skip the pandas peer")
    p.add_argument("--no-reference", action="store_true", help="skip bench/reference_core.sql")
    p.add_argument(
        "--settle-seconds",
        type=float,
        default=60.0,
        help="before each unit, wait up to this long for 5 seconds in which other processes "
        "use at most 0.1 core (60; 0 = never wait)",
    )
    p.add_argument("--no-floor", action="store_true", help="skip the compiled-SQL floor")
    p.add_argument("--no-incremental", action="store_true", help="skip the one-day-later run")
    p.add_argument("--no-report", action="store_true", help="skip `make report`")
    p.add_argument("--keep-work", action="store_true", help="keep generated data and warehouses")
    p.add_argument(
        "--reuse-stores",
        action="store_true",
        help="reuse stores generated by an earlier --keep-work run (generation time from then)",
    )
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    scales = list(QUICK_SCALES) if args.quick else sorted(set(args.scales))
    runs = 1 if args.quick else args.runs
    runs_large = None if args.quick else args.runs_large
    if runs < 1 or (runs_large is not None and runs_large < 1):
        raise SystemExit("benchmark.py: --runs and --runs-large must be >= 1")
    out = args.out or (ROOT / "bench" / "results" / ("tmp/quick" if args.quick else ""))
    work = args.work_dir or (ROOT / "bench" / "results" / "tmp")
    return Settings(
        scales=scales,
        runs=runs,
        out=out.resolve(),
        work_dir=work.resolve(),
        memory_limit=args.memory_limit,
        seed=args.seed,
        peer=not args.no_peer,
        reference=not args.no_reference,
        settle_seconds=0.0 if args.quick else args.settle_seconds,
        floor=not args.no_floor,
        incremental=not args.no_incremental,
        report=not args.no_report,
        keep_work=args.keep_work,
        reuse_stores=args.reuse_stores,
        runs_large=runs_large,
    )


def run_benchmark(
    settings: Settings, measure_scale: Callable[[Settings, int], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Every scale in turn; results written after each scale (partial results survive)."""
    measure_scale = measure_scale or (lambda s, n: Scale(s, n).measure_all())
    doc: dict[str, Any] = {
        "version": RESULTS_VERSION,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished_at": "",
        "runs": settings.runs,
        "memory_limit": settings.memory_limit,
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()},
        "machine": machine_info(),
        "load_average_at_start": list(os.getloadavg()),
        "scales": [],
        "targets": [],
    }
    scales: list[dict[str, Any]] = doc["scales"]
    for customers in settings.scales:
        log(f"scale {scale_label(customers)}: {settings.runs_at(customers)} run(s)")
        scales.append(measure_scale(settings, customers))
        doc["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        doc["targets"] = targets(scales)
        write_results(doc, settings.out)
    return doc


def main(argv: list[str] | None = None) -> int:
    settings = settings_from(_parser().parse_args(argv))
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    try:
        doc = run_benchmark(settings)
    except StepFailed as failed:
        log(str(failed))
        return 1
    problems = schema_problems(doc)
    if problems:
        log("results.json does not match its schema: " + "; ".join(problems))
        return 1
    log(f"results: {settings.out / 'results.json'}, {settings.out / 'results.md'}")
    references = [s["reference_comparison"] for s in doc["scales"]]
    if any(r is not None and not r["equal"] for r in references):
        log("the reference script's outputs differ from the marts: see results.md")
        return 1
    busy = [s["label"] for s in doc["scales"] if s["busy"]]
    if busy:
        log(f"busy machine: every run at {', '.join(busy)} was busy; not published")
    comparisons = [s["peer_comparison"] for s in doc["scales"]]
    if any(c is not None and not c["identical"] for c in comparisons):
        log("the peer's numbers differ from the marts: see results.md")
        return 1
    return 0
