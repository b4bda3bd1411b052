"""The pure half of the clients: configuration, URLs, headers, envelope, errors, retries.

Nothing here sends a request or sleeps; ``SmoothClient`` and ``AsyncSmoothClient`` in
``_client.py`` hold only the I/O lines around these methods.
"""

from __future__ import annotations

import importlib.metadata
import os
import time
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from typing import Generic
from typing import TypeVar

import httpx
import pydantic

from pytest_smooth._core.constants import API_KEY_HEADER
from pytest_smooth._core.constants import API_VERSION
from pytest_smooth._core.constants import DEFAULT_ACTION_TIMEOUT
from pytest_smooth._core.constants import DEFAULT_BASE_URL
from pytest_smooth._core.constants import DEFAULT_MAX_RETRIES
from pytest_smooth._core.constants import DEFAULT_REQUEST_TIMEOUT
from pytest_smooth._core.constants import ENV_API_KEY
from pytest_smooth._core.constants import ENV_BASE_URL
from pytest_smooth._core.constants import LONG_POLL_PARAM
from pytest_smooth._core.constants import MAX_LONG_POLL
from pytest_smooth._core.constants import POLL_INTERVAL
from pytest_smooth._core.envelope import EnvelopeReader
from pytest_smooth._core.exceptions import SmoothError
from pytest_smooth._core.exceptions import SmoothInputError
from pytest_smooth._core.models import TaskRequest
from pytest_smooth._core.models import ToolSignature
from pytest_smooth._core.payloads import schema_of
from pytest_smooth._core.redact import Redactor
from pytest_smooth._core.redact import get_logger
from pytest_smooth._core.retry import retry_delay
from pytest_smooth._core.types import NOT_GIVEN
from pytest_smooth._core.types import NotGiven

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets). --full-trace
# shows them.
__tracebackhide__ = True

__all__ = ["BaseSmoothClient", "Timeout", "Tool"]

M = TypeVar("M", bound=pydantic.BaseModel)
# The twin's HTTP client: httpx.Client or httpx.AsyncClient.
H = TypeVar("H", httpx.Client, httpx.AsyncClient)
Timeout = float | None | NotGiven
Tool = Callable[..., Any]

log = get_logger("pytest_smooth.client")

# A held long-poll GET may take its hold plus this much before the read times out.
LONG_POLL_MARGIN = 5.0
# A request inside a deadline may run this much past it, so a reply sent at the deadline lands.
DEADLINE_GRACE = 0.5
_SNIPPET = 200


def _version() -> str:
    try:
        return importlib.metadata.version("pytest-smooth")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source checkout
        return "0+unknown"


USER_AGENT = f"pytest-smooth/{_version()}"


class BaseSmoothClient(EnvelopeReader, Generic[H]):
    """Configuration and pure helpers shared by ``SmoothClient`` and ``AsyncSmoothClient``."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: Timeout = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        request_timeout: httpx.Timeout = DEFAULT_REQUEST_TIMEOUT,
        http_client: H | None = None,
        redact: Iterable[str] = (),
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        if not key:
            raise SmoothError(f"no API key: pass api_key=... or set the {ENV_API_KEY} variable")
        base = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
        if max_retries < 0:
            raise SmoothInputError(f"max_retries must be >= 0, got {max_retries}")
        self._api_key = key
        self.base_url = base
        self.api_url = f"{base.rstrip('/')}/{API_VERSION}"
        self.timeout: float | None = (
            DEFAULT_ACTION_TIMEOUT if isinstance(timeout, NotGiven) else _positive(timeout)
        )
        self.max_retries = max_retries
        self.request_timeout = request_timeout
        self.poll_interval = poll_interval
        self.redactor = Redactor([key, *redact])
        self._owns_http = http_client is None
        self._http: H = http_client or self._new_http(request_timeout)

    def _new_http(self, timeout: httpx.Timeout) -> H:
        """Return the HTTP client to use when none was given (each twin makes its own)."""
        raise NotImplementedError

    def _clock(self) -> float:
        """Return the monotonic time the flows measure deadlines with (tests swap it)."""
        return time.monotonic()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} api_url={self.api_url!r}>"

    @property
    def headers(self) -> dict[str, str]:
        return {
            API_KEY_HEADER: self._api_key,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }

    def _url(self, path: str) -> str:
        return f"{self.api_url}/{path.lstrip('/')}"

    def _action_timeout(
        self, timeout: Timeout, default: float | NotGiven | None = NOT_GIVEN
    ) -> float | None:
        """Resolve a per-call timeout: a number, None (no limit), or NOT_GIVEN (the default)."""
        if not isinstance(timeout, NotGiven):
            return _positive(timeout)
        if not isinstance(default, NotGiven):
            return default
        return self.timeout

    def _poll_timeout(self, wait: float) -> httpx.Timeout:
        """Timeout of a long-poll GET: the hold plus a margin, never less than a plain GET's."""
        read = self.request_timeout.read
        hold = wait + LONG_POLL_MARGIN
        return httpx.Timeout(
            self.request_timeout.connect,
            read=max(hold, read) if read is not None else hold,
            write=self.request_timeout.write,
            pool=self.request_timeout.pool,
        )

    def _event_hold(self, wait: float) -> tuple[dict[str, int] | None, httpx.Timeout | None]:
        """Query and timeout of an action POST that asks for its reply inline (``wait_ms``)."""
        if wait <= 0:
            return None, None
        return {LONG_POLL_PARAM: int(min(wait, MAX_LONG_POLL) * 1000)}, self._poll_timeout(wait)

    @staticmethod
    def _bounded(timeout: httpx.Timeout, deadline: float | None, now: float) -> httpx.Timeout:
        """Cut a request's timeouts so that it ends by the caller's deadline (plus a grace)."""
        if deadline is None:
            return timeout
        cap = max(deadline - now, 0.0) + DEADLINE_GRACE

        def cut(value: float | None) -> float:
            return cap if value is None else min(value, cap)

        return httpx.Timeout(
            connect=cut(timeout.connect),
            read=cut(timeout.read),
            write=cut(timeout.write),
            pool=cut(timeout.pool),
        )

    # --- responses -------------------------------------------------------------------------

    def _retry_delay(
        self,
        method: str,
        attempt: int,
        *,
        response: httpx.Response | None = None,
        error: Exception | None = None,
    ) -> float | None:
        return retry_delay(
            method,
            attempt,
            self.max_retries,
            status_code=None if response is None else response.status_code,
            headers=None if response is None else response.headers,
            error=error,
        )

    def _log(self, method: str, url: str, status: int | str, elapsed: float) -> None:
        log.debug("%s %s -> %s (%.0f ms)", method, self._path(url), status, elapsed * 1000)

    # --- request bodies -----------------------------------------------------------------

    def _task_body(self, task: str | None, **options: Any) -> dict[str, Any]:
        """Build the POST /task body, validated (e.g. max_steps 2..128) before any I/O."""
        options["response_model"] = schema_of(options.get("response_model"))
        tools = options.get("custom_tools")
        if tools is not None:
            options["custom_tools"] = [
                t if isinstance(t, ToolSignature) else ToolSignature.model_validate(t)
                for t in tools
            ]
        try:
            request = TaskRequest(task=task, **options)
        except pydantic.ValidationError as err:
            raise SmoothInputError(self.redactor.redact(f"invalid task options: {err}")) from None
        return request.model_dump(mode="json", by_alias=True, exclude_none=True)


def _positive(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if timeout <= 0:
        raise SmoothInputError(f"timeout must be > 0 seconds or None, got {timeout!r}")
    return float(timeout)
