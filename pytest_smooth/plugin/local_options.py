"""Parsers of the local backend's fidelity and LLM options (``settings.py`` resolves them).

``--smooth-local-strict`` (ini ``smooth_local_strict``, env ``SMOOTH_LOCAL_STRICT``) makes each
approximation of the local backend a ``SmoothFidelityError`` instead of a warning: the plugin
sets ``session.local_strict`` on every session it opens, and the client raises. The LLM
fallback is ``--smooth-llm-url`` / ``--smooth-llm-model`` (env ``SMOOTH_LLM_URL`` /
``SMOOTH_LLM_MODEL``), passed to the ``LocalServer`` the plugin starts; its key is read from
``SMOOTH_LLM_API_KEY`` only, so it never sits in a command line or an ini file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import Final

import pytest

from pytest_smooth._core.constants import ENV_LLM_MODEL
from pytest_smooth._core.constants import ENV_LLM_URL
from pytest_smooth._core.fidelity import ENV_LOCAL_STRICT

__all__ = ["LOCAL_OPTIONS", "LOCAL_PARSERS", "parse_bool", "parse_llm_url"]

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def parse_bool(value: str, source: str) -> bool:
    """Read a yes/no option (the bare flag gives ``true``)."""
    lowered = value.strip().lower()
    if lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    raise pytest.UsageError(
        f"pytest-smooth: invalid value {value!r} from {source}; valid: true, false, 1, 0, yes,"
        " no, on, off"
    )


def parse_llm_url(value: str, source: str) -> str:
    """Read the LLM endpoint: an http(s) URL of an OpenAI-compatible API."""
    if not value.startswith(("http://", "https://")):
        raise pytest.UsageError(
            f"pytest-smooth: invalid value {value!r} from {source}; valid: an http:// or"
            " https:// URL of an OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1"
        )
    return value


# ``settings._Option`` arguments: name, help, env, metavar, const (a flag that may stand alone).
LOCAL_OPTIONS: Final[tuple[tuple[str, str, str, str, str | None], ...]] = (
    ("local_strict", "Local backend: approximations fail the test.", ENV_LOCAL_STRICT, "BOOL",
     "true"),
    ("llm_url", "Local backend: an OpenAI-compatible LLM API (key: env SMOOTH_LLM_API_KEY).",
     ENV_LLM_URL, "URL", None),
    ("llm_model", "Local backend: the LLM's model name.", ENV_LLM_MODEL, "NAME", None),
)  # fmt: skip
LOCAL_PARSERS: Final[dict[str, Callable[[str, str], Any]]] = {
    "local_strict": parse_bool,
    "llm_url": parse_llm_url,
    "llm_model": lambda value, _source: value,
}
