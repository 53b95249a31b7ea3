"""The web view in a real headless Chromium, connected to a real `coopledger serve` on 127.0.0.1.

Each page loads without a console error (the pages' policy runs no script, so an injected one
would be reported there); changing the as-of date changes the answer; history links to its
events; every page fits a phone-width window. The relationship page is saved for the README as
docs/web-view.png when that file is missing or COOPLEDGER_UPDATE_SCREENSHOT=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import HOSTILE_TITLE, ROOT

SCREENSHOT = ROOT / "docs" / "web-view.png"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A browser page whose console errors and failed requests are collected and fail the test."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    opened.problems = problems
    yield opened
    context.close()
    assert problems == [], problems


def visit(page: Any, url: str) -> Any:
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    return response


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?party=KOR&as_of=2019",
        "/r/CHN~KOR?as_of=2019-01",
        "/r/JPN~KOR?as_of=2020-12-31",
        "/r/JPN~KOR/history",
        "/e/65",
        "/r/CHN~KOR/timeline.svg?as_of=2019-01-31",
    ],
)
def test_each_page_loads_without_console_errors(page: Any, site: str, path: str) -> None:
    response = visit(page, site + path)
    assert response.status == 200
    assert page.locator("script").count() == 0


def test_the_timeline_picture_is_shown_on_the_relationship_page(page: Any, site: str) -> None:
    visit(page, site + "/r/CHN~KOR?as_of=2019-01-31")
    picture = page.locator("img#timeline")
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "timeline.svg?as_of=2019-01-31" in picture.get_attribute("src")


def test_changing_the_as_of_date_changes_the_answer(page: Any, site: str) -> None:
    visit(page, site + "/r/CHN~KOR?as_of=2019-01")
    january_2019 = page.locator("#projects tbody tr").count()
    assert page.locator("#as-of").inner_text() == "2019-01"
    assert "clean-sky-project" in page.locator("#projects").inner_text()
    page.fill("#as_of", "2016")
    page.click("#show")
    page.wait_for_load_state("networkidle")
    assert "as_of=2016" in page.url
    assert page.locator("#as-of").inner_text() == "2016"
    assert page.locator("#projects tbody tr").count() < january_2019
    assert "clean-sky-project" not in page.locator("#projects").inner_text()
    assert page.locator("#timeline").evaluate("img => img.naturalWidth > 0")


def test_known_at_with_an_offset_is_read_as_typed(page: Any, site: str) -> None:
    visit(page, site + "/r/JPN~KOR?as_of=2020-12-31")
    assert HOSTILE_TITLE in page.locator("#instruments").inner_text()
    page.fill("#known_at", "2000-01-01T09:00:00+09:00")
    page.click("#show")
    page.wait_for_load_state("networkidle")
    assert ", as known at 2000-01-01T00:00:00.000000Z" in page.locator("h1").inner_text()
    assert page.locator("#instruments").count() == 0  # nothing was recorded by then


def test_history_links_to_its_events(page: Any, site: str) -> None:
    visit(page, site + "/r/CHN~KOR/history?from=2019-01&to=2019-01&exact=1")
    rows = page.locator("#history tbody tr")
    assert rows.count() == 11
    assert "Ministry of Foreign Affairs, Republic of Korea" in rows.nth(1).inner_text()
    assert "tester" in rows.nth(1).inner_text()  # who recorded it
    page.locator("a.event-link", has_text="#65").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/e/65")
    assert page.locator("h1").inner_text() == "Event #65: MeetingHeld"
    assert "Outcome of 23rd Meeting of ROK-China Joint Committee" in page.locator("#source").inner_text()


def test_a_retraction_and_a_hostile_source_are_shown_as_text(page: Any, site: str) -> None:
    visit(page, site + "/r/JPN~KOR/history?from=2020")
    table = page.locator("#history")
    assert "RETRACTED: <script>alert(3)</script> recorded twice" in table.inner_text()
    assert table.locator("tr.retracted").count() == 2
    assert "<b>press</b> release" in table.inner_text()
    assert table.locator("a[href^='javascript']").count() == 0
    assert page.evaluate("typeof window.alert") == "function"  # nothing replaced it or ran


def test_a_bad_date_shows_what_is_wrong(browser: Any, site: str) -> None:
    page = browser.new_page()
    response = page.goto(site + "/r/JPN~KOR?as_of=2019-13")
    assert response.status == 400
    assert page.locator("#error").inner_text().startswith("as_of: '2019-13' is not an EDTF date")
    page.close()


@pytest.mark.parametrize("path", ["/", "/r/CHN~KOR?as_of=2019-01", "/r/CHN~KOR/history", "/e/65"])
def test_every_page_fits_a_phone(browser: Any, site: str, path: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    visit(page, site + path)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()


def test_the_relationship_page_is_pictured_for_the_readme(page: Any, site: str, tmp_path: Path) -> None:
    visit(page, site + "/r/CHN~KOR?as_of=2019-01")
    update = os.environ.get("COOPLEDGER_UPDATE_SCREENSHOT") == "1" or not SCREENSHOT.exists()
    target = SCREENSHOT if update else tmp_path / "web-view.png"
    page.screenshot(path=str(target), full_page=False)
    assert target.read_bytes().startswith(b"\x89PNG") and target.stat().st_size > 20_000
