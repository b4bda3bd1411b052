"""The async twin under the same faults as ``test_faults.py`` (its send/sleep lines are its own).

GET faults are survived, a POST event fault surfaces once and runs at most once, a hung
server ends in ``SmoothTimeoutError`` within the timeout, and no session is left open.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from pytest_smooth import AsyncSmoothClient
from pytest_smooth import InternalServerError
from pytest_smooth import SmoothConnectionError
from pytest_smooth import SmoothError
from pytest_smooth import SmoothTimeoutError
from pytest_smooth._core import retry as _retry
from pytest_smooth.server.local import LocalServer
from tests.backend_probe import Backend
from tests.faultproxy import Fault
from tests.faultproxy import FaultProxy

pytestmark = pytest.mark.browser

GET_TASK = r"^/api/v1/task/[^/]+$"
POST_EVENT = r"^/api/v1/task/[^/]+/event$"
NO_HANG = 10.0
HANG_LIMIT = 15.0


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "INITIAL_RETRY_DELAY", 0.05)


@pytest.fixture
def backend(local_server: LocalServer) -> Iterator[Backend]:
    with Backend(local_server.url, local_server.api_key) as probe:
        before = {t["id"] for t in probe.tasks()}
        yield probe
        probe.settle({t["id"] for t in probe.tasks()} - before)
        probe.assert_no_open_sessions()


@pytest.fixture
def proxy(local_server: LocalServer) -> Iterator[FaultProxy]:
    with FaultProxy(local_server.url) as fault_proxy:
        yield fault_proxy
    assert fault_proxy.errors == []


def _client(local_server: LocalServer, proxy: FaultProxy) -> AsyncSmoothClient:
    return AsyncSmoothClient(api_key=local_server.api_key, base_url=proxy.url + "/api/", timeout=30)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "fault",
    [Fault.status(503), Fault.reset(when="after"), Fault.truncate(), Fault.rate_limit(0.1)],
    ids=["503", "reset-after", "truncated", "429"],
)
async def test_get_faults_are_survived(
    local_server: LocalServer, proxy: FaultProxy, backend: Backend, fault: Fault
) -> None:
    async with _client(local_server, proxy) as client, client.session() as session:
        # Replies by GET, not inline in the POST ack (as on the cloud).
        proxy.drop_params("POST", POST_EVENT, "wait_ms")
        proxy.add("GET", GET_TASK, fault, count=2)
        assert await session.evaluate_js("6 * 7") == 42
        event_id = json.loads(proxy.requests("POST", POST_EVENT)[-1].body)["id"]
        assert backend.executions(event_id) == 1
        assert proxy.injected[fault.kind] == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.status(500, when="after"), InternalServerError),
        (Fault.reset(), SmoothConnectionError),
    ],
    ids=["500-after", "reset"],
)
async def test_fault_on_post_event_runs_at_most_once(
    local_server: LocalServer,
    proxy: FaultProxy,
    backend: Backend,
    fault: Fault,
    error: type[SmoothError],
) -> None:
    async with _client(local_server, proxy) as client, client.session() as session:
        proxy.add("POST", POST_EVENT, fault)
        with pytest.raises(error):
            await session.evaluate_js("window.__n = (window.__n || 0) + 1")
        assert proxy.count("POST", POST_EVENT) == 1
        event_id = json.loads(proxy.requests("POST", POST_EVENT)[-1].body)["id"]
        ran = 1 if fault.when == "after" else 0
        assert backend.executions(event_id) == ran
        assert await session.evaluate_js("window.__n || 0") == ran


@pytest.mark.asyncio
@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.parametrize("where", ["poll", "post-event"])
async def test_hung_server_times_out(
    local_server: LocalServer, proxy: FaultProxy, backend: Backend, where: str, attempt: int
) -> None:
    del attempt, backend
    method, path = ("GET", GET_TASK) if where == "poll" else ("POST", POST_EVENT)
    async with _client(local_server, proxy) as client, client.session() as session:
        if where == "poll":
            proxy.drop_params("POST", POST_EVENT, "wait_ms")
        proxy.add(method, path, Fault.hang(limit=HANG_LIMIT), count=None)
        started = time.monotonic()
        with pytest.raises(SmoothTimeoutError, match="evaluate_js"):
            await session.evaluate_js("1", timeout=1.0)
        took = time.monotonic() - started
        assert took < NO_HANG, f"evaluate_js(timeout=1.0) took {took:.1f} s"
        proxy.clear()
        assert await session.evaluate_js("2") == 2
