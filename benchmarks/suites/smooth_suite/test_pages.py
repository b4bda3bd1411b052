"""Open a page, check its title and a script-written text (pytest-smooth)."""

from __future__ import annotations

import pytest

from benchmarks.site import Site
from benchmarks.suites.common import MSG_JS
from benchmarks.suites.common import PAGES
from benchmarks.suites.common import message
from benchmarks.suites.common import title
from pytest_smooth import SmoothSession


@pytest.mark.parametrize("n", PAGES)
def test_page(smooth_session: SmoothSession, site: Site, n: int) -> None:
    smooth_session.goto(site.url(n))
    assert smooth_session.evaluate_js("document.title") == title(n)
    assert smooth_session.evaluate_js(MSG_JS) == message(n)
