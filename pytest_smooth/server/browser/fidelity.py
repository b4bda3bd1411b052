"""What one local session cannot do as the cloud would, said in its replies (``approximations``).

Session options that the local backend does not apply are found once, when the session opens,
and go out with the session's first successful reply; what an action only approximated (an
``extract`` prompt the DOM reader cannot honour) goes out with that action's reply. The client
turns each into a ``SmoothFidelityWarning``, or an error in strict mode (``_core/fidelity.py``).

Options left at their defaults are not flagged: the cloud's stealth, ad blocker and captcha
solver are on by default and have no local counterpart, so flagging them would flag every
session; they are listed in the README instead.
"""

from __future__ import annotations

from typing import Any

from pytest_smooth._core.fidelity import APPROXIMATIONS_KEY
from pytest_smooth._core.fidelity import approximation
from pytest_smooth._core.models import TaskRequest

__all__ = ["FidelityNotes", "reply_output", "session_approximations"]


def session_approximations(request: TaskRequest) -> list[dict[str, str]]:
    """List the options of ``request`` that the local backend ignores or only approximates."""
    notes = []
    if request.stealth_mode:
        notes.append(_option("stealth_mode", "the local Chromium has no stealth mode"))
    if request.proxy_server:
        notes.append(
            _option("proxy_server", "requests go out directly from this machine, not through it")
        )
    if request.certificates:
        notes.append(_option("certificates", "client certificates are not installed locally"))
    if request.additional_tools:
        names = ", ".join(sorted(request.additional_tools))
        notes.append(
            _option("additional_tools", f"the local agent has no built-in tools ({names})")
        )
    if request.experimental_features:
        names = ", ".join(sorted(request.experimental_features))
        notes.append(_option("experimental_features", f"not available locally ({names})"))
    if request.show_cursor:
        notes.append(_option("show_cursor", "the local recording shows no cursor"))
    if request.agent != "smooth":
        notes.append(_option("agent", f"{request.agent!r}: the local backend has one agent"))
    return notes


def _option(name: str, detail: str) -> dict[str, str]:
    return approximation(f"session option {name}", detail)


class FidelityNotes:
    """The approximations of one session: its options' (sent once) and the current action's."""

    def __init__(self, session_notes: list[dict[str, str]]) -> None:
        self.session = list(session_notes)
        self.action: list[dict[str, str]] = []

    def add_session(self, what: str, detail: str) -> None:
        """Add a session-level approximation found later (extensions on a remote browser)."""
        self.session.append(approximation(what, detail))

    def start(self) -> None:
        """Begin a new action: forget the previous action's notes."""
        self.action = []

    def take(self) -> list[dict[str, str]]:
        """Return what the next successful reply carries (the session's notes only once)."""
        taken, self.session = self.session + self.action, []
        self.action = []
        return taken


def reply_output(action: str, value: Any, duration: float, notes: list[dict[str, str]]) -> Any:
    """Build the nested output of a code-200 reply, with ``approximations`` when there are any."""
    output: dict[str, Any] = {"credits_used": 0, "duration": duration}
    if action != "goto":
        output = {"output": value, **output}
    if notes:
        output[APPROXIMATIONS_KEY] = notes
    return output
