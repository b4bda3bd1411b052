"""Opening a session on a 429: the concurrency limit is waited on, out of credits is not.

Both twins over FakeSmooth (httpx.MockTransport) with a fake clock: a 429 on POST /task is a
refusal (nothing created), so it is sent again with Retry-After or backoff until the start
timeout; a 429 whose detail says the credits are gone raises CreditsExhaustedError at once;
a 5xx on POST /task is never sent again (it may have opened a billed session).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pytest_smooth._core.exceptions import CreditsExhaustedError
from pytest_smooth._core.exceptions import InternalServerError
from pytest_smooth._core.exceptions import RateLimitError
from pytest_smooth._core.retry import credits_exhausted
from pytest_smooth._core.retry import open_retry_delay
from pytest_smooth.client.sync_client import AsyncSmoothClient
from pytest_smooth.client.sync_client import SmoothClient
from pytest_smooth.testing import FakeSmooth
from pytest_smooth.testing import Fault

KEY = "cmzr-test-key-0123456789"
LIMIT = "Concurrent session limit reached for your plan (2)"
NO_CREDITS = "Credits exhausted: top up your balance to continue"


class Clock:
    """A fake monotonic clock; sleeping advances it and records the delay (both twins)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def refuse(fake: FakeSmooth, times: int, detail: str, retry_after: float | None = 2.0) -> None:
    """Queue ``times`` 429 replies to POST /task with ``detail``."""
    for _ in range(times):
        fake.faults.append(Fault("POST", "/task", 429, retry_after=retry_after, detail=detail))


@pytest.fixture
def fake() -> FakeSmooth:
    return FakeSmooth(api_key=KEY)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(fake: FakeSmooth, clock: Clock) -> Iterator[SmoothClient]:
    transport = httpx.Client(transport=fake.transport())
    with SmoothClient(KEY, FakeSmooth.base_url, http_client=transport) as client:
        client._clock = clock.time  # type: ignore[method-assign]
        client._sleep = clock.sleep  # type: ignore[method-assign]
        yield client
    transport.close()


def make_async(fake: FakeSmooth, clock: Clock) -> AsyncSmoothClient:
    transport = httpx.AsyncClient(transport=fake.transport())
    client = AsyncSmoothClient(KEY, FakeSmooth.base_url, http_client=transport)
    client._clock = clock.time  # type: ignore[method-assign]
    client._sleep = clock.async_sleep  # type: ignore[method-assign]
    return client


def created(fake: FakeSmooth) -> int:
    """Sessions the fake really opened (POST /task that got through)."""
    return sum(
        1 for r in fake.requests if (r.method, r.path) == ("POST", "/api/v1/task") and not r.faulted
    )


# --- the policy -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("detail", "exhausted"),
    [
        (NO_CREDITS, True),
        ("Insufficient credits", True),
        ("billing: payment required", True),
        (LIMIT, False),
        ("Too many concurrent browser sessions", False),
        (None, False),
        ({"msg": "rate limited"}, False),
    ],
)
def test_credits_exhausted_is_told_by_the_detail(detail: object, exhausted: bool) -> None:
    assert credits_exhausted(detail) is exhausted


def test_open_retry_delay_honours_retry_after_else_backs_off() -> None:
    assert open_retry_delay(0, 7.0) == 7.0
    assert open_retry_delay(0, None, rand=lambda: 0.0) == 0.5
    assert open_retry_delay(3, None, rand=lambda: 0.0) == 4.0
    assert open_retry_delay(10, None, rand=lambda: 0.0) == 8.0  # capped


# --- the sync twin --------------------------------------------------------------------------


def test_concurrency_429s_are_waited_on_and_one_session_opens(
    client: SmoothClient, fake: FakeSmooth, clock: Clock
) -> None:
    refuse(fake, 3, LIMIT)
    with client.session(start_timeout=60) as session:
        assert session.status == "running"
    assert fake.count("POST", "/task") == 4
    assert created(fake) == 1
    assert clock.sleeps[:3] == [2.0, 2.0, 2.0]


def test_without_retry_after_the_waits_back_off(
    client: SmoothClient, fake: FakeSmooth, clock: Clock
) -> None:
    refuse(fake, 3, LIMIT, retry_after=None)
    client.session(start_timeout=60).close()
    first, second, third = clock.sleeps[:3]
    assert 0.375 <= first <= 0.5 and 0.75 <= second <= 1.0 and 1.5 <= third <= 2.0


def test_the_wait_ends_at_the_start_timeout(
    client: SmoothClient, fake: FakeSmooth, clock: Clock
) -> None:
    refuse(fake, 100, LIMIT, retry_after=4.0)
    with pytest.raises(RateLimitError, match="still over the concurrent-session limit") as info:
        client.session(start_timeout=10)
    assert not isinstance(info.value, CreditsExhaustedError)
    assert "after 3 tries" in str(info.value)
    assert sum(clock.sleeps) == 8.0  # a third wait would end past the deadline
    assert created(fake) == 0


def test_credits_exhausted_is_not_retried(
    client: SmoothClient, fake: FakeSmooth, clock: Clock
) -> None:
    refuse(fake, 1, NO_CREDITS)
    with pytest.raises(CreditsExhaustedError, match="out of credits") as info:
        client.session(start_timeout=60)
    assert info.value.status_code == 429 and info.value.detail == NO_CREDITS
    assert fake.count("POST", "/task") == 1 and clock.sleeps == []


def test_a_5xx_on_post_task_is_never_sent_again(client: SmoothClient, fake: FakeSmooth) -> None:
    fake.fault("POST", "/task", status=503)
    with pytest.raises(InternalServerError):
        client.session(start_timeout=60)
    assert fake.count("POST", "/task") == 1


def test_a_lost_reply_to_post_task_is_never_sent_again(
    client: SmoothClient, fake: FakeSmooth
) -> None:
    fake.fault("POST", "/task", error=httpx.ReadTimeout, execute=True)
    with pytest.raises(Exception, match="POST /task"):
        client.session(start_timeout=60)
    assert fake.count("POST", "/task") == 1


# --- the async twin -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_concurrency_429s_are_waited_on(fake: FakeSmooth, clock: Clock) -> None:
    refuse(fake, 2, LIMIT)
    async with make_async(fake, clock) as client:
        session = await client.session(start_timeout=60)
        await session.close()
    assert fake.count("POST", "/task") == 3 and created(fake) == 1
    assert clock.sleeps[:2] == [2.0, 2.0]


@pytest.mark.asyncio
async def test_async_wait_ends_at_the_start_timeout(fake: FakeSmooth, clock: Clock) -> None:
    refuse(fake, 100, LIMIT, retry_after=4.0)
    async with make_async(fake, clock) as client:
        with pytest.raises(RateLimitError, match="still over the concurrent-session limit"):
            await client.session(start_timeout=10)
    assert sum(clock.sleeps) == 8.0 and created(fake) == 0


@pytest.mark.asyncio
async def test_async_credits_exhausted_is_not_retried(fake: FakeSmooth, clock: Clock) -> None:
    refuse(fake, 1, NO_CREDITS)
    async with make_async(fake, clock) as client:
        with pytest.raises(CreditsExhaustedError):
            await client.session(start_timeout=60)
    assert fake.count("POST", "/task") == 1 and clock.sleeps == []


@pytest.mark.asyncio
async def test_async_5xx_on_post_task_is_never_sent_again(fake: FakeSmooth, clock: Clock) -> None:
    fake.fault("POST", "/task", status=502)
    async with make_async(fake, clock) as client:
        with pytest.raises(InternalServerError):
            await client.session(start_timeout=60)
    assert fake.count("POST", "/task") == 1
