"""Named defaults shared by the client core and the local backend (no I/O, no pytest)."""

from __future__ import annotations

from typing import Final

import httpx

DEFAULT_BASE_URL: Final = "https://api.smooth.sh/api/"
API_VERSION: Final = "v1"

ENV_API_KEY: Final = "CIRCLEMIND_API_KEY"
ENV_BASE_URL: Final = "SMOOTH_BASE_URL"
ENV_BACKEND: Final = "SMOOTH_BACKEND"
ENV_BROWSER: Final = "SMOOTH_BROWSER"
ENV_LLM_URL: Final = "SMOOTH_LLM_URL"
ENV_LLM_MODEL: Final = "SMOOTH_LLM_MODEL"
ENV_LLM_API_KEY: Final = "SMOOTH_LLM_API_KEY"
ENV_LOG_LEVEL: Final = "SMOOTH_LOG_LEVEL"

API_KEY_HEADER: Final = "apikey"

# One HTTP request; an action's overall deadline is separate (DEFAULT_ACTION_TIMEOUT).
DEFAULT_REQUEST_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
# How long one action (goto, extract, evaluate_js, run_task, close) may take end to end.
DEFAULT_ACTION_TIMEOUT: Final = 60.0
# Opening a session on the cloud can take seconds; it gets its own, longer deadline.
DEFAULT_SESSION_START_TIMEOUT: Final = 120.0

DEFAULT_MAX_RETRIES: Final = 2
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
MAX_RETRY_AFTER: Final = 60.0
RETRYABLE_STATUS_CODES: Final = frozenset({408, 429, 500, 502, 503, 504})

# Polling: the first re-poll comes fast, then backs off up to POLL_INTERVAL.
MIN_POLL_INTERVAL: Final = 0.02
POLL_INTERVAL: Final = 0.25
# Long-poll hint (our extension, ignored by servers that do not know it): the server may
# hold a GET /task/{id} until a new event arrives, for at most this long.
LONG_POLL_PARAM: Final = "wait_ms"
MAX_LONG_POLL: Final = 10.0

TASK_STATUSES: Final = ("waiting", "running", "done", "failed", "cancelled")
FINISHED_STATUSES: Final = frozenset({"done", "failed", "cancelled"})
DEVICES: Final = ("desktop", "mobile", "desktop-lg")

REDACTED: Final = "***"
