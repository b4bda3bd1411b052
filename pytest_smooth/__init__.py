"""pytest-smooth: browser-driven end-to-end tests on Smooth, with an embedded local backend.

The client core (``SmoothClient``, ``AsyncSmoothClient`` and their sessions) imports no pytest;
the pytest-facing helpers (``assert_js``, ``assert_extract``) load lazily, after being
registered for assertion rewriting, so their plain ``assert`` statements give pytest's diffs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth._core.exceptions import AuthenticationError
from pytest_smooth._core.exceptions import BadRequestError
from pytest_smooth._core.exceptions import ConflictError
from pytest_smooth._core.exceptions import CreditsExhaustedError
from pytest_smooth._core.exceptions import InternalServerError
from pytest_smooth._core.exceptions import NotFoundError
from pytest_smooth._core.exceptions import PermissionDeniedError
from pytest_smooth._core.exceptions import RateLimitError
from pytest_smooth._core.exceptions import RequestTooLargeError
from pytest_smooth._core.exceptions import SessionClosedError
from pytest_smooth._core.exceptions import SmoothActionError
from pytest_smooth._core.exceptions import SmoothActionServerError
from pytest_smooth._core.exceptions import SmoothAPIError
from pytest_smooth._core.exceptions import SmoothConnectionError
from pytest_smooth._core.exceptions import SmoothError
from pytest_smooth._core.exceptions import SmoothFidelityError
from pytest_smooth._core.exceptions import SmoothFidelityWarning
from pytest_smooth._core.exceptions import SmoothInputError
from pytest_smooth._core.exceptions import SmoothProtocolError
from pytest_smooth._core.exceptions import SmoothStatusError
from pytest_smooth._core.exceptions import SmoothTimeoutError
from pytest_smooth._core.exceptions import TaskFailedError
from pytest_smooth._core.exceptions import UnprocessableEntityError
from pytest_smooth._core.models import ActionRecord
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.types import NOT_GIVEN
from pytest_smooth.client.async_client import AsyncSmoothClient
from pytest_smooth.client.async_session import AsyncSmoothSession
from pytest_smooth.client.sync_client import SmoothClient
from pytest_smooth.client.sync_session import SmoothSession
from pytest_smooth.expect.entry import expect

if TYPE_CHECKING:
    from pytest_smooth.plugin.assertions import SmoothExpectationError
    from pytest_smooth.plugin.assertions import SmoothSoftExpectationsError
    from pytest_smooth.plugin.assertions import assert_extract
    from pytest_smooth.plugin.assertions import assert_js

__version__ = "0.1.0"

__all__ = [
    "NOT_GIVEN",
    "ActionRecord",
    "AsyncSmoothClient",
    "AsyncSmoothSession",
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
    "SmoothClient",
    "SmoothConnectionError",
    "SmoothError",
    "SmoothExpectationError",
    "SmoothFidelityError",
    "SmoothFidelityWarning",
    "SmoothInputError",
    "SmoothProtocolError",
    "SmoothSession",
    "SmoothSoftExpectationsError",
    "SmoothStatusError",
    "SmoothTimeoutError",
    "TaskFailedError",
    "TaskResponse",
    "UnprocessableEntityError",
    "__version__",
    "assert_extract",
    "assert_js",
    "expect",
]

_PYTEST_FACING = frozenset(
    {"SmoothExpectationError", "SmoothSoftExpectationsError", "assert_extract", "assert_js"}
)


def __getattr__(name: str) -> Any:
    if name in _PYTEST_FACING:
        import pytest

        pytest.register_assert_rewrite("pytest_smooth.plugin.assertions")
        from pytest_smooth.plugin import assertions

        return getattr(assertions, name)
    raise AttributeError(f"module 'pytest_smooth' has no attribute {name!r}")
