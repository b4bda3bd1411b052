"""Secret redaction for logs, event logs, reports and exception messages.

A ``Redactor`` holds secret strings (the API key, run_task secrets, anything registered) and
replaces them with ``***`` in text and in nested JSON-like values. ``RedactingFilter`` applies
every live redactor to the records of the ``pytest_smooth`` logger.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import weakref
import zipfile
from collections.abc import Iterable
from collections.abc import Mapping
from io import BytesIO
from typing import Any
from urllib.parse import quote
from urllib.parse import quote_plus

from pytest_smooth._core.constants import ENV_LOG_LEVEL
from pytest_smooth._core.constants import REDACTED

__all__ = [
    "LOGGER_NAME",
    "MIN_SECRET_LENGTH",
    "RedactingFilter",
    "Redactor",
    "configure_from_env",
    "get_logger",
]

LOGGER_NAME = "pytest_smooth"
# Shorter strings would turn ordinary words ("a", "id", "on") into *** everywhere.
MIN_SECRET_LENGTH = 4

_live: weakref.WeakSet[Redactor] = weakref.WeakSet()
_live_lock = threading.Lock()


def _variants(secret: str) -> set[str]:
    # The same secret as it appears in a JSON body or a URL query.
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}


class Redactor:
    """A thread-safe set of secret strings, and the functions that blank them out."""

    def __init__(self, secrets: Iterable[str] = (), *, placeholder: str = REDACTED) -> None:
        self.placeholder = placeholder
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)
        with _live_lock:
            _live.add(self)

    def add(self, *secrets: str | None) -> None:
        """Register secrets; None, non-strings and strings under 4 characters are ignored."""
        fresh = {
            variant
            for secret in secrets
            if isinstance(secret, str) and len(secret) >= MIN_SECRET_LENGTH
            for variant in _variants(secret)
        }
        self._register(fresh)

    def merge(self, *others: Redactor) -> None:
        """Register every secret the ``others`` know (their variants as they are)."""
        fresh: set[str] = set()
        for other in others:
            if other is not self:
                with other._lock:
                    fresh |= other._secrets
        self._register(fresh)

    def _register(self, fresh: set[str]) -> None:
        with self._lock:
            if fresh <= self._secrets:
                return
            self._secrets |= fresh
            # Longest first, so a secret that contains another is blanked whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered)))

    def __len__(self) -> int:
        with self._lock:
            return len(self._secrets)

    def __repr__(self) -> str:
        return f"<Redactor: {len(self)} secret variants>"

    def redact(self, text: str) -> str:
        """Return ``text`` with every registered secret replaced by the placeholder."""
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(self.placeholder, text)

    def redact_bytes(self, data: bytes) -> bytes:
        """Return ``data`` with every secret blanked where it appears as UTF-8 text.

        Bytes that are not UTF-8 (images, compressed data) pass through unchanged byte for
        byte: ``surrogateescape`` keeps them round-trippable.
        """
        if self._pattern is None or not data:
            return data
        text = data.decode("utf-8", errors="surrogateescape")
        redacted = self.redact(text)
        if redacted == text:
            return data
        return redacted.encode("utf-8", errors="surrogateescape")

    def redact_zip(self, data: bytes) -> bytes:
        """Return a zip archive (a Playwright trace) with every member's secrets blanked.

        Trace events, network resources and DOM snapshots alike go through :meth:`redact_bytes`.
        """
        if self._pattern is None:
            return data
        out = BytesIO()
        with zipfile.ZipFile(BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
            for info in src.infolist():
                body = self.redact_bytes(src.read(info))
                dst.writestr(info, body, compress_type=info.compress_type)
        return out.getvalue()

    def redact_value(self, value: Any) -> Any:
        """Return a copy of a JSON-like value (dicts, lists, strings...) with secrets blanked."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {
                (self.redact(k) if isinstance(k, str) else k): self.redact_value(v)
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return type(value)(self.redact_value(v) for v in value)
        return value


def redact_all(text: str) -> str:
    """Apply every live redactor to ``text`` (what the logging filter does)."""
    with _live_lock:
        redactors = list(_live)
    for redactor in redactors:
        text = redactor.redact(text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that blanks the secrets of every live ``Redactor`` in each record.

    It formats the message (and the traceback, if any) once, redacts it, and stores the result,
    so handlers downstream only ever see redacted text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_all(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_all(record.exc_text)
        return True


_filter = RedactingFilter()


def configure_from_env(environ: Mapping[str, str] | None = None) -> logging.Handler | None:
    """Honour ``SMOOTH_LOG_LEVEL`` (e.g. ``DEBUG``): log the package to stderr at that level.

    The handler carries the redacting filter too, so records from any ``pytest_smooth.*``
    logger are redacted before they are written. Returns the handler it added, if any.
    """
    value = (environ if environ is not None else os.environ).get(ENV_LOG_LEVEL, "").strip()
    if not value:
        return None
    level = logging.getLevelName(value.upper())
    if not isinstance(level, int):
        raise ValueError(
            f"{ENV_LOG_LEVEL}={value!r} is not a log level;"
            " use DEBUG, INFO, WARNING, ERROR or CRITICAL"
        )
    root = logging.getLogger(LOGGER_NAME)
    root.setLevel(level)
    for handler in root.handlers:
        if getattr(handler, "_smooth_env_handler", False):
            handler.setLevel(level)
            return handler
    handler = logging.StreamHandler()
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_filter)
    handler._smooth_env_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    return handler


def get_logger(name: str = LOGGER_NAME) -> logging.Logger:
    """Return the logger ``name`` (under ``pytest_smooth``) with the redacting filter attached.

    A logger's filters only see records logged on that very logger, not on its children, so
    every logger the package uses must come from here.
    """
    global _env_configured
    if not _env_configured:
        _env_configured = True
        try:
            configure_from_env()
        except ValueError as exc:
            # Raising here would break every import of the package (and pytest's plugin load).
            sys.stderr.write(f"pytest-smooth: {exc}; logging left unconfigured\n")
    logger = logging.getLogger(name)
    if _filter not in logger.filters:
        logger.addFilter(_filter)
    return logger


_env_configured = False
