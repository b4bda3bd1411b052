"""What the local backend only approximated, and how the client tells the test.

The local backend adds an ``approximations`` field to an action's reply (inside the nested
``{"output", "credits_used", "duration"}`` object, which the official SDK reads by key and so
ignores): a list of ``{"what": ..., "detail": ...}``, one per part of the request it could not
apply as the cloud would. The client copies them into the action's ``ActionRecord`` and then
either issues a ``SmoothFidelityWarning`` (the default) or, in strict mode, raises a
``SmoothFidelityError``. Nothing here performs I/O.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any
from typing import Final

from pytest_smooth._core.exceptions import SmoothFidelityError
from pytest_smooth._core.exceptions import SmoothFidelityWarning

# pytest hides frames of modules that set this: a strict-mode failure ends at the user's call.
__tracebackhide__ = True

__all__ = [
    "APPROXIMATIONS_KEY",
    "ENV_LOCAL_STRICT",
    "approximation",
    "fidelity_message",
    "parse_approximations",
    "report_approximations",
    "strict_from_env",
]

APPROXIMATIONS_KEY: Final = "approximations"
ENV_LOCAL_STRICT: Final = "SMOOTH_LOCAL_STRICT"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_PACKAGE: Final = "pytest_smooth."


def approximation(what: str, detail: str) -> dict[str, str]:
    """Return one entry of the ``approximations`` field."""
    return {"what": what, "detail": detail}


def strict_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``SMOOTH_LOCAL_STRICT`` asks for strict mode (1, true, yes, on)."""
    env = os.environ if environ is None else environ
    return env.get(ENV_LOCAL_STRICT, "").strip().lower() in _TRUE


def parse_approximations(raw: Any) -> list[dict[str, str]]:
    """Read the field tolerantly: a list of objects with ``what``/``detail`` (or strings)."""
    if not isinstance(raw, list):
        return []
    found = []
    for entry in raw:
        if isinstance(entry, Mapping):
            what, detail = entry.get("what"), entry.get("detail")
            if isinstance(what, str) and what:
                found.append(approximation(what, detail if isinstance(detail, str) else ""))
        elif isinstance(entry, str) and entry:
            found.append(approximation(entry, ""))
    return found


def fidelity_message(subject: str, action: str, approximations: list[dict[str, str]]) -> str:
    """Say which test, which action and what was approximated, in one line per approximation."""
    parts = [f"{a['what']}: {a['detail']}" if a["detail"] else a["what"] for a in approximations]
    return (
        f"{subject}: {action} on the local backend is an approximation ("
        + "; ".join(parts)
        + "); the cloud may answer otherwise"
    )


def _user_stacklevel() -> int:
    """Return the ``stacklevel`` that points a warning at the first caller outside our package.

    The flows run inside generators driven by the sync or the async driver, so a fixed
    stacklevel would land in our own frames; pytest's summary should show the test's line.
    """
    frame = sys._getframe(2)  # the caller of report_approximations
    level = 2
    while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).startswith(
        _PACKAGE
    ):
        frame = frame.f_back
        level += 1
    return level


def report_approximations(
    subject: str,
    action: str,
    approximations: list[dict[str, str]],
    *,
    strict: bool,
    output: Any = None,
) -> None:
    """Warn (``SmoothFidelityWarning``) or, when ``strict``, raise ``SmoothFidelityError``."""
    if not approximations:
        return
    message = fidelity_message(subject, action, approximations)
    if strict:
        raise SmoothFidelityError(
            message + " (strict mode: --smooth-local-strict / SMOOTH_LOCAL_STRICT)",
            action=action,
            approximations=approximations,
            output=output,
        )
    warnings.warn(message, SmoothFidelityWarning, stacklevel=_user_stacklevel())
