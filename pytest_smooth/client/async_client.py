"""``AsyncSmoothClient``: the asynchronous client, driving ``_client_flows`` with awaited I/O."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import httpx

from pytest_smooth._core.client_base import Timeout
from pytest_smooth._core.client_base import Tool
from pytest_smooth._core.client_flows import ClientFlows
from pytest_smooth._core.constants import DEFAULT_SESSION_START_TIMEOUT
from pytest_smooth._core.flow import Flow
from pytest_smooth._core.models import Extension
from pytest_smooth._core.models import ProfileResponse
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.models import UploadResponse
from pytest_smooth._core.payloads import FileInput
from pytest_smooth._core.types import NOT_GIVEN
from pytest_smooth.client.async_session import AsyncSessionOpener
from pytest_smooth.client.async_session import AsyncSmoothSession
from pytest_smooth.client.drivers import drive_async

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets).
__tracebackhide__ = True

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AsyncSmoothClient"]

T = TypeVar("T")


class AsyncSmoothClient(ClientFlows[httpx.AsyncClient]):
    """Asynchronous Smooth client: the same methods as ``SmoothClient``, awaited."""

    def _new_http(self, timeout: httpx.Timeout) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=timeout)

    async def _sleep(self, seconds: float) -> None:  # tests swap it for a fake clock's
        await asyncio.sleep(seconds)

    async def _drive(self, flow: Flow[T]) -> T:
        return await drive_async(flow, self._http, self._sleep)

    def session(
        self,
        *,
        timeout: Timeout = NOT_GIVEN,
        tools: Mapping[str, Tool] | None = None,
        start_timeout: float | None = DEFAULT_SESSION_START_TIMEOUT,
        **options: Any,
    ) -> AsyncSessionOpener:
        """Open a session: ``await client.session()`` or ``async with client.session() as s``.

        It returns once the browser runs (the task left ``waiting``), within ``start_timeout``
        seconds (None: do not wait); a session that does not start is deleted.
        """
        opened = self._open_session_flow(
            lambda task: AsyncSmoothSession(self, task, timeout=timeout, tools=tools),
            start_timeout,
            options,
            tools,
        )
        return AsyncSessionOpener(lambda: self._drive(opened))

    async def run(self, task: str, *, timeout: Timeout = NOT_GIVEN, **options: Any) -> TaskResponse:
        return await self._drive(self._run_flow(task, self._action_timeout(timeout), **options))

    async def get_task(self, task_id: str, *, event_t: int = 0) -> TaskResponse:
        return await self._drive(self._get_task_flow(task_id, {"event_t": event_t}))

    async def delete_task(self, task_id: str) -> bool:
        return await self._drive(self._delete_task_flow(task_id))

    async def create_profile(self, profile_id: str | None = None) -> ProfileResponse:
        return await self._drive(self._create_profile_flow(profile_id))

    async def list_profiles(self) -> list[ProfileResponse]:
        return await self._drive(self._list_profiles_flow())

    async def delete_profile(self, profile_id: str) -> bool:
        return await self._drive(self._delete_flow(f"profile/{profile_id}"))

    async def upload_file(
        self, file: FileInput, name: str | None = None, purpose: str | None = None
    ) -> UploadResponse:
        return await self._drive(self._upload_file_flow(file, name, purpose))

    async def delete_file(self, file_id: str) -> bool:
        return await self._drive(self._delete_flow(f"file/{file_id}"))

    async def upload_extension(self, file: FileInput, name: str | None = None) -> UploadResponse:
        return await self._drive(self._upload_extension_flow(file, name))

    async def list_extensions(self) -> list[Extension]:
        return await self._drive(self._list_extensions_flow())

    async def delete_extension(self, extension_id: str) -> bool:
        return await self._drive(self._delete_flow(f"extension/{extension_id}"))

    async def artifact(self, task_id: str, name: str) -> bytes:
        return await self._drive(self._artifact_flow(task_id, name))

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    close = aclose

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
