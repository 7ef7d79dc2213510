"""`make docs`: dbt docs generate --static gives one page that renders offline in Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _chromium import offline_page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "reports" / "screenshots"


@pytest.fixture(scope="module")
def static_docs(fixture_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("docs_site")
    database = work / "docs.duckdb"  # a copy: docs generate opens the warehouse read-write
    shutil.copyfile(fixture_warehouse, database)
    env = dict(
        os.environ,
        DBT_PROFILES_DIR=str(ROOT),
        DBT_DUCKDB_PATH=str(database),
        DBT_DUCKDB_TEMP_DIR=str(work / "tmp"),
        # dbt build publishes its serving copy (on-run-end): keep it in the work folder
        DTC_SERVING_PATH=str(work / "serving.duckdb"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "docs", "generate", "--static",
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    page = work / "target" / "static_index.html"
    assert page.is_file()
    return page


def test_the_static_page_loads_nothing_from_outside(static_docs: Path) -> None:
    text = static_docs.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src\s*=\s*[\"']?(https?:)?//", text)
    assert not re.search(r"<link[^>]+href\s*=\s*[\"']?(https?:)?//", text)


def test_the_static_page_renders_offline_with_mart_docs(static_docs: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with offline_page() as (page, blocked, errors):
        page.goto(static_docs.as_uri())
        page.wait_for_selector("text=fct_orders", state="attached", timeout=60_000)
        page.goto(static_docs.as_uri() + "#!/model/model.dtc_economics.fct_orders")
        page.wait_for_selector("text=order_id", timeout=30_000)
        page.wait_for_selector("text=One row per order", timeout=30_000)
        page.screenshot(path=str(SHOTS / "docs_fct_orders.png"))
        page.goto(static_docs.as_uri() + "#!/exposure/exposure.dtc_economics.five_numbers")
        page.wait_for_selector("text=The five numbers", timeout=30_000)
        assert not blocked, f"the docs page tried to fetch {blocked}"
        assert not errors, errors
