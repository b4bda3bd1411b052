"""The one exception tree of pytest-smooth.

::

    SmoothError
    ├── SmoothAPIError                     anything that came from talking to the API
    │   ├── SmoothStatusError              an HTTP error status (carries status_code, detail)
    │   │   ├── BadRequestError            400
    │   │   ├── AuthenticationError        401
    │   │   ├── PermissionDeniedError      403
    │   │   ├── NotFoundError              404
    │   │   ├── ConflictError              409
    │   │   ├── RequestTooLargeError       413
    │   │   ├── UnprocessableEntityError   422
    │   │   ├── RateLimitError             429 (over the concurrent-session limit)
    │   │   │   └── CreditsExhaustedError  429 whose detail says the credits ran out
    │   │   └── InternalServerError        >= 500
    │   ├── SmoothConnectionError          no usable HTTP response (network, bad body)
    │   │   └── SmoothTimeoutError         a request or an action ran past its limit
    │   └── SmoothProtocolError            a reply that breaks the wire protocol
    ├── SmoothActionError                  an action reply with code 400 (the server's message)
    │   └── SmoothActionServerError        an action reply with code 500
    ├── SmoothFidelityError                the local backend approximated part of a request
    │                                      (raised instead of the warning in strict mode)
    ├── SmoothFidelityWarning              the same as a warning (also a UserWarning)
    ├── SessionClosedError                 an action on a session that is closed or finished
    ├── TaskFailedError                    a one-shot task that ended failed or cancelled
    └── SmoothInputError                   a bad argument, refused before anything is sent
                                           (also a ValueError and a TypeError)

Configuration mistakes in pytest are ``pytest.UsageError``, not part of this tree.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CreditsExhaustedError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "SessionClosedError",
    "SmoothAPIError",
    "SmoothActionError",
    "SmoothActionServerError",
    "SmoothConnectionError",
    "SmoothError",
    "SmoothFidelityError",
    "SmoothFidelityWarning",
    "SmoothInputError",
    "SmoothProtocolError",
    "SmoothStatusError",
    "SmoothTimeoutError",
    "TaskFailedError",
    "UnprocessableEntityError",
    "status_error_for",
]


class SmoothError(Exception):
    """Root of every error pytest-smooth raises."""


class SmoothAPIError(SmoothError):
    """Talking to the Smooth API went wrong. ``method`` and ``url`` name the request."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url


class SmoothStatusError(SmoothAPIError):
    """The API answered with an error status; ``detail`` is the server's message."""

    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        detail: Any = None,
        method: str | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code
        self.detail = detail
        self.retry_after = retry_after


class BadRequestError(SmoothStatusError):
    status_code = 400


class AuthenticationError(SmoothStatusError):
    status_code = 401


class PermissionDeniedError(SmoothStatusError):
    status_code = 403


class NotFoundError(SmoothStatusError):
    status_code = 404


class ConflictError(SmoothStatusError):
    status_code = 409


class RequestTooLargeError(SmoothStatusError):
    status_code = 413


class UnprocessableEntityError(SmoothStatusError):
    status_code = 422


class RateLimitError(SmoothStatusError):
    status_code = 429


class CreditsExhaustedError(RateLimitError):
    """A 429 whose detail says the account is out of credits: waiting will not help.

    Opening a session retries a plain 429 (the concurrent-session limit) until its start
    timeout, never this one.
    """


class InternalServerError(SmoothStatusError):
    status_code = 500


class SmoothConnectionError(SmoothAPIError):
    """No usable HTTP response: connection refused or reset, or a body that is not JSON."""


class SmoothTimeoutError(SmoothConnectionError):
    """A request or an action did not finish within its limit."""


class SmoothProtocolError(SmoothAPIError):
    """The server's reply does not follow the wire protocol (e.g. an unknown reply code)."""


class SmoothActionError(SmoothError):
    """An action failed: the server replied with code 400. ``message`` is the server's text."""

    def __init__(self, message: str, *, action: str, output: Any = None, code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.action = action
        self.output = output
        self.code = code


class SmoothActionServerError(SmoothActionError):
    """The server failed while executing an action (reply code 500)."""


class SmoothFidelityWarning(SmoothError, UserWarning):
    """The local backend could only approximate part of a request; the cloud may answer otherwise.

    Issued by the client with ``warnings.warn``, so pytest lists it in the warnings summary.
    It is also a ``SmoothError``: under ``-W error::pytest_smooth.SmoothFidelityWarning`` the
    raised warning is caught by ``except SmoothError``.
    """


class SmoothFidelityError(SmoothError):
    """An approximation under strict mode (``local_strict=True``, ``--smooth-local-strict``).

    ``approximations`` lists ``{"what", "detail"}`` as the server gave them; ``output`` is the
    approximate result the action returned.
    """

    def __init__(
        self,
        message: str,
        *,
        action: str,
        approximations: list[dict[str, str]],
        output: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.action = action
        self.approximations = approximations
        self.output = output


class SessionClosedError(SmoothError):
    """The session is closed or finished; no more actions can run on it."""


class TaskFailedError(SmoothError):
    """A one-shot task ended ``failed`` or ``cancelled``."""

    def __init__(self, message: str, *, task_id: str, status: str, output: Any = None) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.status = status
        self.output = output


class SmoothInputError(SmoothError, ValueError, TypeError):
    """A bad argument (e.g. max_steps out of 2..128, a schema that is not a dict or a model).

    Raised by the client before any request, so nothing was sent or billed. It is also a
    ``ValueError`` and a ``TypeError``, as plain Python code would expect.
    """


_STATUS_CLASSES: dict[int, type[SmoothStatusError]] = {
    cls.status_code: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        RequestTooLargeError,
        UnprocessableEntityError,
        RateLimitError,
    )
}


def status_error_for(status_code: int) -> type[SmoothStatusError]:
    """Return the exception class for an HTTP error status (one mapping, used everywhere)."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, SmoothStatusError)
