"""The shop on a phone: every test here gets a mobile session from the `smooth` marker."""

from __future__ import annotations

import pytest

from pytest_smooth import SmoothSession
from pytest_smooth import expect

pytestmark = pytest.mark.smooth(device="mobile")

NAV_VISIBLE = "getComputedStyle(document.querySelector('header nav')).display !== 'none'"


def test_the_menu_collapses_on_a_small_screen(smooth_session: SmoothSession, shop_url: str) -> None:
    smooth_session.goto(f"{shop_url}/products")

    assert smooth_session.evaluate_js("matchMedia('(max-width: 600px)').matches") is True
    expect(smooth_session).js(NAV_VISIBLE).to_equal(False)


def test_the_menu_button_opens_the_navigation(smooth_session: SmoothSession, shop_url: str) -> None:
    smooth_session.run_task(f"go to {shop_url}/products\nclick Menu")

    expect(smooth_session).js(NAV_VISIBLE).to_equal(True)


@pytest.mark.smooth(device="desktop")
def test_the_closest_marker_wins(smooth_session: SmoothSession, shop_url: str) -> None:
    smooth_session.goto(f"{shop_url}/products")

    expect(smooth_session).js(NAV_VISIBLE).to_equal(True)
