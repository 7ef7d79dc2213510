"""The benchmark (scripts/benchmark.py): its pieces on a tiny store, and its pandas peer,
written from the definitions, as a second independent check of the marts.

No timing is asserted: timings belong in bench/results, not in tests.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dtc_economics import bench_floor, bench_peer, benchmark


def test_profile_sets_spill_settings_once_per_connection():
    """dbt-duckdb re-applies `settings` on every cursor, and DuckDB refuses to set
    temp_directory again after a spill ("Cannot switch temporary directory"): the model
    after the first spill failed at 1M customers. Connection config is set once."""
    root = Path(__file__).resolve().parents[1]
    profile = yaml.safe_load((root / "profiles.yml").read_text(encoding="utf-8"))
    output = profile["dtc_economics"]["outputs"]["duckdb"]
    assert "temp_directory" in output["config_options"]
    assert "temp_directory" not in (output.get("settings") or {})


def test_scales_accept_suffixes():
    assert [benchmark.parse_scale(s) for s in ("2000", "10k", "1M", "1.5M")] == [
        2_000,
        10_000,
        1_000_000,
        1_500_000,
    ]
    assert benchmark.scale_label(100_000) == "100k"
    with pytest.raises(Exception, match="not a scale"):
        benchmark.parse_scale("ten")


def test_runs_large_applies_from_one_million_customers():
    argv = ["--scales", "10k,1M", "--runs", "3", "--runs-large", "1"]
    args = benchmark._parser().parse_args(argv)
    settings = benchmark.settings_from(args)
    assert [settings.runs_at(n) for n in settings.scales] == [3, 1]
    default = benchmark.settings_from(benchmark._parser().parse_args(["--runs", "2"]))
    assert [default.runs_at(n) for n in (10_000, 1_000_000)] == [2, 2]


def test_measure_sees_the_peak_memory_of_a_child(tmp_path):
    code = "import time; b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); "
    code += "time.sleep(0.3)"
    measured = benchmark.measure([sys.executable, "-c", code], {}, tmp_path / "m.log")
    assert measured.returncode == 0
    assert measured.peak_mb >= 300
    assert measured.seconds >= 0.3


def test_measure_does_not_charge_a_child_with_this_process_s_memory(tmp_path):
    """A child reports the parent's high-water mark in ru_maxrss (its pages before exec):
    after this process grew by 400 MB, a child that allocates nothing still measures small."""
    ballast = bytearray(400 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page: resident
    cmd = [sys.executable, "-c", "pass"]
    measured = benchmark.measure(cmd, {}, tmp_path / "log.txt")
    assert measured.peak_mb < 200, measured.peak_mb
    del ballast


def test_kernel_peak_counts_only_what_exceeds_this_process_s_mark():
    assert benchmark.kernel_peak(3_000_000, 1_000_000) == 3_000_000
    assert benchmark.kernel_peak(1_000_000, 1_000_000) == 0
    assert benchmark.kernel_peak(500_000, 1_000_000) == 0


def test_compare_frames_reports_every_kind_of_difference():
    peer = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "net_revenue": [10.0, 20.0, None], "n": [1, 2, 3]}
    )
    same = benchmark.compare_frames(peer, peer.copy(), ["customer_id"], ["net_revenue", "n"])
    assert same["identical"]
    mart = pd.DataFrame(
        {"customer_id": ["a", "b", "d"], "net_revenue": [10.0, 20.01, 5.0], "n": [1, 2, 9]}
    )
    diff = benchmark.compare_frames(peer, mart, ["customer_id"], ["net_revenue", "n"])
    assert not diff["identical"]
    assert (diff["only_peer"], diff["only_mart"]) == (1, 1)
    assert diff["mismatches"] == {"net_revenue": 1, "n": 0}
    assert diff["max_abs_diff"]["net_revenue"] == pytest.approx(0.01)
    # a float-summation difference below the tolerance is not a difference
    close = mart.assign(net_revenue=[10.0 + 1e-9, 20.0, 5.0])
    assert benchmark.compare_frames(peer, close, ["customer_id"], ["net_revenue"])[
        "mismatches"
    ] == {"net_revenue": 0}


def test_sparse_triangles_compare_missing_cells_as_zero():
    keys = ["cohort_month", "months_since_first_order"]
    peer = pd.DataFrame(
        {
            "cohort_month": pd.to_datetime(["2024-01-01", "2024-01-01"]),
            "months_since_first_order": [0, 2],
            "active_customers": [5, 1],
        }
    )
    spine = pd.DataFrame(
        {
            "cohort_month": [pd.Timestamp("2024-01-01").date()] * 3,
            "months_since_first_order": [0, 1, 2],
            "active_customers": [5, 0, 1],
        }
    )
    same = benchmark.compare_frames(peer, spine, keys, ["active_customers"], missing_is_zero=True)
    assert same["identical"]
    spine.loc[1, "active_customers"] = 1
    diff = benchmark.compare_frames(peer, spine, keys, ["active_customers"], missing_is_zero=True)
    assert not diff["identical"]


def test_floor_creates_the_final_relations():
    sql = (
        'create  table\n  "bench"."marts"."fct_orders__dbt_tmp"\n (order_id varchar);\n'
        'insert into "bench"."marts"."fct_orders__dbt_tmp" (order_id) (select 1);\n'
        'create view "bench"."staging"."stg__dbt_tmp" as (select 1)'
    )
    out = bench_floor.model_sql(sql)
    assert "__dbt_tmp" not in out
    assert out.count("create or replace table") == 1
    assert out.count("create or replace view") == 1
    manifest = {
        "nodes": {
            "model.p.c": {"depends_on": {"nodes": ["model.p.b", "seed.p.s"]}},
            "model.p.b": {"depends_on": {"nodes": ["model.p.a"]}},
            "model.p.a": {"depends_on": {"nodes": []}},
        }
    }
    assert bench_floor.dependency_order(manifest, ["model.p.c", "model.p.a", "model.p.b"]) == [
        "model.p.a",
        "model.p.b",
        "model.p.c",
    ]


def test_lineage_is_the_models_upstream_of_the_named_ones():
    manifest = {
        "nodes": {
            "model.p.mart": {"resource_type": "model", "name": "mart"},
            "model.p.int": {"resource_type": "model", "name": "int"},
            "model.p.stg": {"resource_type": "model", "name": "stg"},
            "model.p.other": {"resource_type": "model", "name": "other"},
        },
        "parent_map": {
            "model.p.mart": ["model.p.int", "seed.p.s"],
            "model.p.int": ["model.p.stg"],
            "model.p.stg": ["source.p.raw.t"],
            "model.p.other": ["model.p.stg"],
        },
    }
    assert benchmark.lineage(manifest, ["mart", "absent"]) == {
        "model.p.mart",
        "model.p.int",
        "model.p.stg",
    }


def _scale(customers: int, build: float, **ratios: float) -> dict:
    return {
        "customers": customers,
        "label": benchmark.scale_label(customers),
        "steps": {
            "build": {"seconds": build, "peak_mb": 1000.0},
            "dbt_run": {"seconds": build / 2, "peak_mb": 3500.0},
        },
        "ratios": ratios,
        "peer_comparison": {"identical": True},
    }


def test_targets_are_read_at_one_million_customers():
    scales = [
        _scale(100_000, 5.0),
        _scale(1_000_000, 70.0, build_over_floor=1.2, peer_over_build=6.0),
    ]
    met = {t["target"]: t["met"] for t in benchmark.targets(scales)}
    assert met["full dbt build (run + test) seconds"] is False  # 70 s
    assert met["peak memory of the build MB"] is False  # 3.5 GB
    assert met["build / floor"] is True
    assert met["peer / build (pandas slower by)"] is True
    assert met["build growth 100k -> 1M"] is False  # 14x
    assert met["incremental (run + test) / full build"] is None  # not measured
    assert met["peak memory of the incremental run MB"] is None  # not measured
    assert met["peer numbers identical to the marts"] is True


def test_quick_pieces_on_a_tiny_store(tmp_path):
    """The whole quick pipeline but the one-day-later run, on 2k customers."""
    settings = benchmark.Settings(
        scales=[2_000],
        runs=1,
        out=tmp_path / "results",
        work_dir=tmp_path / "work",
        memory_limit="1GB",
        incremental=False,
        report=False,
    )
    doc = benchmark.run_benchmark(settings)
    written = json.loads((settings.out / "results.json").read_text(encoding="utf-8"))
    assert benchmark.schema_problems(written) == []
    assert (settings.out / "results.md").read_text(encoding="utf-8").startswith("# Benchmark")

    scale = written["scales"][0]
    steps = ("generate", "load", "seed", "dbt_run", "dbt_test", "build", "publish", "floor", "peer")
    for step in steps:
        assert scale["steps"][step]["seconds"] > 0, step
        assert scale["steps"][step]["peak_mb"] > 0, step
    assert scale["rows"]["orders"] > 2_000
    assert scale["ratios"]["build_over_floor"] > 0
    assert "fct_orders" in scale["per_model_seconds"]
    assert "fct_orders" in scale["floor_per_model_seconds"]
    assert not (settings.work_dir / "2k").exists(), "generated data left behind"

    comparison = doc["scales"][0]["peer_comparison"]
    for name, output in comparison["outputs"].items():
        assert output["rows_peer"] > 0, name
        assert output["identical"], (name, output)
    # the reference script ran as its own step and equals the marts
    assert scale["steps"]["reference"]["seconds"] > 0
    assert scale["steps"]["reference"]["cpu_seconds"] > 0
    reference = doc["scales"][0]["reference_comparison"]
    assert reference["equal"], reference
    assert all(o["rows_reference"] > 0 for o in reference["outputs"].values())
    # every timed unit was judged for load, and the loads are recorded beside the figures
    assert set(written["scales"][0]["units"]) == {"build", "publish", "reference", "peer"}
    run = written["scales"][0]["runs_detail"][0]
    assert isinstance(run["busy"], bool)
    assert run["steps"]["dbt_run"]["load_before"] >= 0
    # the machine's CPU during the step includes the step's own (busy_rule, /proc/stat)
    if benchmark.machine_cpu_seconds() is not None:
        dbt_run = run["steps"]["dbt_run"]
        assert dbt_run["machine_cpu_seconds"] >= 0.9 * dbt_run["cpu_seconds"]
        assert run["units"]["build"]["source"] == "cpu"


def test_peer_equals_the_marts_on_the_demo_store(demo_store, demo_warehouse, tmp_path):
    outputs = bench_peer.compute(Path(demo_store))
    for name, frame in outputs.items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    comparison = benchmark.compare_peer(tmp_path, demo_warehouse)
    for name, output in comparison["outputs"].items():
        assert output["identical"], (name, output)
    # the comparison covers the cases that make the numbers hard
    customers = outputs["customers"]
    assert customers["ltv_365d"].isna().any() and customers["ltv_365d"].notna().any()
    assert (outputs["customer_base"]["reactivated_customers"] > 0).any()


def test_busy_rule_compares_other_load_with_the_cores_left():
    # 2 cores, the unit kept one busy (10 CPU s in 10 s): others may use one core
    quiet = benchmark.busy_rule(0.2, 1.1, cpu_seconds=10.0, seconds=10.0, cores=2)
    assert (quiet["own_load"], quiet["other_load"], quiet["busy"]) == (1.0, 0.2, False)
    # a load of 3 before the unit: other processes wanted more than the free core
    assert benchmark.busy_rule(3.0, 3.5, 10.0, 10.0, 2)["busy"]
    # quiet before, but the load after exceeds what the unit itself explains
    assert benchmark.busy_rule(0.5, 2.9, 10.0, 10.0, 2)["busy"]
    # a unit using both cores leaves room for background daemons only
    assert not benchmark.busy_rule(0.05, 2.0, 20.0, 10.0, 2)["busy"]
    assert benchmark.busy_rule(0.5, 2.0, 20.0, 10.0, 2)["busy"]


def test_busy_rule_measures_other_processes_cpu_when_proc_stat_is_there():
    # 2 cores, the build kept 1.8 of them busy; the machine as a whole used 18.5 CPU s in
    # the same 10 s, so others used 0.05 core: quiet, whatever the lagging load average says
    quiet = benchmark.busy_rule(1.0, 1.9, 18.0, 10.0, 2, machine_cpu=18.5)
    assert (quiet["other_load"], quiet["source"], quiet["busy"]) == (0.05, "cpu", False)
    # the same load averages, but others used 3 CPU s in 10 s (0.3 core): busy
    busy = benchmark.busy_rule(1.0, 1.9, 18.0, 10.0, 2, machine_cpu=21.0)
    assert (busy["other_load"], busy["busy"]) == (0.3, True)
    # without /proc/stat the load-average estimate judges (1.0 > 2 - 1.8 + 0.1)
    fallback = benchmark.busy_rule(1.0, 1.9, 18.0, 10.0, 2)
    assert (fallback["source"], fallback["busy"]) == ("load_average", True)


def test_machine_cpu_seconds_counts_a_busy_loop():
    before = benchmark.machine_cpu_seconds()
    if before is None:
        pytest.skip("no /proc/stat on this system")
    t0 = time.process_time()
    while time.process_time() - t0 < 0.5:  # half a CPU second in this process
        pass
    after = benchmark.machine_cpu_seconds()
    assert after is not None
    assert after - before >= 0.45  # the loop, at 1/CLK_TCK resolution, plus the rest


def _run(seconds: float, busy: bool) -> benchmark.Run:
    run = benchmark.Run()
    for name in ("dbt_run", "dbt_test", "publish", "reference", "peer"):
        run.steps[name] = {"seconds": seconds, "cpu_seconds": seconds, "peak_mb": 100.0,
                           "load_before": 0.1, "load_after": 1.0}  # fmt: skip
    for unit in benchmark.UNITS:
        run.units[unit] = {"load_before": 0.1, "load_after": 1.0, "own_load": 1.0,
                           "other_load": 3.0 if busy else 0.1, "busy": busy}  # fmt: skip
    return run


def test_busy_runs_stay_out_of_the_published_table(tmp_path):
    rows = {t: 1 for t in benchmark.RAW_TABLES}
    mixed = benchmark.summarise_scale(
        10_000, rows, {}, [_run(10.0, False), _run(99.0, True), _run(12.0, False)], None, []
    )
    assert mixed["busy"] is False and mixed["quiet_runs"] == 2
    assert mixed["steps"]["build"]["seconds"] == 22.0  # median of the quiet runs (20, 24)
    assert [r["busy"] for r in mixed["runs_detail"]] == [False, True, False]
    assert mixed["runs_detail"][1]["steps"]["build"]["seconds"] == 198.0  # kept, flagged

    busy = benchmark.summarise_scale(100_000, rows, {}, [_run(77.7, True)], None, [])
    assert busy["busy"] is True and busy["quiet_runs"] == 0
    doc = {
        "version": benchmark.RESULTS_VERSION,
        "started_at": "t0",
        "finished_at": "t1",
        "runs": 1,
        "memory_limit": "1GB",
        "machine": {
            "cpu_count": 2,
            "cpu_model": "x",
            "memory_gb": 1,
            "duckdb": "1",
            "dbt_core": "1",
            "dbt_duckdb": "1",
            "git_commit": "abc",
        },  # fmt: skip
        "scales": [mixed, busy],
        "targets": benchmark.targets([mixed, busy]),
    }
    assert benchmark.schema_problems(doc) == []
    text = benchmark.markdown(doc)
    assert "22.0" in text  # the quiet scale is published
    assert "155.4" not in text and "77.7" not in text  # the busy one is not (2 x 77.7)
    assert "Not published (every run busy): 100k" in text
    target = {t["target"]: t for t in doc["targets"]}["full dbt build (run + test) seconds"]
    assert target["measured"] is None and target["busy"] is True


def test_publish_is_timed_beside_the_build_not_inside_it(tmp_path):
    """results.md shows the serving copy as its own unit next to the build (wall, CPU s,
    peak MB, load), and the build figure is dbt run + dbt test only."""
    run = benchmark.Run()
    figures = {"dbt_run": (30.0, 50.0), "dbt_test": (10.0, 15.0), "publish": (7.0, 3.0),
               "reference": (5.0, 9.0)}  # fmt: skip
    for name, (seconds, cpu) in figures.items():
        run.steps[name] = {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": 512.0,
                           "load_before": 0.25, "load_after": 0.75}  # fmt: skip
    run.steps["publish"]["peak_mb"] = 321.0
    for unit in ("build", "publish", "reference"):
        run.units[unit] = {"load_before": 0.25, "load_after": 0.75, "own_load": 1.0,
                           "other_load": 0.25, "busy": False}  # fmt: skip
    rows = {t: 1 for t in benchmark.RAW_TABLES}
    scale = benchmark.summarise_scale(10_000, rows, {}, [run], None, [])
    assert scale["steps"]["build"]["seconds"] == 40.0  # 30 + 10: the publish's 7 s left out
    assert scale["steps"]["build"]["cpu_seconds"] == 65.0
    assert scale["steps"]["publish"]["seconds"] == 7.0
    assert scale["cpu_ratios"]["build_over_reference"] == 65.0 / 9.0
    assert "publish" in scale["units"]
    doc = {
        "version": benchmark.RESULTS_VERSION, "started_at": "t0", "finished_at": "t1",
        "runs": 1, "memory_limit": "1GB", "scales": [scale],
        "machine": {"cpu_count": 2, "cpu_model": "x", "memory_gb": 1, "duckdb": "1",
                    "dbt_core": "1", "dbt_duckdb": "1", "git_commit": "abc"},
        "targets": benchmark.targets([scale]),
    }  # fmt: skip
    assert benchmark.schema_problems(doc) == []
    text = benchmark.markdown(doc)
    header = next(line for line in text.splitlines() if line.startswith("| customers | quiet"))
    row = next(line for line in text.splitlines() if line.startswith("| 10,000 | 1 of 1 "))
    cells = dict(
        zip(
            [c.strip() for c in header.strip("|").split("|")],
            [c.strip() for c in row.strip("|").split("|")],
            strict=True,
        )
    )
    assert cells["build s"] == "40.0" and cells["build cpu s"] == "65.0"
    assert cells["publish s"] == "7.0" and cells["publish cpu s"] == "3.0"
    assert cells["publish peak MB"] == "321" and cells["publish load"] == "0.25 -> 0.75"
    assert cells["reference s"] == "5.0" and cells["peer s"] == ""  # peer not measured
    assert cells["build cpu / reference cpu"] == "7.22"
    target = {t["target"]: t for t in doc["targets"]}["full dbt build (run + test) seconds"]
    assert target["measured"] == 40.0


def test_a_kept_partial_parse_is_not_reused(tmp_path, monkeypatch):
    """--reuse-stores after --keep-work from another checkout: the warm-up parse starts from
    no partial parse (dbt would keep the other checkout's absolute seed paths)."""
    settings = benchmark.Settings(
        scales=[1_000], runs=1, out=tmp_path / "out", work_dir=tmp_path / "work",
        memory_limit="1GB", peer=False, floor=False, reference=False, report=False,
    )  # fmt: skip
    scale = benchmark.Scale(settings, 1_000)
    scale.target.mkdir(parents=True)
    kept = scale.target / "partial_parse.msgpack"
    kept.write_bytes(b"from another checkout")
    seen: list[bool] = []
    commands: list[list[str]] = []

    def parse_only(cmd, env, log_path, interval=0.25):
        seen.append(kept.exists())
        commands.append(list(cmd))
        return benchmark.Measured(seconds=1.0, cpu_seconds=1.0, peak_mb=1.0, returncode=0)

    monkeypatch.setattr(benchmark, "measure", parse_only)
    scale.parse()
    assert seen == [False]
    # the warm-up parse has the timed commands' --vars, or they would not reuse it
    (parse,) = commands
    assert parse[parse.index("--vars") + 1] == benchmark.PUBLISH_OFF[1]


def test_the_build_runs_without_the_serving_copy_then_publishes_it(tmp_path, monkeypatch):
    """The commands of one run (nothing executed): `dbt run` of the build and of the
    incremental run pass publish_serving_copy: false, and so does every other dbt command
    (the same --vars as the warm-up parse, or dbt parses the project again); publish
    follows dbt test and copies the bench warehouse into the bench serving file."""
    settings = benchmark.Settings(
        scales=[1_000], runs=1, out=tmp_path / "out", work_dir=tmp_path / "work",
        memory_limit="1GB", peer=False, floor=False, reference=False, report=False,
    )  # fmt: skip
    scale = benchmark.Scale(settings, 1_000)
    commands: list[tuple[str, list[str]]] = []

    def step(name, cmd, run):
        commands.append((name, list(cmd)))
        if run is not None:
            run.steps[name] = {"seconds": 1.0, "cpu_seconds": 1.0, "peak_mb": 1.0,
                               "load_before": 0.0, "load_after": 0.0}  # fmt: skip

    monkeypatch.setattr(scale, "step", step)
    scale.target.mkdir(parents=True)
    (scale.target / "run_results.json").write_text(
        json.dumps({"results": [], "elapsed_time": 1.0}), encoding="utf-8"
    )
    run, _ = scale.run_once(0)
    names = [name for name, _ in commands]
    assert names == ["load", "seed", "dbt_run", "dbt_test", "publish", "load_day",
                     "incremental_run", "incremental_test"]  # fmt: skip
    cmd = dict(commands)
    for name in ("seed", "dbt_run", "dbt_test", "incremental_run", "incremental_test"):
        i = cmd[name].index("--vars")
        assert yaml.safe_load(cmd[name][i + 1]) == {"publish_serving_copy": False}, name
    publish = cmd["publish"]
    assert publish[1] == "scripts/publish.py"
    assert publish[publish.index("--database") + 1] == str(scale.build_db)
    assert publish[publish.index("--out") + 1] == str(scale.dir / "serving.duckdb")
    assert publish[publish.index("--out") + 1] == scale.env()["DTC_SERVING_PATH"]
    assert set(run.steps) == set(names)
