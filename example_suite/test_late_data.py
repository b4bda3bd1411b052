"""The deals page loads its data late (a fetch after a delay): assertions that wait for it."""

from __future__ import annotations

from pydantic import BaseModel

from pytest_smooth import SmoothSession
from pytest_smooth import expect

DEAL_COUNT = "document.querySelectorAll('[data-testid=deal]').length"


class Deal(BaseModel):
    name: str
    price: float


class Deals(BaseModel):
    deals: list[Deal]


def test_expect_retries_until_the_deals_arrive(
    smooth_session: SmoothSession, shop_url: str
) -> None:
    smooth_session.goto(f"{shop_url}/deals?delay=1500")

    # Read once right now, this would see the "Loading deals…" placeholder; expect() asks again
    # until the value matches or its timeout (smooth_expect_timeout in pytest.ini) runs out.
    expect(smooth_session).js(DEAL_COUNT).to_equal(3)
    expect(smooth_session).js("document.body.dataset.deals").to_equal("ready", timeout=2)


def test_extract_the_late_deals(smooth_session: SmoothSession, shop_url: str) -> None:
    smooth_session.goto(f"{shop_url}/deals?delay=1000")

    expect(smooth_session).extract(Deals).to_match(
        {
            "deals": [
                {"name": "Blue Teapot", "price": 19.0},
                {"name": "Desk Lamp", "price": 36.0},
                {"name": "A5 Notebook", "price": 3.99},
            ]
        }
    )


def test_nothing_is_there_when_asked_too_soon(smooth_session: SmoothSession, shop_url: str) -> None:
    smooth_session.goto(f"{shop_url}/deals?delay=5000")

    # .not_ flips the matcher: pass while the list is still empty.
    expect(smooth_session).js(DEAL_COUNT).not_.to_equal(3, timeout=1)


def test_run_task_waits_for_text(smooth_session: SmoothSession, shop_url: str) -> None:
    smooth_session.run_task(f"go to {shop_url}/deals?delay=800\nwait for A5 Notebook")

    assert smooth_session.evaluate_js(DEAL_COUNT) == 3
