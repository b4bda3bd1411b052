"""Open a page, check its title and a script-written text (pytest-playwright)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from benchmarks.site import Site
from benchmarks.suites.common import PAGES
from benchmarks.suites.common import message
from benchmarks.suites.common import title


@pytest.mark.parametrize("n", PAGES)
def test_page(page: Page, site: Site, n: int) -> None:
    page.goto(site.url(n))
    assert page.title() == title(n)
    assert page.locator("#msg").text_content() == message(n)
