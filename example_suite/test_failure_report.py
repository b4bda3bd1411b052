"""What a failure looks like: the report of a test that fails on a broken page.

`test_broken_page_report` fails on purpose and is marked xfail(strict=True), so the suite stays
green while keeping the demonstration honest: if it ever passed, the run would fail. To see its
full report, with the `smooth` section, links and artifacts, run it with `--runxfail`
(README.md, "Reading a failure report").
"""

from __future__ import annotations

import pytest

from pytest_smooth import SmoothSession
from pytest_smooth import expect

ERROR_BANNER = "document.querySelector('[data-testid=error-banner]')?.textContent ?? null"


def test_status_page_is_healthy(smooth_session: SmoothSession, shop_url: str) -> None:
    smooth_session.goto(f"{shop_url}/broken")

    expect(smooth_session).js(ERROR_BANNER).to_equal(None)
    expect(smooth_session).js(
        "document.querySelector('[data-testid=status]').textContent"
    ).to_equal("All systems operational.")


@pytest.mark.xfail(
    strict=True,
    reason="on purpose: /broken?fail=1 answers 500 with an error banner, to show a failure report",
)
def test_broken_page_report(smooth_session: SmoothSession, shop_url: str) -> None:
    smooth_session.goto(f"{shop_url}/broken?fail=1")

    expect(smooth_session).js(ERROR_BANNER).to_equal(None, timeout=2)
