"""pytest-smooth: browser-driven end-to-end tests on Smooth, with an embedded local backend.

The client core (``SmoothClient``, ``AsyncSmoothClient`` and their sessions) imports no pytest;
the pytest-facing helpers (``assert_js``, ``assert_extract``) load lazily, after being
registered for assertion rewriting, so their plain ``assert`` statements give pytest's diffs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from ._async_client import AsyncSmoothClient
from ._async_session import AsyncSmoothSession
from ._client import SmoothClient
from ._exceptions import AuthenticationError
from ._exceptions import BadRequestError
from ._exceptions import ConflictError
from ._exceptions import InternalServerError
from ._exceptions import NotFoundError
from ._exceptions import PermissionDeniedError
from ._exceptions import RateLimitError
from ._exceptions import RequestTooLargeError
from ._exceptions import SessionClosedError
from ._exceptions import SmoothActionError
from ._exceptions import SmoothActionServerError
from ._exceptions import SmoothAPIError
from ._exceptions import SmoothConnectionError
from ._exceptions import SmoothError
from ._exceptions import SmoothInputError
from ._exceptions import SmoothProtocolError
from ._exceptions import SmoothStatusError
from ._exceptions import SmoothTimeoutError
from ._exceptions import TaskFailedError
from ._exceptions import UnprocessableEntityError
from ._expect import expect
from ._models import ActionRecord
from ._models import TaskResponse
from ._session import SmoothSession
from ._types import NOT_GIVEN

if TYPE_CHECKING:
    from .assertions import SmoothExpectationError
    from .assertions import SmoothSoftExpectationsError
    from .assertions import assert_extract
    from .assertions import assert_js

__version__ = "0.1.0"

__all__ = [
    "NOT_GIVEN",
    "ActionRecord",
    "AsyncSmoothClient",
    "AsyncSmoothSession",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
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

        pytest.register_assert_rewrite("pytest_smooth.assertions")
        from . import assertions

        return getattr(assertions, name)
    raise AttributeError(f"module 'pytest_smooth' has no attribute {name!r}")
