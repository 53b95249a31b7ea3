"""The web view under test: a real `coopledger serve` process on 127.0.0.1 (any free port), over
a ledger of the example events and a few hostile ones; a real headless Chromium where installed."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import build_ledger, served


@pytest.fixture(scope="session")
def ledger_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("web") / "ledger.sqlite")
    build_ledger(db)
    return db


@pytest.fixture(scope="session")
def site(ledger_file: str) -> Iterator[str]:
    with served(ledger_file) as url:
        yield url


CHROMIUM = "/usr/bin/chromium"


def _browser_problem() -> str | None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return "Chromium is not installed (apt-get install chromium; .ci/run installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright; skipped where it is missing, except in CI."""
    problem = _browser_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}: in CI the web view must be tested in a real browser")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()
