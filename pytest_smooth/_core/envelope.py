"""Reading what the server answered: the ``{"r": ...}`` envelope, errors, reply models.

``EnvelopeReader`` is the part of ``BaseSmoothClient`` that turns an ``httpx.Response`` into a
value or into the exception of the one tree (``exceptions.status_error_for``), with every
message redacted. Pure: it reads responses, it never sends.
"""

from __future__ import annotations

import json
from typing import Any
from typing import TypeVar

import httpx
import pydantic

from pytest_smooth._core.exceptions import SmoothConnectionError
from pytest_smooth._core.exceptions import SmoothProtocolError
from pytest_smooth._core.exceptions import SmoothStatusError
from pytest_smooth._core.exceptions import SmoothTimeoutError
from pytest_smooth._core.exceptions import TaskFailedError
from pytest_smooth._core.exceptions import status_error_for
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.redact import Redactor
from pytest_smooth._core.retry import parse_retry_after

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets).
__tracebackhide__ = True

__all__ = ["EnvelopeReader", "snippet"]

M = TypeVar("M", bound=pydantic.BaseModel)
_SNIPPET = 200


class EnvelopeReader:
    """Unwrap replies and map failures; the client supplies ``redactor`` and ``api_url``."""

    redactor: Redactor
    api_url: str

    def _parse(self, response: httpx.Response, method: str) -> Any:
        """Unwrap ``{"r": ...}`` from a success, or raise the error that the status maps to."""
        url = str(response.request.url)
        where = f"{method} {self._path(url)}"
        try:
            body = response.json()
        except ValueError:
            body = _NOT_JSON
        if response.is_error:
            raise self._status_error(response, body, where, method, url)
        if isinstance(body, dict) and "r" in body:
            return body["r"]
        # Not JSON at all (a proxy's page, a cut body): no usable response, retryable for GET.
        # JSON of the wrong shape: the server breaks the protocol, and retrying will not help.
        not_json = body is _NOT_JSON
        cls = SmoothConnectionError if not_json else SmoothProtocolError
        kind = "a non-JSON body" if not_json else "a body without 'r'"
        raise cls(
            self.redactor.redact(
                f"{where} returned HTTP {response.status_code} with {kind}"
                f" ({response.headers.get('content-type', 'no content type')}):"
                f" {snippet(response.text)}"
            ),
            method=method,
            url=url,
        )

    def _status_error(
        self, response: httpx.Response, body: Any, where: str, method: str, url: str
    ) -> SmoothStatusError:
        if isinstance(body, dict) and "detail" in body:
            detail = self.redactor.redact_value(body["detail"])
        elif body is _NOT_JSON:
            detail = self.redactor.redact(snippet(response.text))
        else:
            detail = self.redactor.redact_value(body)
        text = detail if isinstance(detail, str) else json.dumps(detail, default=str)
        status = response.status_code
        cls = status_error_for(status)
        return cls(
            self.redactor.redact(f"{where} failed: HTTP {status} {response.reason_phrase}: {text}"),
            status_code=status,
            detail=detail,
            method=method,
            url=url,
            retry_after=parse_retry_after(response.headers),
        )

    def _transport_error(self, error: Exception, method: str, url: str) -> SmoothConnectionError:
        where = f"{method} {self._path(url)}"
        timed_out = isinstance(error, httpx.TimeoutException)
        cls = SmoothTimeoutError if timed_out else SmoothConnectionError
        text = str(error) or type(error).__name__
        return cls(self.redactor.redact(f"{where}: {text}"), method=method, url=url)

    def _model(self, cls: type[M], value: Any, what: str) -> M:
        try:
            return cls.model_validate(value)
        except pydantic.ValidationError as err:
            raise SmoothProtocolError(
                self.redactor.redact(f"{what}: unexpected reply shape: {snippet(repr(value))}")
            ) from err

    def _finished(self, response: TaskResponse) -> TaskResponse:
        """Return a task that ended ``done``; raise TaskFailedError for failed or cancelled."""
        if response.status == "done":
            return response
        output = self.redactor.redact_value(response.output)
        raise TaskFailedError(
            self.redactor.redact(
                f"task {response.id} ended {response.status}: {snippet(repr(output))}"
            ),
            task_id=response.id,
            status=response.status,
            output=output,
        )

    def _path(self, url: str) -> str:
        return url[len(self.api_url) :] if url.startswith(self.api_url) else url


class _NotJson:
    def __repr__(self) -> str:
        return "<not JSON>"


_NOT_JSON: Any = _NotJson()


def snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else f"{text[:_SNIPPET]}... ({len(text)} chars)"
