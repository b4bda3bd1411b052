"""Deadlines and the retry policy of one HTTP request (pure: no I/O, no clock of its own).

``retry_delay`` decides whether one failed request may be sent again, and after how long: GET
and DELETE on 408/429/5xx and transport errors, with backoff and ``Retry-After``; POST only when
nothing was sent (Smooth has no idempotency key). ``open_retry_delay`` is the one exception: a
429 on opening a session means the server refused it (over the concurrent-session limit), so
nothing was created and the same POST may go again; ``credits_exhausted`` tells that 429 from
the one that no wait can cure.
"""

from __future__ import annotations

import email.utils
import math
import random
import re
import time
from collections.abc import Callable
from collections.abc import Mapping

import httpx

from pytest_smooth._core.constants import INITIAL_RETRY_DELAY
from pytest_smooth._core.constants import MAX_LONG_POLL
from pytest_smooth._core.constants import MAX_RETRY_AFTER
from pytest_smooth._core.constants import MAX_RETRY_DELAY
from pytest_smooth._core.constants import RETRYABLE_STATUS_CODES
from pytest_smooth._core.exceptions import CreditsExhaustedError
from pytest_smooth._core.exceptions import RateLimitError

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets).
__tracebackhide__ = True

__all__ = [
    "backoff_delay",
    "credits_exhausted",
    "long_poll_hold",
    "open_refused",
    "open_retry_delay",
    "parse_retry_after",
    "retry_delay",
    "retry_would_be_late",
    "seconds_left",
    "sleep_within",
    "unreadable_body",
]


# --- deadlines -----------------------------------------------------------------------------


def seconds_left(deadline: float | None, now: float) -> float | None:
    """Return the seconds left until ``deadline`` (None: no deadline)."""
    return None if deadline is None else deadline - now


def long_poll_hold(left: float | None) -> float:
    """Return how long the server may hold a long-poll request, given the seconds left."""
    return MAX_LONG_POLL if left is None else max(min(left, MAX_LONG_POLL), 0.0)


def sleep_within(delay: float, deadline: float | None, now: float) -> float:
    """Return ``delay``, shortened so that a sleep of it ends by ``deadline``."""
    return delay if deadline is None else max(min(delay, deadline - now), 0.0)


def retry_would_be_late(deadline: float | None, now: float, delay: float) -> bool:
    """Tell whether a retry after ``delay`` would start after the caller's deadline."""
    return deadline is not None and now + delay >= deadline


def unreadable_body(error: Exception) -> httpx.TransportError:
    """Describe an unreadable 2xx body as a transport error, for the retry decision."""
    return httpx.RemoteProtocolError(str(error))


# --- retries --------------------------------------------------------------------------------

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``Retry-After`` (seconds or HTTP-date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return max(value, 0.0)
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        value = parsed.timestamp() - (time.time() if now is None else now)
    return max(value, 0.0) if math.isfinite(value) else None


def retry_delay(
    method: str,
    attempt: int,
    max_retries: int,
    *,
    status_code: int | None = None,
    headers: Mapping[str, str] | None = None,
    error: Exception | None = None,
    rand: Callable[[], float] = random.random,
    now: float | None = None,
) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``, or None to give up now.

    GET and DELETE are retried on 408/429/5xx and transport errors. Other methods (POST /task
    and POST /task/{id}/event above all: Smooth has no idempotency key) are retried only when
    the connection failed before anything was sent.
    """
    if attempt >= max_retries:
        return None
    method = method.upper()
    if error is not None:
        sent_nothing = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout))
        transient = method in _IDEMPOTENT and isinstance(error, httpx.TransportError)
        if not (sent_nothing or transient):
            return None
    elif method not in _IDEMPOTENT or status_code not in RETRYABLE_STATUS_CODES:
        return None
    after = parse_retry_after(headers, now=now) if headers is not None else None
    if after is not None:
        # Retrying sooner than the server asks only earns another 429: give up instead.
        return after if after <= MAX_RETRY_AFTER else None
    return backoff_delay(attempt, rand)


def backoff_delay(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Return the jittered exponential backoff before retry number ``attempt + 1``."""
    base = min(INITIAL_RETRY_DELAY * 2.0**attempt, MAX_RETRY_DELAY)
    return base * (1 - 0.25 * rand())


# Words of a 429 detail that mean "out of credits" rather than "too many sessions at once".
_CREDITS_WORDS = re.compile(r"credit|balance|billing|payment|top[ -]?up|insufficient", re.I)


def credits_exhausted(detail: object) -> bool:
    """Tell whether a 429's ``detail`` says the account ran out of credits (not retryable).

    Smooth answers 429 both over the concurrent-session limit and when the credits are gone
    (smooth-api.md 1.1); only the detail tells them apart.
    """
    return bool(_CREDITS_WORDS.search(str(detail or "")))


def open_retry_delay(
    attempt: int, retry_after: float | None, *, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before POST /task again after a concurrency-limit 429.

    ``Retry-After`` when the server gives one, else backoff with jitter; the caller bounds
    the waiting by the session's start timeout.
    """
    return retry_after if retry_after is not None else backoff_delay(attempt, rand)


def open_refused(err: RateLimitError, tries: int, waited: float) -> RateLimitError:
    """Return the error that ends opening a session after 429s: no credits, or still limited."""
    if credits_exhausted(err.detail):
        cls: type[RateLimitError] = CreditsExhaustedError
        why = "the account is out of credits: no session opens until it is topped up; not retried"
    else:
        cls = RateLimitError
        why = (
            f"still over the concurrent-session limit after {tries} tries in {waited:.1f} s,"
            " and the session's start timeout ends before another: set --smooth-max-sessions"
            " to the plan's limit"
        )
    return cls(
        f"{err.message} ({why})",
        status_code=err.status_code,
        detail=err.detail,
        method=err.method,
        url=err.url,
        retry_after=err.retry_after,
    )
