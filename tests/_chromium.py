"""Headless Debian Chromium driven by playwright, with every non-file request blocked.

Shared by the browser tests (report, docs site). Chromium comes from Debian's `chromium`
package (scripts/ci_services.sh installs it); playwright's own browser download is never used.
A test may skip only when that binary is missing, with a message saying so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("DTC_CHROMIUM", "/usr/bin/chromium"))
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def chromium_or_skip() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium is missing ({CHROMIUM}): install Debian's chromium package "
            "(scripts/ci_services.sh does) to run the browser tests"
        )
    return CHROMIUM


@contextmanager
def offline_page(
    width: int = 1280, height: int = 900
) -> Iterator[tuple[Any, list[str], list[str]]]:
    """(page, blocked request URLs, page errors); only file/data/blob URLs are served."""
    from playwright.sync_api import sync_playwright

    executable = chromium_or_skip()
    blocked: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(executable),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            context = browser.new_context(viewport={"width": width, "height": height})

            def route(r: Any) -> None:
                if r.request.url.startswith(LOCAL_SCHEMES):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield page, blocked, errors
        finally:
            browser.close()
