"""The run's secrets, blanked out of everything the plugin writes or reports.

One ``SecretRegistry`` per run (in ``config.stash``) knows every source of secrets: the API key,
the redactors of the clients the fixtures made and of the sessions a test used (their run_task
secrets and ``redact=`` values), the values a suite registers with the ``smooth_redact`` fixture,
and what ``pytest_smooth_redact`` hook implementations return. ``scrubber`` merges them into one
``Redactor`` for a report; ``scrub_report`` applies it to the report's text (the traceback, the
captured output, the sections), which JUnit and pytest-html read.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any
from typing import Final

import pytest

from pytest_smooth._core.redact import Redactor
from pytest_smooth.plugin.lifecycle import Tracked
from pytest_smooth.plugin.lifecycle import get_settings


class SecretRegistry:
    """Every secret of the run; the clients' redactors learn the suite's own values too."""

    def __init__(self, api_key: str | None) -> None:
        self.own = Redactor([api_key] if api_key else [])
        self._linked: weakref.WeakSet[Redactor] = weakref.WeakSet()
        self._asked = False

    def add(self, *values: str) -> None:
        """Register secrets (strings of 4 characters or more; shorter ones are ignored)."""
        self.own.add(*values)
        for redactor in list(self._linked):
            redactor.add(*values)

    def link(self, redactor: Redactor) -> None:
        """Share secrets with a client's redactor: it learns ours, and we read its own."""
        redactor.merge(self.own)
        self._linked.add(redactor)

    def ask_hooks(self, config: pytest.Config) -> None:
        """Collect ``pytest_smooth_redact`` values once, when every conftest is loaded."""
        if self._asked:
            return
        self._asked = True
        for values in config.hook.pytest_smooth_redact(config=config):
            if values:
                self.add(*[str(v) for v in values])

    def scrubber(self, tracked: Iterable[Tracked] = ()) -> Redactor:
        """Return one redactor knowing every secret of the run and of ``tracked``'s sessions."""
        merged = Redactor()
        merged.merge(self.own, *self._linked)
        merged.merge(*(t.session.redactor for t in tracked))
        return merged


REGISTRY_KEY: Final = pytest.StashKey[SecretRegistry]()


def get_registry(config: pytest.Config) -> SecretRegistry:
    registry = config.stash.get(REGISTRY_KEY, None)
    if registry is None:
        registry = config.stash[REGISTRY_KEY] = SecretRegistry(get_settings(config).api_key)
    return registry


def scrub_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """Blank secrets in the traceback, the captured output and the sections of a report."""
    if not len(redactor):
        return
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = str(report.longrepr)
        clean = redactor.redact(text)
        if clean != text:
            # Only a report that held a secret loses its structured traceback.
            report.longrepr = clean
    report.sections = [(name, redactor.redact(body)) for name, body in report.sections]
    report.user_properties = [
        (name, _scrub_value(redactor, value)) for name, value in report.user_properties
    ]


def _scrub_value(redactor: Redactor, value: Any) -> Any:
    return redactor.redact(value) if isinstance(value, str) else value
