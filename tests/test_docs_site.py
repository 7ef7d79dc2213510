"""`make docs`: dbt docs generate --static gives one page that renders offline in Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _chromium import offline_page
from conftest import ParsedProject

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "reports" / "screenshots"


@pytest.fixture(scope="module")
def static_docs(fixture_warehouse: Path, parsed_project: ParsedProject) -> Path:
    # a copy (docs generate opens the warehouse read-write) where the session's parse is
    database = parsed_project.database
    shutil.copyfile(fixture_warehouse, database)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "docs", "generate", "--static",
         *parsed_project.paths],
        cwd=ROOT, env=parsed_project.env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    page = database.parent / "target" / "static_index.html"
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
