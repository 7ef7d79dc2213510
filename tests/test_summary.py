"""scripts/summary.py: the end of `make build` on a hand-made warehouse and run results.

Two months in fct_kpis_monthly: 2026-09 complete, 2026-10 in progress (99s everywhere: must
never be printed), LTV 12 months still unknown in 2026-09 and known in 2026-08 only; one warn
test whose description must be printed as its reason; a failed run prints no numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("blended_cac", "cos", "median_days_to_second_order", "ltv_182d", "ltv_365d",
           "churn_6m", "churn_12m")  # fmt: skip


def _warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_kpis_monthly (month date, is_month_complete boolean, "
            + ", ".join(f"{m} double" for m in METRICS)
            + ", ltv_365d_cohort_month date)"
        )
        rows = [
            ("2026-08-01", True, 30.0, 0.10, 40.0, 100.0, 150.0, 0.70, 0.60, "2025-08-01"),
            ("2026-09-01", True, 25.0, 0.12, 45.0, 110.0, None, 0.72, 0.65, None),
            ("2026-10-01", False, 99.0, 99.0, 99.0, 99.0, 99.0, 99.0, 99.0, "2025-10-01"),
        ]
        con.executemany(f"insert into marts.fct_kpis_monthly values ({', '.join('?' * 10)})", rows)
    return path


def _run_results(folder: Path, statuses: list[tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    results = [
        {"unique_id": f"test.dtc_economics.{name}.abc123", "status": status, "failures": 3}
        for name, status in statuses
    ]
    nodes = {
        f"test.dtc_economics.{name}.abc123": {"description": f"why {name} may {status}"}
        for name, status in statuses
    }
    (folder / "run_results.json").write_text(json.dumps({"results": results}))
    (folder / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    return folder / "run_results.json"


def _summary(database: Path, run_results: Path, serving: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/summary.py", "--database", str(database),
         "--serving", str(serving), "--run-results", str(run_results)],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip


def test_summary_prints_the_five_numbers_of_the_latest_complete_month(tmp_path: Path) -> None:
    database = _warehouse(tmp_path / "wh.duckdb")
    results = _run_results(tmp_path / "t", [("a_test", "pass"), ("heuristic_x", "warn")])
    done = _summary(database, results, tmp_path / "serving copy.duckdb")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "1 pass, 1 warn" in out
    assert "WARN heuristic_x (3 rows): why heuristic_x may warn" in out
    for printed in ("99.00 EUR", "9900.0%", "99 days"):  # the month in progress
        assert printed not in out
    text = out.splitlines()
    order = [i for label in ("Blended CAC", "COS", "Median days", "LTV 6", "LTV 12",
                             "Churn 6", "Churn 12")
             for i, line in enumerate(text) if line.strip().startswith(label)]  # fmt: skip
    assert order == sorted(order) and len(order) == 7, out
    assert "Blended CAC                    2026-09  25.00 EUR" in out
    assert (
        "LTV 12 months                  2026-08  150.00 EUR   (customers acquired 2025-08)" in out
    )
    assert "Churn 12 months                2026-09  65.0%" in out
    assert f"duckdb -readonly '{(tmp_path / 'serving copy.duckdb').resolve()}'" in out


def test_a_failed_build_prints_the_failure_and_no_numbers(tmp_path: Path) -> None:
    database = _warehouse(tmp_path / "wh.duckdb")
    results = _run_results(tmp_path / "t", [("assert_x", "fail")])
    done = _summary(database, results, tmp_path / "serving.duckdb")
    assert done.returncode == 1
    assert "FAIL assert_x (3 rows): why assert_x may fail" in done.stdout
    assert "was not updated" in done.stdout and "Blended CAC" not in done.stdout


def test_summary_prints_margins_of_the_latest_month_with_known_costs(tmp_path: Path) -> None:
    """Hand-made margins: 2026-09 complete with CM2 known, 2026-10 in progress (99s). Per
    channel, hand-computed: affiliate months 2026-01 (10 customers, margin LTV 60, CAC 80)
    and 2026-02 (30 customers, margin LTV 70, CAC 90) -> weighted LTV (600 + 2100) / 40 =
    67.50 vs CAC (800 + 2700) / 40 = 87.50, x0.77; payback never reached; 3 of its 4
    customers with a known repayment have not repaid (75%); email repays in 2 months."""
    database = _warehouse(tmp_path / "wh.duckdb")
    with duckdb.connect(str(database)) as con:
        for column in ("gross_margin", "contribution_margin", "cm3",
                       "contribution_margin_rate", "poas", "cost_coverage"):  # fmt: skip
            con.execute(f"alter table marts.fct_kpis_monthly add column {column} double")
        con.execute(
            "update marts.fct_kpis_monthly set gross_margin = 1200, contribution_margin = 900, "
            "cm3 = 650, contribution_margin_rate = 0.45, poas = 3.6, cost_coverage = 0.98 "
            "where month = '2026-09-01'"
        )
        con.execute(
            "update marts.fct_kpis_monthly set gross_margin = 99, contribution_margin = 99, "
            "cm3 = 99, contribution_margin_rate = 99, poas = 99, cost_coverage = 99 "
            "where month = '2026-10-01'"
        )
        con.execute(
            "create table marts.fct_acquisition_monthly (month date, channel varchar, "
            "new_customers integer, margin_ltv_365d double, cac_fully_loaded double, "
            "margin_payback_months integer)"
        )
        con.executemany(
            "insert into marts.fct_acquisition_monthly values (?, ?, ?, ?, ?, ?)",
            [
                ("2026-01-01", "affiliate", 10, 60.0, 80.0, None),
                ("2026-02-01", "affiliate", 30, 70.0, 90.0, None),
                ("2026-03-01", "affiliate", 5, None, 70.0, None),
                ("2026-01-01", "email", 4, 50.0, 10.0, 2),
                ("2026-01-01", "all", 14, 58.0, 60.0, 3),
            ],
        )
        con.execute(
            "create table marts.dim_customers (acquisition_channel varchar, has_repaid_cac boolean)"
        )
        con.executemany(
            "insert into marts.dim_customers values (?, ?)",
            [("affiliate", False)] * 3 + [("affiliate", True), ("affiliate", None)]
            + [("email", True)],
        )  # fmt: skip
    results = _run_results(tmp_path / "t", [("a_test", "pass")])
    done = _summary(database, results, tmp_path / "serving.duckdb")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Margins (2026-09, latest complete month with known costs" in out
    assert "CM1 gross margin               1,200.00 EUR" in out
    assert "CM3 (CM2 - marketing spend)    650.00 EUR" in out
    assert "POAS (CM2 / spend)             3.60" in out
    assert "Cost coverage                  98.0%" in out
    assert "99.00 EUR" not in out
    assert (
        "affiliate        67.50 vs   87.50 EUR (x0.77), payback not reached (0 of 3 cohorts), "
        "75% not repaid" in out
    ), out
    assert "email            50.00 vs   10.00 EUR (x5.00), payback median 2 months" in out


def test_summary_says_margins_are_unknown_without_costs(tmp_path: Path) -> None:
    database = _warehouse(tmp_path / "wh.duckdb")
    results = _run_results(tmp_path / "t", [("a_test", "pass")])
    done = _summary(database, results, tmp_path / "serving.duckdb")
    assert done.returncode == 0, done.stderr
    assert "Margins: n/a" in done.stdout
