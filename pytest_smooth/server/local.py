"""``LocalServer``: the embedded backend in a daemon thread (uvicorn on loopback, own event loop).

The thread runs one event loop for uvicorn, the store and the executor, so every store call
happens on that loop's thread (``executor.py``). Start-up and shutdown are bounded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from typing_extensions import Self

from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.event_loop import new_event_loop
from pytest_smooth.server.http.app import DEFAULT_REAP_INTERVAL
from pytest_smooth.server.http.app import create_app
from pytest_smooth.server.http.body import DEFAULT_MAX_JSON_BYTES
from pytest_smooth.server.http.body import DEFAULT_MAX_UPLOAD_BYTES
from pytest_smooth.server.profile_folder import ProfileFolder
from pytest_smooth.server.protocol.evidence import Evidence
from pytest_smooth.server.protocol.evidence import EvidenceSource
from pytest_smooth.server.protocol.executor import Executor
from pytest_smooth.server.protocol.executor import executor_stats
from pytest_smooth.server.protocol.executor import start_executor
from pytest_smooth.server.protocol.executor import stop_executor
from pytest_smooth.server.protocol.store import Store

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_START_TIMEOUT = 60.0
DEFAULT_STOP_TIMEOUT = 30.0
# Open long polls hold a connection up to MAX_LONG_POLL; shutdown does not wait for them.
GRACEFUL_SHUTDOWN = 2


class LocalServer:
    """The Smooth-compatible local backend. ``with LocalServer() as server: server.base_url``.

    ``profiles_dir``: keep profiles (cookies and storage) in that folder, mode 0700, so other
    servers and later runs that use it share them; without it they live in memory only.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        browser: str | None = None,
        headless: bool = True,
        prewarm: int = 2,
        idle_timeout: float = 300.0,
        max_body_bytes: int = DEFAULT_MAX_JSON_BYTES,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        llm_url: str | None = None,
        llm_model: str | None = None,
        tracing: bool = True,
        executor: Executor | None = None,
        executor_factory: Callable[[], Executor] | None = None,
        reap_interval: float = DEFAULT_REAP_INTERVAL,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
        profiles_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"LocalServer listens on loopback only, not {host!r}: use one of "
                f"{', '.join(sorted(LOOPBACK_HOSTS))}"
            )
        self.host = host
        self.port = port
        self.api_key = api_key or secrets.token_urlsafe(24)
        self._browser = browser
        self._headless = headless
        self._prewarm = prewarm
        self._llm = (llm_url, llm_model)
        self.tracing = tracing  # False: no Playwright tracing; trace.zip is a 409
        self._executor = executor
        self._factory = executor_factory
        self._limits = (max_body_bytes, max_upload_bytes)
        self._reap_interval = reap_interval
        self._timeouts = (start_timeout, stop_timeout)
        self.store = Store(idle_timeout_ms=int(idle_timeout * 1000), save_blob=self._save_blob)
        if profiles_dir is not None:  # profiles persist there, shared with other servers
            self.store.resources.profile_storage = ProfileFolder(profiles_dir)
        self._blob_dir: Path | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._ready = threading.Event()
        self._stop_requested = threading.Event()
        self._failure: BaseException | None = None

    # --- addresses ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The root URL, e.g. ``http://127.0.0.1:9321`` (live and recording pages live here)."""
        host = f"[{self.host}]" if ":" in self.host else "127.0.0.1"
        if self.host == "localhost":
            host = "localhost"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base in the SDK's form, ``http://127.0.0.1:PORT/api/`` (clients add v1)."""
        return f"{self.url}/api/"

    @property
    def executor(self) -> Executor | None:
        return self._executor

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind, start the executor and uvicorn; return once requests are served (bounded)."""
        if self._thread is not None:
            raise RuntimeError("this LocalServer was already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on sockets that say TCP, and without
        # it every reply waits ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self.store.root_url = self.url
        if self._executor is None and self._factory is None:
            self._factory = self._playwright_factory()
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"smooth-local-{self.port}", daemon=True
        )
        self._thread.start()
        start_timeout = self._timeouts[0]
        try:
            ready = self._ready.wait(start_timeout)
        except BaseException:  # Ctrl-C during start-up: still shut the thread down
            self.stop()
            raise
        if not ready:
            self.stop()
            raise TimeoutError(f"the local backend did not start within {start_timeout} s")
        if self._failure is not None:
            self._thread.join(self._timeouts[1])
            raise RuntimeError(f"the local backend failed to start: {self._failure}") from (
                self._failure
            )
        return self

    def stop(self) -> None:
        """Stop serving, close every session and the browser; bounded by ``stop_timeout``."""
        thread = self._thread
        if thread is None:
            return
        # The flag covers a stop during start-up, before uvicorn exists (checked in _serve).
        self._stop_requested.set()
        loop, server = self._loop, self._uvicorn
        if loop is not None and server is not None and not loop.is_closed():
            loop.call_soon_threadsafe(setattr, server, "should_exit", True)
        thread.join(self._timeouts[1])
        if self._blob_dir is not None:
            shutil.rmtree(self._blob_dir, ignore_errors=True)
            self._blob_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """Return the ``/local/stats`` figures, read on the server's loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return self.store.stats()

        async def read() -> dict[str, Any]:
            return self.store.stats()

        future = asyncio.run_coroutine_threadsafe(read(), loop)
        try:
            return future.result(self._timeouts[1])
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise TimeoutError("the local backend did not answer stats() in time") from exc

    # --- inside the server thread ---------------------------------------------------------

    def _playwright_factory(self) -> Callable[[], Executor]:
        target = find_browser(self._browser)  # raises here, in the caller's thread, if none

        def build() -> Executor:
            # Imported here: Playwright loads only when this server drives a real browser.
            from pytest_smooth.server.browser.executor import PlaywrightExecutor

            return PlaywrightExecutor(
                target,
                headless=self._headless,
                prewarm=self._prewarm,
                llm_url=self._llm[0],
                llm_model=self._llm[1],
                tracing=self.tracing,
            )

        return build

    def _save_blob(self, kind: str, blob_id: str, name: str, data: bytes) -> str:
        if self._blob_dir is None:
            self._blob_dir = Path(tempfile.mkdtemp(prefix="pytest-smooth-"))
        folder = self._blob_dir / kind / blob_id
        folder.mkdir(parents=True)
        path = folder / (Path(name).name or "upload")
        path.write_bytes(data)
        return str(path)

    def _run(self, sock: socket.socket) -> None:
        loop = new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(sock))
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._failure = self._failure or exc
        finally:
            self._ready.set()
            sock.close()
            loop.close()

    async def _serve(self, sock: socket.socket) -> None:
        start_timeout, stop_timeout = self._timeouts
        if self._executor is None and self._factory is not None:
            self._executor = self._factory()
        executor = self._executor
        try:
            await start_executor(executor, start_timeout)
            if self._stop_requested.is_set():
                return
            self.store.executor = executor
            self.store.extra_stats = executor_stats(executor)
            await self._uvicorn_serve(sock, executor)
        finally:
            for task_id in [t for t, state in self.store.tasks.items() if not state.finished]:
                self.store.delete_task(task_id)
            await stop_executor(executor, stop_timeout)

    async def _uvicorn_serve(self, sock: socket.socket, executor: Executor | None) -> None:
        app = create_app(
            self.store,
            api_key=self.api_key,
            evidence=Evidence(executor) if isinstance(executor, EvidenceSource) else None,
            max_json_bytes=self._limits[0],
            max_upload_bytes=self._limits[1],
            reap_interval=self._reap_interval,
        )
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        )
        server = self._uvicorn = uvicorn.Server(config)
        if self._stop_requested.is_set():
            return
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.01)  # uvicorn has no "started" event to await
        if not server.started:
            await serving  # raises uvicorn's own error, if it has one
            raise RuntimeError("uvicorn stopped during start-up")
        self._ready.set()
        await serving
