"""Signed-in pages: the suite logs in once (smooth_profile) and every test starts signed in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from test_login import DEMO_EMAIL
from test_login import DEMO_PASSWORD
from test_login import log_in

from pytest_smooth import SmoothSession
from pytest_smooth import expect

WELCOME = "document.querySelector('[data-testid=welcome]').textContent"


@pytest.fixture(scope="session")
def demo_profile(smooth_profile: Callable[..., str], shop_url: str) -> str:
    """Log the demo user in once per run (all workers) and reuse it for an hour of runs."""

    def log_in_as_demo(session: SmoothSession) -> None:
        log_in(session, shop_url, DEMO_EMAIL, DEMO_PASSWORD)

    def still_signed_in(session: SmoothSession) -> bool:
        session.goto(f"{shop_url}/account")
        return session.evaluate_js("location.pathname") == "/account"

    return smooth_profile(
        "demo-user",
        log_in_as_demo,
        max_age=3600,
        check=still_signed_in,
        session_args={"allowed_urls": [f"{shop_url}/**"]},
    )


@pytest.fixture
def signed_in(new_smooth_session: Callable[..., SmoothSession], demo_profile: str) -> SmoothSession:
    """Open a session with the demo user's cookies (read-only: tests cannot spoil them)."""
    return new_smooth_session(profile_id=demo_profile, profile_read_only=True)


def test_the_account_page_greets_the_user(signed_in: SmoothSession, shop_url: str) -> None:
    signed_in.goto(f"{shop_url}/account")

    expect(signed_in).js(WELCOME).to_equal("Signed in as Demo User")


def test_the_login_page_knows_who_is_signed_in(signed_in: SmoothSession, shop_url: str) -> None:
    signed_in.goto(f"{shop_url}/account")

    expect(signed_in).js("document.title").not_.to_equal("Log in · Smooth Shop")
