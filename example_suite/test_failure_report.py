"""What a failure looks like: the report of a test that fails on a broken page.

`test_broken_page_report` fails on purpose and is marked xfail(strict=True), so the suite stays
green while keeping the demonstration honest: if it ever passed, the run would fail. To see its
full report, with the `smooth` section, links and artifacts, run it with `--runxfail`
(README.md, "Reading a failure report").
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from pytest_smooth import SmoothSession
from pytest_smooth import expect

# From the environment in a real suite; defaults here so the example runs as it is.
PASSWORD = os.environ.get("SHOP_PASSWORD", "analytical-engine")
SUPPORT_TOKEN = os.environ.get("SHOP_SUPPORT_TOKEN", "support-7f3a9c21e4")
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
def test_broken_page_report(
    smooth_session: SmoothSession, shop_url: str, smooth_redact: Callable[..., None]
) -> None:
    # Secrets stay out of the report: the password goes in as a run_task secret, and the
    # support token is registered with smooth_redact before the page gets it. Neither appears
    # in the section, events.json, page.html, console.json, the trace or the recording.
    smooth_redact(SUPPORT_TOKEN)
    smooth_session.run_task(
        f"go to {shop_url}/login\nfill secret password into Password",
        secrets={"password": {"value": PASSWORD, "allowed_urls": [f"{shop_url}/**"]}},
    )
    smooth_session.evaluate_js(
        "(a) => { sessionStorage.setItem('support', a.token); }", args={"token": SUPPORT_TOKEN}
    )
    smooth_session.goto(f"{shop_url}/broken?fail=1")

    expect(smooth_session).js(ERROR_BANNER).to_equal(None, timeout=2)
