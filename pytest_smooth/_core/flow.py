"""The sans-IO vocabulary of the client: what a flow asks its driver to do.

A flow is a generator. It yields an effect (send this request, sleep so long, call this tool),
and the driver performs it and sends back the result (an ``httpx.Response``, ``None``, the
tool's return value), or throws the exception it raised into the flow. Every loop of the client
(a request with its retries, an action and its wait, polling until a status, a one-shot run) is
written once as a flow; ``_drivers`` runs it with httpx.Client + time.sleep or with
httpx.AsyncClient + asyncio.sleep, as httpx's ``auth_flow`` is driven (``httpx/_auth.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TypeVar

import httpx

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets).
__tracebackhide__ = True

__all__ = ["CallTool", "Effect", "Flow", "Send", "Sleep"]

T = TypeVar("T")


@dataclass(frozen=True)
class Send:
    """Send one HTTP request; the driver answers with the ``httpx.Response``."""

    method: str
    url: str
    timeout: httpx.Timeout
    options: Mapping[str, Any] = field(default_factory=dict)  # headers, params, json, files...


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds``; the driver answers with None."""

    seconds: float


@dataclass(frozen=True)
class CallTool:
    """Call a client-side tool with keyword arguments (awaited if it returns an awaitable)."""

    function: Callable[..., Any]
    arguments: Mapping[str, Any]


Effect = Send | Sleep | CallTool
Flow = Generator[Effect, Any, T]
