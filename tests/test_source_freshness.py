"""Source freshness is configured on orders, refunds and spend, with thresholds from vars.

Runs ``dbt source freshness`` once on the fixture warehouse with a 1-hour warn threshold and
a huge error threshold: the fixture's newest rows are older than an hour and younger than
the error bound, so every checked source must warn, and the criteria dbt used must be the
vars' values (dbt renders ``{{ var(...) }}`` in the freshness counts).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import dbt_env

ROOT = Path(__file__).resolve().parents[1]
WARN_HOURS = 1
ERROR_HOURS = 10_000_000


def _dbt(
    command: list[str], warehouse: Path, work: Path, dbt_vars: dict[str, object]
) -> subprocess.CompletedProcess[str]:
    """Run `dbt <command> --vars ...` on warehouse with its target, logs, spill folder and
    serving copy under work (never the user's); return the finished process."""
    env = dbt_env(warehouse, work)
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *command,
            "--vars",
            json.dumps(dbt_vars),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def warehouse(fixture_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the fixture warehouse: dbt opens its warehouse for writing, even for
    `dbt source freshness`, and the fixture warehouse is read-only (conftest)."""
    copy = tmp_path_factory.mktemp("freshness") / fixture_warehouse.name
    shutil.copyfile(fixture_warehouse, copy)
    return copy


def test_freshness_uses_the_vars(warehouse: Path, tmp_path: Path) -> None:
    dbt_vars = {
        "source_freshness_warn_hours": WARN_HOURS,
        "source_freshness_error_hours": ERROR_HOURS,
    }
    done = _dbt(["source", "freshness"], warehouse, tmp_path, dbt_vars)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "target" / "sources.json").read_text())["results"]
    checked = {r["unique_id"].split(".", 2)[2]: r for r in results}
    assert set(checked) == {"shop.orders", "shop.refunds", "marketing.marketing_spend"}
    for source, result in checked.items():
        assert result["status"] == "warn", source
        assert result["criteria"]["warn_after"] == {"count": WARN_HOURS, "period": "hour"}
        assert result["criteria"]["error_after"] == {"count": ERROR_HOURS, "period": "hour"}


SOURCES = ("shop.orders", "shop.refunds", "marketing.marketing_spend")


def _freshness(warehouse: Path, work: Path, dbt_vars: dict[str, object]) -> dict[str, str]:
    # exit 1 when a source errors: the statuses are read below
    _dbt(["source", "freshness"], warehouse, work, dbt_vars)
    results = json.loads((work / "target" / "sources.json").read_text())["results"]
    return {r["unique_id"].split(".", 2)[2]: r["status"] for r in results}


def test_freshness_is_measured_against_the_reference_date(warehouse: Path, tmp_path: Path) -> None:
    """The fixture store ends on 2026-10-31 (newest order 2026-10-30 18:16 UTC, refund
    2026-10-31 10:35, spend day 2026-10-31). With freshness_reference = the day after, every
    source is fresh under the default thresholds (48 h warn, 168 h error); with a reference
    20 days later every source is past the error threshold: the reference, not the clock,
    is what the age is measured against."""
    fresh = _freshness(warehouse, tmp_path / "a", {"freshness_reference": "2026-11-01"})
    assert fresh == dict.fromkeys(
        ("shop.orders", "shop.refunds", "marketing.marketing_spend"), "pass"
    )
    stale = _freshness(warehouse, tmp_path / "b", {"freshness_reference": "2026-11-20"})
    assert set(stale.values()) == {"error"}, stale


def test_as_of_date_after_the_load_date_is_refused(warehouse: Path, tmp_path: Path) -> None:
    """A pinned as_of_date after raw._load_manifest's load date stops the run, naming both
    dates, before any node runs (issue 14: a future reference date made customers "lost")."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (load_date,) = con.execute(
            "select cast(max(coalesce(exported_at, loaded_at)) as date) from raw._load_manifest"
        ).fetchone()
    future = "2099-05-01"
    done = _dbt(["build"], warehouse, tmp_path, {"as_of_date": future})
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert f"as_of_date {future} is after the load date" in out, out
    # the limit is the loader's own date (the reporting timezone may move it by one day)
    limits = {str(load_date), str(load_date.fromordinal(load_date.toordinal() + 1))}
    assert any(f"load date (raw._load_manifest) {d}" in out for d in limits), out
    assert "Completed successfully" not in out
