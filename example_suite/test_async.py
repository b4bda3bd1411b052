"""The same session API, awaited: `async_smooth_session` in pytest-asyncio tests."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from pytest_smooth import AsyncSmoothSession
from pytest_smooth import expect


class Deal(BaseModel):
    name: str
    price: float


class Deals(BaseModel):
    deals: list[Deal]


@pytest.mark.asyncio
async def test_browse_the_catalog(async_smooth_session: AsyncSmoothSession, shop_url: str) -> None:
    await async_smooth_session.goto(f"{shop_url}/products?category=Garden")

    count = await async_smooth_session.evaluate_js(
        "document.querySelectorAll('[data-testid=product]').length"
    )
    assert count == 2
    # On an async session the matchers are awaited.
    await expect(async_smooth_session).js("document.title").to_equal("Products · Smooth Shop")


@pytest.mark.asyncio
async def test_wait_for_late_deals(async_smooth_session: AsyncSmoothSession, shop_url: str) -> None:
    await async_smooth_session.goto(f"{shop_url}/deals?delay=1000")

    await (
        expect(async_smooth_session)
        .extract(Deals)
        .to_match(
            {"deals": [{"name": "Blue Teapot"}, {"name": "Desk Lamp"}, {"name": "A5 Notebook"}]}
        )
    )


@pytest.mark.asyncio
async def test_log_in_with_run_task(
    async_smooth_session: AsyncSmoothSession, shop_url: str
) -> None:
    welcome = await async_smooth_session.run_task(
        f"go to {shop_url}/login\n"
        "type ada@shop.test into Email\n"
        "type {{password}} into Password\n"
        "click Sign in\n"
        "wait for Signed in as",
        secrets={"password": {"value": "analytical-engine", "allowed_urls": [f"{shop_url}/**"]}},
    )

    assert welcome is not None
    await (
        expect(async_smooth_session)
        .js("document.querySelector('[data-testid=welcome]').textContent")
        .to_equal("Signed in as Ada Lovelace")
    )
