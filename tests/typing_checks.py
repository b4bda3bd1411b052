"""Static checks of the public types, exercised by mypy only (never collected or run)."""

from __future__ import annotations

from typing import Any

import pydantic
from typing_extensions import assert_type

from pytest_smooth import ActionRecord
from pytest_smooth import AsyncSmoothClient
from pytest_smooth import AsyncSmoothSession
from pytest_smooth import SmoothClient
from pytest_smooth import SmoothSession
from pytest_smooth import TaskResponse
from pytest_smooth.client.async_session import AsyncSessionOpener


class Product(pydantic.BaseModel):
    name: str


def check_sync(client: SmoothClient) -> None:
    with client.session(device="mobile", timeout=None) as session:
        assert_type(session, SmoothSession)
        assert_type(session.extract(Product), Product)
        assert_type(session.extract({"type": "object"}, "prompt"), Any)
        assert_type(session.run_task("buy", response_model=Product), Product)
        assert_type(session.run_task("buy", 10, {"type": "object"}), Any)
        assert_type(session.run_task("buy", secrets={"pw": "x"}), Any)
        assert_type(session.evaluate_js("1", timeout=2.5), Any)
        assert_type(session.events, list[ActionRecord])
        assert_type(session.live_url, str | None)
        assert_type(session.credits_used, float)
        assert_type(session.wait_recording_url(1.0), str | None)
        session.add_listener(lambda record: print(record.action))  # noqa: T201
        session.close(force=True, timeout=5)
    assert_type(client.run("task"), TaskResponse)
    assert_type(client.delete_task("t"), bool)
    assert_type(client.artifact("t", "trace.zip"), bytes)


async def check_async(client: AsyncSmoothClient) -> None:
    assert_type(client.session(), AsyncSessionOpener)
    session = await client.session()
    assert_type(session, AsyncSmoothSession)
    async with client.session() as opened:
        assert_type(opened, AsyncSmoothSession)
        assert_type(await opened.extract(Product), Product)
        assert_type(await opened.run_task("buy", response_model=Product), Product)
        assert_type(await opened.evaluate_js("1"), Any)
    assert_type(await client.run("task"), TaskResponse)
    await session.close()
    await client.aclose()
