"""The serving file: readable by DuckDB 1.5 (Metabase's driver), complete, published atomically.

A throwaway virtualenv with duckdb~=1.5.0 is created once per session (pip's cache makes it
quick after the first run); the 1.5 reader runs in a subprocess, as Metabase's driver would.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dtc_economics import publish

ROOT = Path(__file__).resolve().parents[1]
OFFLINE_MARKERS = (
    "Could not fetch",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Failed to establish a new connection",
    "No matching distribution found",
    "Network is unreachable",
)

READER = r"""
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
out = {"version": duckdb.__version__}
out["tables"] = sorted(
    f"{s}.{t}" for s, t in con.execute(
        "select schema_name, table_name from duckdb_tables()").fetchall())
out["orders"] = con.execute(
    "select count(*), sum(net_revenue), count(distinct customer_id) "
    "from marts.fct_orders where is_valid_order").fetchone()
out["customers"] = con.execute(
    "select count(*), min(cohort_month)::varchar, sum(order_count) "
    "from marts.dim_customers").fetchone()
out["comment"] = con.execute(
    "select comment from duckdb_tables() where table_name = 'fct_orders'").fetchone()[0]
out["pks"] = sorted(
    t for (t,) in con.execute("select table_name from duckdb_constraints() "
                              "where constraint_type = 'PRIMARY KEY'").fetchall())
print(json.dumps(out, default=float))
"""


@pytest.fixture(scope="session")
def duckdb15_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Python of a throwaway virtualenv holding duckdb~=1.5.0 (Metabase driver's DuckDB)."""
    venv = tmp_path_factory.mktemp("duckdb15") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "duckdb~=1.5.0",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if any(marker in output for marker in OFFLINE_MARKERS):
            pytest.skip(f"PyPI unreachable: cannot install duckdb~=1.5.0 ({output.strip()[-300:]})")
        raise RuntimeError(f"pip install duckdb~=1.5.0 failed:\n{output}")
    return python


def read_with(python: Path, database: Path) -> dict[str, object]:
    done = subprocess.run(
        [str(python), "-c", READER, str(database)], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def published(fixture_warehouse: Path, tmp_path: Path) -> Path:
    out = tmp_path / "serving.duckdb"
    assert publish.main(["--database", str(fixture_warehouse), "--out", str(out)]) == 0
    return out


def test_duckdb_15_reads_the_published_marts(
    duckdb15_python: Path, published: Path, fixture_warehouse: Path
) -> None:
    seen = read_with(duckdb15_python, published)
    assert str(seen["version"]).startswith("1.5."), seen["version"]
    with duckdb.connect(str(fixture_warehouse), read_only=True) as con:
        orders = con.execute(
            "select count(*), sum(net_revenue), count(distinct customer_id) "
            "from marts.fct_orders where is_valid_order"
        ).fetchone()
        customers = con.execute(
            "select count(*), min(cohort_month)::varchar, sum(order_count) from marts.dim_customers"
        ).fetchone()
        marts = {
            f"marts.{t}"
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        }
    assert orders is not None and customers is not None
    assert marts and marts <= set(seen["tables"])
    assert "meta.publish_info" in seen["tables"]
    assert seen["orders"][0] == orders[0] and seen["orders"][2] == orders[2]
    # money is DECIMAL(18,4): the reader's sum (sent as a JSON float) is the same amount
    assert Decimal(repr(seen["orders"][1])) == orders[1]
    assert seen["customers"] == list(customers)
    assert seen["comment"], "table comments (persist_docs) must reach the serving file"
    assert {"fct_orders", "dim_customers"} <= set(seen["pks"])


def test_duckdb_15_cannot_read_the_default_2_0_format(
    duckdb15_python: Path, fixture_warehouse: Path, tmp_path: Path
) -> None:
    """Control: without the explicit storage version the 1.5 reader fails (the test can fail)."""
    out = tmp_path / "serving_v2.duckdb"
    publish.publish(fixture_warehouse, out, storage_version="v2.0.0")
    with pytest.raises(RuntimeError, match="(?i)version"):
        read_with(duckdb15_python, out)


def test_published_tables_equal_the_warehouse(published: Path, fixture_warehouse: Path) -> None:
    with duckdb.connect(str(published), read_only=True) as con:
        con.execute(f"attach '{fixture_warehouse}' as wh (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = 'wh' and schema_name in ('marts', 'seeds') "
            "union all select schema_name, view_name from duckdb_views() "
            "where database_name = 'wh' and schema_name in ('marts', 'seeds')"
        ).fetchall()
        assert len(tables) >= 4
        for schema, table in tables:
            # the warehouse side with the spreadsheet escape applied (written here, not taken
            # from publish.py): a leading = + - @ tab or CR gets a quote, nothing else changes
            cols = con.execute(
                "select column_name, data_type from duckdb_columns() where database_name = 'wh' "
                "and schema_name = ? and table_name = ? order by column_index",
                [schema, table],
            ).fetchall()
            escaped = ", ".join(
                f'case when regexp_matches("{c}", \'^[-=+@\\t\\r]\') then chr(39) || "{c}" '
                f'else "{c}" end as "{c}"'
                if t == "VARCHAR"
                else f'"{c}"'
                for c, t in cols
            )
            wh = f"(select {escaped} from wh.{schema}.{table})"
            for a, b in ((wh, f"serving.{schema}.{table}"), (f"serving.{schema}.{table}", wh)):
                diff = con.execute(
                    f"select count(*) from (select * from {a} except all select * from {b})"
                ).fetchone()
                assert diff == (0,), f"{schema}.{table} differs ({a} minus {b})"
        types = (
            "select table_name, column_name, data_type, comment from duckdb_columns() "
            "where database_name = ? and schema_name = 'marts' order by all"
        )
        assert con.execute(types, ["serving"]).fetchall() == con.execute(types, ["wh"]).fetchall()
        info = con.execute(
            "select storage_version, tables from serving.meta.publish_info"
        ).fetchone()
        assert info == ("v1.5.0", len(tables))


def test_a_failed_publish_keeps_the_previous_serving_file(
    published: Path, fixture_warehouse: Path
) -> None:
    before = digest(published)
    calls: list[str] = []

    def copy_then_fail(
        con: duckdb.DuckDBPyConnection, src: str, schema: str, table: str, c: str | None
    ) -> int:
        calls.append(table)
        if len(calls) == 3:
            raise duckdb.IOException("disk full (simulated)")
        return publish._copy_table(con, src, schema, table, c)

    with pytest.raises(duckdb.IOException, match="simulated"):
        publish.publish(fixture_warehouse, published, copy_table=copy_then_fail)
    assert len(calls) == 3, "the failure must happen mid-way, after tables were written"
    assert digest(published) == before
    assert sorted(p.name for p in published.parent.iterdir()) == ["serving.duckdb"]


def test_an_interrupted_publish_keeps_the_previous_serving_file(
    published: Path, fixture_warehouse: Path
) -> None:
    before = digest(published)

    def interrupted(
        con: duckdb.DuckDBPyConnection, src: str, schema: str, table: str, c: str | None
    ) -> int:
        publish._copy_table(con, src, schema, table, c)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        publish.publish(fixture_warehouse, published, copy_table=interrupted)
    assert digest(published) == before
    assert sorted(p.name for p in published.parent.iterdir()) == ["serving.duckdb"]


def test_a_republish_replaces_the_file_and_a_reader_of_the_old_one_keeps_reading(
    published: Path, fixture_warehouse: Path
) -> None:
    reader = duckdb.connect(str(published), read_only=True)  # a BI tool holding the old file
    try:
        first = reader.execute("select published_at from meta.publish_info").fetchone()
        assert publish.main(["--database", str(fixture_warehouse), "--out", str(published)]) == 0
        assert reader.execute("select count(*) from marts.fct_orders").fetchone()[0] > 0
    finally:
        reader.close()
    with duckdb.connect(str(published), read_only=True) as con:
        second = con.execute("select published_at from meta.publish_info").fetchone()
    assert first is not None and second is not None and second[0] > first[0]


def test_missing_warehouse_is_refused_and_the_serving_file_kept(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = digest(published)
    code = publish.main(["--database", str(tmp_path / "nope.duckdb"), "--out", str(published)])
    assert code == 2
    assert "previous serving file is unchanged" in capsys.readouterr().err
    assert digest(published) == before


def _setting_as_duckdb_renders_it(name: str, value: str) -> str:
    with duckdb.connect(":memory:") as con:
        con.execute(f"set {name} = '{value}'")
        return str(con.execute(f"select current_setting('{name}')").fetchone()[0])


@pytest.mark.parametrize(
    ("env", "kwargs", "limit", "spill"),
    [
        ({}, {}, "1.8GB", "beside"),
        ({"DBT_DUCKDB_MEMORY_LIMIT": "1.2GB", "DBT_DUCKDB_TEMP_DIR": "ENV"}, {}, "1.2GB", "env"),
        ({"DBT_DUCKDB_MEMORY_LIMIT": "1.2GB"}, {"memory_limit": "900MB"}, "900MB", "beside"),
    ],
    ids=["build-default", "build-variables", "argument-wins"],
)
def test_publish_holds_duckdb_to_the_builds_memory_limit(
    fixture_warehouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    kwargs: dict[str, str],
    limit: str,
    spill: str,
) -> None:
    """The copy runs under the build's memory_limit and spills where the build does
    (profiles.yml's variables and default), not under DuckDB's default of 80% of the RAM."""
    monkeypatch.delenv("DBT_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("DBT_DUCKDB_TEMP_DIR", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, str(tmp_path / "env_tmp") if value == "ENV" else value)
    out = tmp_path / "out" / "serving.duckdb"
    seen: list[tuple[str, str]] = []

    def copy_and_read_settings(
        con: duckdb.DuckDBPyConnection, src: str, schema: str, table: str, c: str | None
    ) -> int:
        row = con.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
        assert row is not None
        seen.append((str(row[0]), str(row[1])))
        return publish._copy_table(con, src, schema, table, c)

    publish.publish(fixture_warehouse, out, copy_table=copy_and_read_settings, **kwargs)
    expected_spill = tmp_path / "env_tmp" if spill == "env" else out.parent / "tmp"
    assert seen and set(seen) == {
        (_setting_as_duckdb_renders_it("memory_limit", limit), str(expected_spill))
    }
    assert out.is_file()


def test_every_default_memory_limit_is_the_profiles() -> None:
    """profiles.yml's default for DBT_DUCKDB_MEMORY_LIMIT is the package's
    DEFAULT_MEMORY_LIMIT, the one default of the connections Python opens without dbt (the
    serving copy, the benchmark and its floor)."""
    import dtc_economics
    from dtc_economics import bench_floor, benchmark

    found = re.search(
        r"env_var\('DBT_DUCKDB_MEMORY_LIMIT', '([^']+)'\)",
        (ROOT / "profiles.yml").read_text(encoding="utf-8"),
    )
    assert found is not None
    assert found.group(1) == dtc_economics.DEFAULT_MEMORY_LIMIT
    assert publish.DEFAULT_MEMORY_LIMIT == benchmark.DEFAULT_MEMORY_LIMIT == found.group(1)
    assert "default=DEFAULT_MEMORY_LIMIT" in Path(bench_floor.__file__).read_text(encoding="utf-8")


def test_the_script_runs_from_the_command_line(fixture_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli.duckdb"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        [
            sys.executable,
            "scripts/publish.py",
            "--database",
            str(fixture_warehouse),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "resync" in done.stdout and out.is_file()


def test_a_view_in_the_marts_schema_is_published_as_a_table(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "wh.duckdb"
    shutil.copyfile(fixture_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "create view marts.v_orders_per_month as select order_month, count(*) as n "
            "from staging.stg_shop__orders s join marts.fct_orders f using (order_id) group by 1"
        )
        expected = con.execute("select sum(n) from marts.v_orders_per_month").fetchone()
    out = tmp_path / "serving.duckdb"
    publish.publish(copy, out)
    with duckdb.connect(str(out), read_only=True) as con:
        kind = con.execute(
            "select count(*) from duckdb_tables() where table_name = 'v_orders_per_month'"
        ).fetchone()
        assert kind == (1,)
        assert con.execute("select sum(n) from marts.v_orders_per_month").fetchone() == expected


def test_publish_refuses_while_a_build_holds_the_warehouse(
    published: Path, fixture_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "busy.duckdb"
    shutil.copyfile(fixture_warehouse, copy)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         " time.sleep(60)", str(copy)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        before = digest(published)
        code = publish.main(["--database", str(copy), "--out", str(published)])
        assert code == 2
        err = capsys.readouterr().err
        assert "cannot open the warehouse read-only" in err and "build still running" in err
        assert digest(published) == before
    finally:
        holder.kill()
        holder.wait()


FORMULA_START = "^[-=+@\\t\\r]"  # first characters a spreadsheet runs (issue 14)


def formula_cells(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every text cell of every table of the open file that starts like a formula."""
    found: list[str] = []
    for schema, table, column in con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where data_type = 'VARCHAR' and database_name = current_database()"
    ).fetchall():
        rows = con.execute(
            f'select "{column}" from "{schema}"."{table}" '
            f"where regexp_matches(\"{column}\", '{FORMULA_START}') limit 3"
        ).fetchall()
        found += [f"{schema}.{table}.{column}: {v!r}" for (v,) in rows]
    return found


def test_no_text_cell_of_the_serving_file_starts_a_formula_ids_included(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "planted.duckdb"
    shutil.copyfile(fixture_warehouse, copy)
    planted = ['=HYPERLINK("http://x","y")', "@SUM(1+1)", "+P999", "\tTAB", "\rCR", "-1"]
    with duckdb.connect(str(copy)) as con:
        first = con.execute("select min(order_id) from marts.fct_orders").fetchone()[0]
        # fct_orders is a view of its hub: planted in the hub's row, seen through the view
        con.execute(
            "update intermediate.int_orders_netted set order_id = ?, utm_campaign = ? "
            "where order_id = ?",
            [planted[0], planted[2], first],
        )
        con.execute(
            "create table marts.zz_planted as select unnest(?::varchar[]) as customer_id, 1 as n",
            [planted],
        )
        assert formula_cells(con), "control: the planted values start like formulas"
    out = tmp_path / "serving.duckdb"
    publish.publish(copy, out)
    with duckdb.connect(str(out), read_only=True) as con:
        assert formula_cells(con) == []
        ids = {v for (v,) in con.execute("select customer_id from marts.zz_planted").fetchall()}
        assert ids == {"'" + v for v in planted}, "each value kept, prefixed with one quote"
        order = con.execute(
            "select utm_campaign from marts.fct_orders where order_id = ?", ["'" + planted[0]]
        ).fetchone()
        assert order == ("'+P999",)


def _dbt(args: list[str], database: Path, serving: Path, work: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(ROOT),
        DBT_DUCKDB_PATH=str(database),
        DBT_DUCKDB_TEMP_DIR=str(work / "tmp"),
        DTC_SERVING_PATH=str(serving),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        PYTHONPATH=str(ROOT / "src"),
    )
    paths = ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    return subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, *paths],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_dbt_run_publishes_while_a_reader_holds_the_serving_copy(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    """`dbt run` alone refreshes the serving copy (on-run-end), with one line naming it, even
    while a consumer (another process) holds the previous copy open read-only."""
    copy = tmp_path / "wh.duckdb"
    shutil.copyfile(fixture_warehouse, copy)
    serving = tmp_path / "serving.duckdb"
    publish.publish(copy, serving)
    with duckdb.connect(str(serving), read_only=True) as con:
        before = con.execute("select published_at from meta.publish_info").fetchone()[0]
    reader = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True);"
         " print(c.execute('select count(*) from marts.fct_orders').fetchone()[0], flush=True);"
         " sys.stdin.readline();"
         " print(c.execute('select count(*) from marts.fct_orders').fetchone()[0], flush=True)",
         str(serving)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout is not None and reader.stdin is not None
        orders = reader.stdout.readline().strip()
        done = _dbt(["run", "--quiet", "-s", "stg_shop__products"], copy, serving, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"publish: serving copy {serving.resolve()} written" in done.stdout
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == orders, "the reader keeps its open copy"
    finally:
        reader.kill()
        reader.wait()
    with duckdb.connect(str(serving), read_only=True) as con:
        after = con.execute(
            "select published_at, storage_version from meta.publish_info"
        ).fetchone()
        assert con.execute("select count(*) from marts.fct_orders").fetchone()[0] == int(orders)
    assert after[0] > before and after[1] == "v1.5.0"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".serving")) == []


def test_a_failed_dbt_run_leaves_the_serving_copy_as_it_was(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "wh.duckdb"
    shutil.copyfile(fixture_warehouse, copy)
    serving = tmp_path / "serving.duckdb"
    publish.publish(copy, serving)
    before = digest(serving)
    with duckdb.connect(str(copy)) as con:
        con.execute("drop table raw.products")  # stg_shop__products can no longer be built
    done = _dbt(["run", "--quiet", "-s", "stg_shop__products"], copy, serving, tmp_path)
    assert done.returncode != 0
    assert "publish: skipped" in done.stdout and str(serving) in done.stdout, done.stdout
    assert digest(serving) == before


def test_the_var_publish_serving_copy_false_skips_the_copy(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    """`make bench` runs the build's `dbt run` with publish_serving_copy: false and times
    scripts/publish.py on its own: the hook then says why it skipped and leaves the serving
    file byte for byte as it was, although every node succeeded."""
    copy = tmp_path / "wh.duckdb"
    shutil.copyfile(fixture_warehouse, copy)
    serving = tmp_path / "serving.duckdb"
    publish.publish(copy, serving)
    before = digest(serving)
    done = _dbt(
        ["run", "--quiet", "-s", "stg_shop__products", "--vars", "{publish_serving_copy: false}"],
        copy,
        serving,
        tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "publish: skipped, var publish_serving_copy is false" in done.stdout, done.stdout
    assert str(serving) in done.stdout
    assert digest(serving) == before
